/**
 * Availability, as a share of time: for each probe (role probes excepted: they ask every node on
 * purpose, dead ones included), the share of its observed time during which it was served.
 *
 * - The observed span runs from the probe's first invoke to its last completion: what it saw,
 *   not the teardown after it, nor an operation that never completed.
 * - The time it was not served is its downtime windows (downtime.ts builds them, failures and
 *   stalls past the probe's `slo` alike), so `ratio` = 1 − (their total) / (the span), and the
 *   downtime checker's totals and this ratio agree by construction. `ratioLower`/`ratioUpper`
 *   come the same way from the windows' longest and shortest possible totals.
 * - `faultWindowRatio` is the headline's share over the part of its span from the first
 *   disruption (a fault injected or a switchover started) on, the windows clipped to it.
 * - The operation count stays beside it, named as one: `operationRatio` is ok / all completed
 *   operations (`faultWindowOperationRatio` over those invoked at or after the first disruption),
 *   with the ok, fail and info counts. A stalled client makes few attempts while it waits, so this
 *   count barely moves in a long outage; the share of time does.
 *
 * The headline is the first select1 probe, else the first writes probe.
 */
import type { Outcome } from "../history/events.ts";
import { isCompleted, type Operation } from "../history/operations.ts";
import type { Metrics, ProbeAvailability } from "../result.ts";
import { defineChecker, ratio, type CheckerOutput } from "./checker.ts";
import { totals, WindowTrackers, type ProbeTimeline } from "./downtime.ts";
import { ProbeList } from "./probes.ts";

export type AvailabilityMetrics = Metrics["availability"];

export const availabilityChecker = defineChecker<AvailabilityMetrics>({
  empty: () => ({ ...availabilityOf({ windows: [], observed: null }, new Tally(), null), probe: null, faultWindowRatio: null, faultWindowOperationRatio: null, byProbe: {} }),
  start(context) {
    const probes = new ProbeList();
    const trackers = new WindowTrackers(context);
    const all = new Map<string, Tally>();
    const fromFault = new Map<string, Tally>();
    const faultAt = context.firstDisruptionAt;
    return {
      operation(operation: Operation) {
        if (operation.type === "role") return;
        probes.note(operation);
        trackers.add(operation);
        if (!isCompleted(operation)) return;
        const stalled = operation.outcome === "ok" && trackers.of(operation.probe).isStall(operation);
        tallyOf(all, operation.probe).add(operation.outcome, stalled);
        if (faultAt !== null && operation.invokeT >= faultAt) tallyOf(fromFault, operation.probe).add(operation.outcome, stalled);
      },
      finish(): CheckerOutput<AvailabilityMetrics> {
        const byProbe: Record<string, ProbeAvailability> = {};
        const timelines = new Map<string, ProbeTimeline>();
        for (const probe of probes.all) {
          const tracker = trackers.of(probe.name);
          const timeline = tracker.finish();
          timelines.set(probe.name, timeline);
          byProbe[probe.name] = availabilityOf(timeline, all.get(probe.name) ?? new Tally(), tracker.sloMs);
        }
        const headline = probes.headline;
        if (!headline) {
          return { valid: "unknown", metrics: { ...availabilityChecker.empty(), byProbe }, reason: "no select1 or writes probe operations recorded" };
        }
        const own = byProbe[headline.name]!;
        const faultWindowRatio = faultAt === null ? null : shareServed(timelines.get(headline.name)!, faultAt);
        const faultWindowOperationRatio = faultAt === null ? null : (fromFault.get(headline.name) ?? new Tally()).operationRatio();
        const reason =
          own.observedFromMs === null ? `probe "${headline.name}" completed no operation` : `probe "${headline.name}" observed no time (its operations took 0 ms)`;
        return {
          valid: own.ratio === null ? "unknown" : true,
          metrics: { ...own, probe: headline.name, faultWindowRatio, faultWindowOperationRatio, byProbe },
          ...(own.ratio === null ? { reason } : {}),
        };
      },
    };
  },
});

/** A probe's availability from its timeline (the time) and its tally (the operations). */
function availabilityOf(timeline: ProbeTimeline, tally: Tally, sloMs: number | null): ProbeAvailability {
  const observed = timeline.observed;
  const observedMs = observed ? observed.toMs - observed.fromMs : 0;
  const down = totals(timeline.windows);
  const share = (unavailableMs: number) => (observedMs > 0 ? 1 - unavailableMs / observedMs : null);
  return {
    ratio: share(down.totalMs),
    ratioLower: share(down.totalUpperMs),
    ratioUpper: share(down.totalLowerMs),
    observedFromMs: observed?.fromMs ?? null,
    observedToMs: observed?.toMs ?? null,
    observedMs,
    unavailableMs: down.totalMs,
    sloMs,
    ...tally.counts(),
  };
}

/** The share of the probe's observed span from `fromMs` on during which it was served; null when that part is empty. */
export function shareServed(timeline: ProbeTimeline, fromMs: number): number | null {
  const observed = timeline.observed;
  if (!observed) return null;
  const from = Math.max(fromMs, observed.fromMs);
  const spanMs = observed.toMs - from;
  if (spanMs <= 0) return null;
  let downMs = 0;
  for (const window of timeline.windows) downMs += Math.max(0, Math.min(window.endMs, observed.toMs) - Math.max(window.startMs, from));
  return 1 - downMs / spanMs;
}

class Tally {
  private ok = 0;
  private fail = 0;
  private info = 0;
  private stalled = 0;

  add(outcome: Outcome, stalled: boolean): void {
    if (outcome === "ok") this.ok += 1;
    else if (outcome === "fail") this.fail += 1;
    else this.info += 1;
    if (stalled) this.stalled += 1;
  }

  operationRatio(): number | null {
    return ratio(this.ok, this.ok + this.fail + this.info);
  }

  counts(): Pick<ProbeAvailability, "operationRatio" | "ok" | "fail" | "info" | "stalled"> {
    return { operationRatio: this.operationRatio(), ok: this.ok, fail: this.fail, info: this.info, stalled: this.stalled };
  }
}

function tallyOf(tallies: Map<string, Tally>, probe: string): Tally {
  let tally = tallies.get(probe);
  if (!tally) tallies.set(probe, (tally = new Tally()));
  return tally;
}
