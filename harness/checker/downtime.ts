/**
 * Downtime: for each probe (role probes excepted), the times its clients were not served, built
 * from its completed operations in invoke order.
 *
 * - A failed or unknown operation opens a window at its invoke; the window takes in every non-ok
 *   operation after it and closes at the completion of the next ok one: the moment a client that
 *   tried again had its success. (Closing at that operation's invoke instead under-read the
 *   outage by the time a fresh connection to the new primary takes, ~30 ms here: the precision
 *   benchmark showed it.)
 * - A stall: with a latency objective (the probe's `slo`, recorded in run-start), an ok operation
 *   slower than it was unavailable for the time beyond it: it opens a window at invoke + slo (or,
 *   with one open, extends it) that closes at its completion. Without an slo no operation is a
 *   stall: an ok answer counts as served however long it took.
 * - A window that never closes is `open` and ends at the probe's last observation (its latest
 *   completion), so it measures only what was seen, not the teardown after it.
 *
 * Each edge is known only to within the cadence. `startMs` is when the first client that was not
 * served asked; the outage began between `startLowerMs`, the probe's last completion of an ok
 * operation before it (clients were served then), or for a stall that plus the slo (a client
 * invoking right after it would have waited past its objective from then on), and `startUpperMs`,
 * that first failure's completion: what refused it may have happened at any moment while it was in
 * flight (the precision benchmark showed a SIGKILL landing after the first failed write was sent).
 * `endMs` is the latest it can have ended (a client was served then); the earliest, `endLowerMs`,
 * is the completion of the window's last non-ok operation (a client trying again at that instant
 * might have been served), or `endMs` itself when the closing operation stalled (the probe was
 * waiting, unserved, right up to it) or the window is open. No bound leaves the probe's observed
 * span (first invoke → last completion), and windows never overlap, so the availability checker's
 * share of time (1 − downtime / span, from these same windows) agrees with the totals here.
 *
 * Totals come from the headline probe; `windows` lists every probe's.
 */
import type { HistoryContext } from "../history/context.ts";
import type { OpType, Outcome } from "../history/events.ts";
import { isCompleted, type CompletedOperation, type Operation } from "../history/operations.ts";
import type { DowntimeTotals, DowntimeWindow, Metrics } from "../result.ts";
import { defineChecker, ratio, sharedPass, type CheckerOutput, type SharedPass } from "./checker.ts";
import { ProbeList } from "./probes.ts";

export type DowntimeMetrics = Metrics["downtime"];

export const downtimeChecker = defineChecker<DowntimeMetrics>({
  empty: () => ({ windows: [], ...totals([]), byProbe: {} }),
  start(context) {
    const pass = windowPass(context);
    return {
      operation: pass.operation,
      finish(): CheckerOutput<DowntimeMetrics> {
        const reading = pass.result();
        const byProbe: DowntimeMetrics["byProbe"] = {};
        const windows: DowntimeWindow[] = [];
        for (const probe of reading.probes) {
          windows.push(...probe.timeline.windows);
          byProbe[probe.name] = totals(probe.timeline.windows);
        }
        const headline = reading.headline;
        if (!headline)
          return {
            valid: "unknown",
            metrics: { ...downtimeChecker.empty(), windows, byProbe },
            reason: "no select1 or writes probe operations recorded",
          };
        return { valid: true, metrics: { windows, ...byProbe[headline.name]!, byProbe } };
      },
    };
  },
});

/** What each probe's completed operations showed: its windows and span, and its operation counts (all, and from the first disruption). */
export interface ProbeReading {
  name: string;
  type: OpType;
  timeline: ProbeTimeline;
  sloMs: number | null;
  counts: OperationCounts;
  countsFromFault: OperationCounts;
}

export interface WindowReading {
  /** In order of each probe's first operation; role probes excepted. */
  probes: ProbeReading[];
  /** The first select1 probe, else the first writes probe. */
  headline: ProbeReading | null;
}

/** The windows fold, once per History: the downtime and availability checkers both read it. */
export function windowPass(context: HistoryContext): SharedPass<WindowReading> {
  return sharedPass(context, windowFold, windowFold);
}

function windowFold(context: HistoryContext): { operation(operation: Operation): void; finish(): WindowReading } {
  const probes = new ProbeList();
  const trackers = new WindowTrackers(context);
  const all = new Map<string, OperationCounts>();
  const fromFault = new Map<string, OperationCounts>();
  const faultAt = context.firstDisruptionAt;
  const countsOf = (map: Map<string, OperationCounts>, probe: string) => {
    let counts = map.get(probe);
    if (!counts) map.set(probe, (counts = new OperationCounts()));
    return counts;
  };
  return {
    operation(operation: Operation) {
      if (operation.type === "role") return;
      probes.note(operation);
      trackers.add(operation);
      if (!isCompleted(operation)) return;
      const stalled = operation.outcome === "ok" && trackers.of(operation.probe).isStall(operation);
      countsOf(all, operation.probe).add(operation.outcome, stalled);
      if (faultAt !== null && operation.invokeT >= faultAt) countsOf(fromFault, operation.probe).add(operation.outcome, stalled);
    },
    finish(): WindowReading {
      const read = probes.all.map((probe): ProbeReading => {
        const tracker = trackers.of(probe.name);
        return {
          name: probe.name,
          type: probe.type,
          timeline: tracker.finish(),
          sloMs: tracker.sloMs,
          counts: all.get(probe.name) ?? new OperationCounts(),
          countsFromFault: fromFault.get(probe.name) ?? new OperationCounts(),
        };
      });
      const headline = probes.headline;
      return { probes: read, headline: headline ? read.find((probe) => probe.name === headline.name)! : null };
    },
  };
}

/** A probe's completed operations by outcome, and its ok ones slower than its SLO. */
export class OperationCounts {
  ok = 0;
  fail = 0;
  info = 0;
  stalled = 0;

  add(outcome: Outcome, stalled: boolean): void {
    if (outcome === "ok") this.ok += 1;
    else if (outcome === "fail") this.fail += 1;
    else this.info += 1;
    if (stalled) this.stalled += 1;
  }

  /** ok / all, or null when there were none. */
  get ratio(): number | null {
    return ratio(this.ok, this.ok + this.fail + this.info);
  }
}

export function totals(windows: readonly DowntimeWindow[]): DowntimeTotals {
  let totalMs = 0;
  let totalLowerMs = 0;
  let totalUpperMs = 0;
  let longestMs = 0;
  for (const window of windows) {
    totalMs += window.durationMs;
    totalLowerMs += window.durationLowerMs;
    totalUpperMs += window.durationUpperMs;
    longestMs = Math.max(longestMs, window.durationMs);
  }
  return { totalMs, totalLowerMs, totalUpperMs, longestMs };
}

/** What a probe's operations showed: its downtime windows and the span it observed. */
export interface ProbeTimeline {
  windows: DowntimeWindow[];
  /** The probe's first invoke and its last completion; null when it completed no operation. */
  observed: { fromMs: number; toMs: number } | null;
}

/** Each probe's latency objective, from run-start (histories written before it was recorded have none). */
export function slosOf(context: HistoryContext): Map<string, number> {
  const slos = new Map<string, number>();
  for (const probe of context.runStart?.probes ?? []) if (probe.sloMs !== undefined) slos.set(probe.name, probe.sloMs);
  return slos;
}

/** A WindowTracker per probe, made on the probe's first operation. */
export class WindowTrackers {
  private readonly slos: Map<string, number>;
  private readonly trackers = new Map<string, WindowTracker>();

  constructor(context: HistoryContext) {
    this.slos = slosOf(context);
  }

  /** Feeds an operation (completed or not) to its probe's tracker. */
  add(operation: Operation): void {
    const tracker = this.of(operation.probe);
    if (isCompleted(operation)) tracker.add(operation);
  }

  of(probe: string): WindowTracker {
    let tracker = this.trackers.get(probe);
    if (!tracker) this.trackers.set(probe, (tracker = new WindowTracker(probe, this.slos.get(probe) ?? null)));
    return tracker;
  }
}

interface OpenWindow {
  startMs: number;
  startLowerMs: number;
  startUpperMs: number;
  failures: number;
  stalls: number;
  /** Completion of the last non-ok operation in it, or null when only a stall opened it. */
  lastFailureMs: number | null;
}

/** One probe's windows, from its completed operations in invoke order. */
export class WindowTracker {
  readonly probe: string;
  readonly sloMs: number | null;
  private readonly windows: DowntimeWindow[] = [];
  private current: OpenWindow | null = null;
  private firstInvoke: number | null = null;
  private lastSeen = Number.NEGATIVE_INFINITY;
  /** The latest completion of an ok operation: clients were served then. */
  private lastServed: number | null = null;
  /** Where the last closed window ended: a new one starts no earlier (overlapping workers). */
  private lastEnd = Number.NEGATIVE_INFINITY;
  private finished: ProbeTimeline | null = null;

  constructor(probe: string, sloMs: number | null) {
    this.probe = probe;
    this.sloMs = sloMs;
  }

  add(operation: CompletedOperation): void {
    if (this.firstInvoke === null || operation.invokeT < this.firstInvoke) this.firstInvoke = operation.invokeT;
    if (operation.completeT > this.lastSeen) this.lastSeen = operation.completeT;
    if (operation.outcome !== "ok") {
      if (this.current) {
        this.current.failures += 1;
        this.current.lastFailureMs = Math.max(this.current.lastFailureMs ?? operation.completeT, operation.completeT);
      } else {
        this.open(operation.invokeT, this.lastServed, operation.completeT, { failures: 1, stalls: 0, lastFailureMs: operation.completeT });
      }
      return;
    }
    if (this.isStall(operation)) {
      const slo = this.sloMs!;
      if (this.current) this.current.stalls += 1;
      else if (Math.max(operation.invokeT + slo, this.lastEnd) < operation.completeT) {
        this.open(operation.invokeT + slo, this.lastServed === null ? null : this.lastServed + slo, null, {
          failures: 0,
          stalls: 1,
          lastFailureMs: null,
        });
      }
      // The probe waited, unserved, until this completion: the end is exact.
      this.close(operation.completeT, operation.completeT, false);
    } else {
      this.close(operation.completeT, null, false);
    }
    if (this.lastServed === null || operation.completeT > this.lastServed) this.lastServed = operation.completeT;
  }

  /** An ok operation slower than the SLO (none without one). */
  isStall(operation: CompletedOperation): boolean {
    return this.sloMs !== null && operation.completeT - operation.invokeT > this.sloMs;
  }

  /** The windows (the last one closed as `open` at the last observation) and the observed span. */
  finish(): ProbeTimeline {
    if (this.finished) return this.finished;
    this.close(this.lastSeen, this.lastSeen, true);
    this.finished = {
      windows: this.windows,
      observed: this.firstInvoke === null ? null : { fromMs: this.firstInvoke, toMs: this.lastSeen },
    };
    return this.finished;
  }

  /** `refusedAt`: the completion of the failure that opened it (null for a stall: its start is exact). */
  private open(
    startMs: number,
    servedAt: number | null,
    refusedAt: number | null,
    counts: Omit<OpenWindow, "startMs" | "startLowerMs" | "startUpperMs">,
  ): void {
    const start = Math.max(startMs, this.lastEnd);
    // Nothing seen before it: the earliest is the start itself (no bound leaves the observed span).
    const lower = Math.max(Math.min(servedAt ?? start, start), this.lastEnd, this.firstInvoke ?? start);
    this.current = { startMs: start, startLowerMs: lower, startUpperMs: Math.max(start, refusedAt ?? start), ...counts };
  }

  /** Closes the current window at `endMs`; `endLowerMs` null: the completion of its last non-ok operation. */
  private close(endMs: number, endLowerMs: number | null, open: boolean): void {
    const current = this.current;
    if (!current) return;
    this.current = null;
    const end = Math.max(endMs, current.startMs);
    const endLower = Math.max(current.startMs, Math.min(endLowerMs ?? current.lastFailureMs ?? end, end));
    this.lastEnd = end;
    this.windows.push({
      probe: this.probe,
      startMs: current.startMs,
      endMs: end,
      durationMs: end - current.startMs,
      open,
      failures: current.failures,
      stalls: current.stalls,
      startLowerMs: current.startLowerMs,
      startUpperMs: Math.min(current.startUpperMs, end),
      endLowerMs: endLower,
      durationLowerMs: Math.max(0, endLower - current.startUpperMs),
      durationUpperMs: end - current.startLowerMs,
    });
  }
}
