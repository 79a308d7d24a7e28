/**
 * Benchmark 1 — precision of the failover measurement. A pair kill-and-promote drill (the shipped
 * pair-kill-primary, shortened) is measured by pgdrill as usual; meanwhile the new primary is asked
 * for its own record of the same outage:
 *
 *   truth start = written_at of the last drill write committed on the old timeline that the new
 *                 primary holds (written_at = clock_timestamp() on the server at the INSERT);
 *   truth end   = written_at of the first drill write committed after the promotion finished
 *                 (the "database system is ready to accept connections" line of the new primary's log).
 *
 * pgdrill's measurement is the writes probe's downtime window (invoke of the first failed write →
 * acknowledgement of the first write after it). Harness times are ms on a monotonic clock since
 * run start; they become wall-clock times with an offset averaged over every History event
 * (Date.now() when the event is appended − its t). Containers share the host kernel's clock, so
 * the server's clock_timestamp() and log times are on the same wall clock.
 *
 * Error bars: pgdrill says the moment writes became possible again lies between
 * `failover.latencyLowerMs` and `failover.latencyUpperMs` after the fault. Each trial checks that
 * against two server-side truths, both minus the fault's wall time (its t + the same offset):
 *   first commit = written_at of the first write committed after the promotion (the moment a write
 *                  did become possible, as the server recorded it);
 *   ready        = the new primary's "ready to accept connections" (the server could take writes;
 *                  clients of `rw` still wait for the repoint after pg_promote returns).
 * Coverage is the fraction of trials whose truth falls inside the bounds.
 *
 * The headline downtime window (the writes probe's longest closed one) has error bars on both
 * edges: it began within [startLowerMs, startUpperMs] (the last acknowledged write's completion → the
 * first failed write's completion: what refused it may have struck while it was in flight) and ended within [endLowerMs, endMs] (the last failed write's
 * completion → the first acknowledged one's). Each trial checks them against the server side, all
 * on the same wall clock and written as ms after the fault's wall time like the failover's:
 *   primary lost = the new primary's log, while it was still a standby: its WAL receiver's
 *                  connection to the old primary broke ("could not receive data from WAL stream"),
 *                  the moment the killed server's sockets closed, for the start edge (ms resolution);
 *   first commit = as above, for the end edge (a write was served then).
 * The Docker engine's record of the old primary's exit (State.FinishedAt) is kept beside it: it is
 * written when the engine has handled the exit, tens of ms after the sockets closed, so it is a
 * late marker, not the moment (the first run used it and found it after the bounds in half the trials).
 * Downtime coverage is the fraction of trials with both truths inside; the target is ≥ 95 %.
 *
 * The server record is read while the drill still runs (writes resume ~1 s after the promotion and
 * the drill goes on for seconds), because the drill tears its containers down before it returns.
 */
import { join } from "node:path";
import type { HistoryEvent } from "../harness/history/events.ts";
import type { RunResult } from "../harness/result.ts";
import { runDrill } from "../harness/run/drill.ts";
import { validateScenario } from "../harness/scenario/validate.ts";
import { LABELS } from "../harness/targets/shared/docker.ts";
import { containerLog, docker, nodeContainer, psqlRows } from "./containers.ts";
import { distribution, fmtDistribution, round, type Distribution } from "./stats.ts";

export interface PrecisionOptions {
  intervalsMs: number[];
  trials: number;
  /** Trials of the seed guide's once-a-second loop, the baseline to beat. */
  baselineTrials: number;
  outDir: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface PrecisionTrial {
  intervalMs: number;
  trial: number;
  ok: boolean;
  error?: string;
  measuredMs?: number;
  truthMs?: number;
  /** measured − truth, for the window length and for each edge. */
  errorMs?: number;
  startErrorMs?: number;
  endErrorMs?: number;
  /**
   * The same outage from acknowledgements: completion of the last acknowledged write before it →
   * completion of the first one after it (the end edge failover.latencyMs uses), minus the truth.
   */
  ackWindowErrorMs?: number;
  /** Latency of the first acknowledged write after the outage (a fresh connection to the new primary). */
  firstAckLatencyMs?: number;
  /** The new primary's log: promote request → ready for writes. */
  serverPromotionMs?: number;
  lostAcknowledged?: number | null;
  /** The failover's bounds (ms after the fault) and the two truths on the same scale. */
  latencyLowerMs?: number;
  latencyUpperMs?: number;
  truthFirstCommitMs?: number;
  truthReadyMs?: number;
  /** Each truth inside [lower, upper]; and how far inside it is (negative: outside by that much). */
  firstCommitInside?: boolean;
  readyInside?: boolean;
  firstCommitMarginMs?: number;
  readyMarginMs?: number;
  /**
   * The headline downtime window's edges with their error bars (ms after the fault's wall time),
   * and the server-side truths for them: the old primary's exit (engine's FinishedAt) for the
   * start, the first commit after the promotion (truthFirstCommitMs) for the end.
   */
  downtimeStartLowerMs?: number;
  downtimeStartMs?: number;
  downtimeStartUpperMs?: number;
  downtimeEndLowerMs?: number;
  downtimeEndMs?: number;
  truthPrimaryLostMs?: number;
  primaryLostInside?: boolean;
  primaryLostMarginMs?: number;
  /** The engine's State.FinishedAt of the old primary, same scale; and the log line the start truth came from. */
  engineExitMs?: number;
  primaryLostLine?: string;
  /** The last old-timeline commit the new primary holds (written_at), same scale: the server was alive then. */
  lastOldCommitMs?: number;
  /** [lastOldCommitMs, truthPrimaryLostMs] (when the server died, as far as it recorded) overlaps [downtimeStartLowerMs, downtimeStartUpperMs]. */
  startConsistent?: boolean;
  endCommitInside?: boolean;
  endCommitMarginMs?: number;
  /** How far the run-start wallClock is from the averaged offset (alignment sanity). */
  alignmentCheckMs?: number;
  runDir?: string;
}

export interface PrecisionSummary {
  intervalMs: number;
  baseline: boolean;
  trials: number;
  failedTrials: number;
  errorMs: Distribution;
  absErrorMs: Distribution;
  startErrorMs: Distribution;
  endErrorMs: Distribution;
  ackWindowErrorMs: Distribution;
  firstAckLatencyMs: Distribution;
  truthMs: Distribution;
  targetMs: number;
  met: boolean | null;
  /** Fraction of trials whose server truth fell inside pgdrill's failover bounds; null without trials. */
  coverage: { firstCommit: number | null; ready: number | null };
  /** upper − lower of the failover bounds. */
  boundsWidthMs: Distribution;
  /** How far inside the bounds each truth fell (negative: outside). */
  firstCommitMarginMs: Distribution;
  readyMarginMs: Distribution;
  downtime: DowntimeCoverage;
}

/** How often the headline downtime window's error bars held the server's truth. */
export interface DowntimeCoverage {
  /** Trials with both edges' bounds and truths. */
  trials: number;
  /** Trials whose primary-lost moment fell inside [startLowerMs, startUpperMs], whose first commit fell inside [endLowerMs, endMs], and both. */
  startInside: number;
  endInside: number;
  bothInside: number;
  /** Trials whose start bounds overlap the server's own interval for the death (last old commit → the standby lost it). */
  startConsistent: number;
  /** bothInside / trials; null without trials. */
  coverage: number | null;
  /** coverage ≥ 0.95. */
  met: boolean | null;
  startWidthMs: Distribution;
  endWidthMs: Distribution;
  /** How far inside each truth fell (negative: outside by that much). */
  primaryLostMarginMs: Distribution;
  endCommitMarginMs: Distribution;
  /** The engine's exit record − the standby's primary-lost moment: how late the engine's marker is. */
  engineExitLagMs: Distribution;
}

export const DOWNTIME_COVERAGE_TARGET = 0.95;

export async function precisionBench(options: PrecisionOptions): Promise<{ trials: PrecisionTrial[]; summaries: PrecisionSummary[] }> {
  const trials: PrecisionTrial[] = [];
  // Interleaved (100, 20, 10, 100, ...) so that load from elsewhere spreads over every interval.
  const plan: Array<{ intervalMs: number; trial: number }> = [];
  for (let trial = 0; trial < options.trials; trial += 1) for (const intervalMs of options.intervalsMs) plan.push({ intervalMs, trial });
  for (let trial = 0; trial < options.baselineTrials; trial += 1) plan.push({ intervalMs: 1000, trial });
  for (const [index, step] of plan.entries()) {
    if (options.signal.aborted) break;
    const outcome = await precisionTrial(step.intervalMs, step.trial, options);
    trials.push(outcome);
    options.log(
      `precision ${index + 1}/${plan.length} @${step.intervalMs} ms: ` +
        (outcome.ok
          ? `measured ${outcome.measuredMs} ms, server ${outcome.truthMs} ms, error ${outcome.errorMs} ms; ` +
            `failover bounds ${outcome.latencyLowerMs ?? "?"}–${outcome.latencyUpperMs ?? "?"} ms, first commit ${outcome.truthFirstCommitMs ?? "?"} ms${outcome.firstCommitInside ? " inside" : " OUTSIDE"}, ready ${outcome.truthReadyMs ?? "?"} ms${outcome.readyInside ? " inside" : " OUTSIDE"}; ` +
            `downtime start ${outcome.downtimeStartLowerMs ?? "?"}–${outcome.downtimeStartUpperMs ?? "?"} ms, primary lost ${outcome.truthPrimaryLostMs ?? "?"} ms${outcome.primaryLostInside ? " inside" : " OUTSIDE"} (engine exit ${outcome.engineExitMs ?? "?"} ms), ` +
            `end ${outcome.downtimeEndLowerMs ?? "?"}–${outcome.downtimeEndMs ?? "?"} ms, first commit${outcome.endCommitInside ? " inside" : " OUTSIDE"}`
          : `failed: ${outcome.error}`),
    );
  }
  const intervals = [...options.intervalsMs, ...(options.baselineTrials > 0 ? [1000] : [])];
  return { trials, summaries: intervals.map((intervalMs) => summarise(intervalMs, trials.filter((trial) => trial.intervalMs === intervalMs))) };
}

function summarise(intervalMs: number, trials: PrecisionTrial[]): PrecisionSummary {
  const good = trials.filter((trial) => trial.ok);
  const pick = (key: "errorMs" | "startErrorMs" | "endErrorMs" | "ackWindowErrorMs" | "firstAckLatencyMs" | "truthMs") => good.map((trial) => trial[key]!);
  const bounded = good.filter((trial) => trial.latencyLowerMs !== undefined && trial.latencyUpperMs !== undefined);
  const share = (inside: (trial: PrecisionTrial) => boolean | undefined) => (bounded.length === 0 ? null : round(bounded.filter((trial) => inside(trial) === true).length / bounded.length));
  const absErrorMs = distribution(pick("errorMs").map(Math.abs));
  const targetMs = intervalMs + 5;
  return {
    intervalMs,
    baseline: intervalMs === 1000,
    trials: trials.length,
    failedTrials: trials.length - good.length,
    errorMs: distribution(pick("errorMs")),
    absErrorMs,
    startErrorMs: distribution(pick("startErrorMs")),
    endErrorMs: distribution(pick("endErrorMs")),
    ackWindowErrorMs: distribution(pick("ackWindowErrorMs")),
    firstAckLatencyMs: distribution(pick("firstAckLatencyMs")),
    truthMs: distribution(pick("truthMs")),
    targetMs,
    met: absErrorMs.max === null ? null : absErrorMs.max <= targetMs,
    coverage: { firstCommit: share((trial) => trial.firstCommitInside), ready: share((trial) => trial.readyInside) },
    boundsWidthMs: distribution(bounded.map((trial) => round(trial.latencyUpperMs! - trial.latencyLowerMs!))),
    firstCommitMarginMs: distribution(bounded.map((trial) => trial.firstCommitMarginMs!)),
    readyMarginMs: distribution(bounded.map((trial) => trial.readyMarginMs!)),
    downtime: downtimeCoverage(good),
  };
}

/** Downtime-bound coverage over the trials that measured both edges (every interval together when given them all). */
export function downtimeCoverage(trials: readonly PrecisionTrial[]): DowntimeCoverage {
  const checked = trials.filter((trial) => trial.primaryLostInside !== undefined && trial.endCommitInside !== undefined);
  const bothInside = checked.filter((trial) => trial.primaryLostInside && trial.endCommitInside).length;
  const coverage = checked.length === 0 ? null : round(bothInside / checked.length);
  return {
    trials: checked.length,
    startInside: checked.filter((trial) => trial.primaryLostInside).length,
    endInside: checked.filter((trial) => trial.endCommitInside).length,
    bothInside,
    startConsistent: checked.filter((trial) => trial.startConsistent).length,
    coverage,
    met: coverage === null ? null : coverage >= DOWNTIME_COVERAGE_TARGET,
    startWidthMs: distribution(checked.map((trial) => round(trial.downtimeStartUpperMs! - trial.downtimeStartLowerMs!))),
    endWidthMs: distribution(checked.map((trial) => round(trial.downtimeEndMs! - trial.downtimeEndLowerMs!))),
    primaryLostMarginMs: distribution(checked.map((trial) => trial.primaryLostMarginMs!)),
    endCommitMarginMs: distribution(checked.map((trial) => trial.endCommitMarginMs!)),
    engineExitLagMs: distribution(checked.flatMap((trial) => (trial.engineExitMs === undefined ? [] : [round(trial.engineExitMs - trial.truthPrimaryLostMs!)]))),
  };
}

/** "downtime bounds: start … primary lost inside 9/10 …; end … first commit inside 10/10 …; both 9/10 (90%): target ≥ 95% MISSED" */
export function downtimeCoverageLine(d: DowntimeCoverage): string {
  const ms = (value: number | null) => (value === null ? "n/a" : `${value} ms`);
  const verdict = d.met === null ? "no data" : d.met ? "met" : "MISSED";
  return (
    `downtime bounds: start width p50 ${ms(d.startWidthMs.p50)}, primary lost inside ${d.startInside}/${d.trials} (margin min ${ms(d.primaryLostMarginMs.min)}, p50 ${ms(d.primaryLostMarginMs.p50)}; engine's exit record p50 ${ms(d.engineExitLagMs.p50)} later; overlapping last old commit → primary lost ${d.startConsistent}/${d.trials}); ` +
    `end width p50 ${ms(d.endWidthMs.p50)}, first commit inside ${d.endInside}/${d.trials} (margin min ${ms(d.endCommitMarginMs.min)}, p50 ${ms(d.endCommitMarginMs.p50)}); ` +
    `both inside ${fraction(d.coverage, d.trials)}: target ≥ ${DOWNTIME_COVERAGE_TARGET * 100}% ${verdict}`
  );
}

const fraction = (value: number | null, of: number) => (value === null ? "n/a" : `${Math.round(value * of)}/${of} (${(value * 100).toFixed(0)}%)`);

export function precisionTable(summaries: PrecisionSummary[]): string[] {
  return [...summaries.map(
    (s) =>
      `  every ${String(s.intervalMs).padStart(4)} ms${s.baseline ? " (seed guide's loop)" : ""}: |error| ${fmtDistribution(s.absErrorMs)}; ` +
      `signed ${fmtDistribution(s.errorMs)}; edges: start p50 ${s.startErrorMs.p50} ms, end p50 ${s.endErrorMs.p50} ms; ` +
      `ack-to-ack window |error| max ${s.ackWindowErrorMs.max === null ? "n/a" : Math.max(Math.abs(s.ackWindowErrorMs.min ?? 0), Math.abs(s.ackWindowErrorMs.max))} ms; ` +
      `target ≤ ${s.targetMs} ms: ${s.met === null ? "no data" : s.met ? "met" : "MISSED"}${s.failedTrials ? ` (${s.failedTrials} trials failed)` : ""}\n` +
      `      failover bounds: width ${fmtDistribution(s.boundsWidthMs)}; first commit inside ${fraction(s.coverage.firstCommit, s.boundsWidthMs.count)} ` +
      `(margin min ${s.firstCommitMarginMs.min ?? "n/a"} ms, p50 ${s.firstCommitMarginMs.p50 ?? "n/a"} ms); ` +
      `server ready inside ${fraction(s.coverage.ready, s.boundsWidthMs.count)} (margin min ${s.readyMarginMs.min ?? "n/a"} ms, p50 ${s.readyMarginMs.p50 ?? "n/a"} ms)\n` +
      `      ${downtimeCoverageLine(s.downtime)}`,
  ), `  every interval together: ${downtimeCoverageTotal(summaries.map((s) => s.downtime))}`];
}

/** The counts of several intervals' coverage added up (the ≥ 95 % target is about all of them). */
export function downtimeCoverageTotal(parts: readonly DowntimeCoverage[]): string {
  const trials = parts.reduce((sum, part) => sum + part.trials, 0);
  const add = (key: "startInside" | "endInside" | "bothInside") => parts.reduce((sum, part) => sum + part[key], 0);
  const both = add("bothInside");
  const coverage = trials === 0 ? null : both / trials;
  const verdict = coverage === null ? "no data" : coverage >= DOWNTIME_COVERAGE_TARGET ? "met" : "MISSED";
  return `primary lost inside ${add("startInside")}/${trials}, first commit inside ${add("endInside")}/${trials}, both ${fraction(coverage, trials)}: target ≥ ${DOWNTIME_COVERAGE_TARGET * 100}% ${verdict}`;
}

/** The shipped pair-kill-primary, shortened: kill at 2 s, promote 1 s later, 7 s of probing. */
function scenarioFor(intervalMs: number) {
  return validateScenario(
    {
      name: "bench-precision",
      target: { kind: "container-pair", replication: "async" },
      probes: [{ kind: "writes", every: `${intervalMs}ms`, timeout: "1s", connectTimeout: "1s" }],
      steadyState: { window: "2s", minAvailability: 1 },
      schedule: [
        { at: "2s", fault: { kind: "kill", node: "primary" } },
        { at: "2s", action: { kind: "promote", node: "standby", after: "1s" } },
      ],
      duration: "7s",
    },
    "bench/precision.ts",
  );
}

interface ServerRecord {
  /** [id, written_at as epoch ms] of every drill write the new primary holds. */
  rows: Array<[number, number]>;
  promoteRequestMs: number;
  readyMs: number;
  /** The standby's WAL receiver lost the old primary (epoch ms, from its log), and the line; null when the log has no such line. */
  primaryLostMs: number | null;
  primaryLostLine: string | null;
  /** The killed node's exit, as the Docker engine recorded it (epoch ms, sub-ms); null when it could not be read. */
  killedMs: number | null;
}

async function precisionTrial(intervalMs: number, trial: number, options: PrecisionOptions): Promise<PrecisionTrial> {
  const base = { intervalMs, trial };
  let runId: string | null = null;
  let offsetSum = 0;
  let offsetCount = 0;
  let startWall: number | null = null;
  let capture: Promise<ServerRecord> | null = null;
  const writes: Array<{ invokeT: number; completeT: number; ok: boolean }> = [];
  let killedNode = "primary";
  const onEvent = (event: HistoryEvent) => {
    // Date.now() is whole ms (floor), so +0.5 centres it; the average over many events is sub-ms.
    offsetSum += Date.now() + 0.5 - event.t;
    offsetCount += 1;
    if (event.kind === "complete" && event.type === "write") writes.push({ invokeT: event.t - event.latencyMs, completeT: event.t, ok: event.outcome === "ok" });
    if (event.kind === "fault" && event.phase === "inject" && event.fault === "kill" && event.nodes[0]) killedNode = event.nodes[0];
    if (event.kind === "run-start") {
      runId = event.runId;
      startWall = Date.parse(event.wallClock);
    }
    if (event.kind === "action" && event.action === "promote" && event.phase === "end" && event.ok && runId && !capture) {
      const id = runId;
      capture = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => readServerRecord(id, event.node ?? "standby", killedNode, options.signal));
      capture.catch(() => undefined); // awaited below; this only stops an unhandled rejection meanwhile
    }
  };
  let result: RunResult;
  let runDir: string;
  try {
    const outcome = await runDrill(scenarioFor(intervalMs), {
      source: "bench/precision.ts",
      outDir: join(options.outDir, `every-${intervalMs}ms-${trial}`),
      signal: options.signal,
      onEvent,
    });
    result = outcome.result;
    runDir = outcome.runDir;
  } catch (error) {
    return { ...base, ok: false, error: String(error) };
  }
  if (!capture) return { ...base, ok: false, error: `no promotion was recorded (verdict ${result.verdict})`, runDir };
  let record: ServerRecord;
  try {
    record = await capture;
  } catch (error) {
    return { ...base, ok: false, error: `reading the server's record failed: ${String(error)}`, runDir };
  }
  const offset = offsetSum / offsetCount;
  const windows = result.metrics.downtime.windows.filter((window) => window.probe === "writes" && !window.open);
  const window = windows.reduce<(typeof windows)[number] | null>((longest, each) => (!longest || each.durationMs > longest.durationMs ? each : longest), null);
  const old = record.rows.filter(([, at]) => at < record.readyMs);
  const fresh = record.rows.filter(([, at]) => at >= record.readyMs);
  if (!window || old.length === 0 || fresh.length === 0) {
    return { ...base, ok: false, error: `no closed write outage, or no writes on one side of the promotion (${old.length} before, ${fresh.length} after)`, runDir };
  }
  const truthStart = Math.max(...old.map(([, at]) => at));
  const truthEnd = Math.min(...fresh.map(([, at]) => at));
  // invokeT is rebuilt from rounded t − latency, so match with a µs tolerance.
  const lastAck = writes.findLast((write) => write.ok && write.invokeT < window.startMs - 0.01);
  const firstAck = writes.find((write) => write.ok && write.invokeT >= window.endMs - 0.01);
  if (!lastAck || !firstAck) return { ...base, ok: false, error: "no acknowledged write on one side of the outage", runDir };
  const measuredStart = window.startMs + offset;
  const measuredEnd = window.endMs + offset;
  const { faultAtMs, latencyLowerMs, latencyUpperMs } = result.metrics.failover;
  const bounds =
    faultAtMs === null || latencyLowerMs === null || latencyUpperMs === null
      ? {}
      : (() => {
          const faultWall = faultAtMs + offset;
          const firstCommit = truthEnd - faultWall;
          const ready = record.readyMs - faultWall;
          // Inside by how much: the distance to the nearer bound, negative when outside.
          const margin = (truth: number) => Math.min(truth - latencyLowerMs, latencyUpperMs - truth);
          return {
            latencyLowerMs: round(latencyLowerMs),
            latencyUpperMs: round(latencyUpperMs),
            truthFirstCommitMs: round(firstCommit),
            truthReadyMs: round(ready),
            firstCommitInside: margin(firstCommit) >= 0,
            readyInside: margin(ready) >= 0,
            firstCommitMarginMs: round(margin(firstCommit)),
            readyMarginMs: round(margin(ready)),
            ...downtimeBounds(window, offset, faultWall, record, truthStart, truthEnd),
          };
        })();
  return {
    ...base,
    ok: true,
    measuredMs: round(window.durationMs),
    truthMs: round(truthEnd - truthStart),
    errorMs: round(window.durationMs - (truthEnd - truthStart)),
    startErrorMs: round(measuredStart - truthStart),
    endErrorMs: round(measuredEnd - truthEnd),
    ackWindowErrorMs: round(firstAck.completeT - lastAck.completeT - (truthEnd - truthStart)),
    firstAckLatencyMs: round(firstAck.completeT - firstAck.invokeT),
    serverPromotionMs: round(record.readyMs - record.promoteRequestMs),
    lostAcknowledged: result.metrics.writes.lostAcknowledged,
    alignmentCheckMs: startWall === null ? undefined : round(startWall - offset),
    ...bounds,
    runDir,
  };
}

/** The headline window's edges after the fault's wall time, and whether the kill and the first commit fall inside them. */
function downtimeBounds(
  window: { startLowerMs: number; startMs: number; startUpperMs: number; endLowerMs: number; endMs: number },
  offset: number,
  faultWall: number,
  record: Pick<ServerRecord, "primaryLostMs" | "primaryLostLine" | "killedMs">,
  lastOldCommitWall: number,
  firstCommitWall: number,
): Partial<PrecisionTrial> {
  const after = (t: number) => t + offset - faultWall;
  const startLower = after(window.startLowerMs);
  const start = after(window.startMs);
  const startUpper = after(window.startUpperMs);
  const endLower = after(window.endLowerMs);
  const end = after(window.endMs);
  const within = (truth: number, lower: number, upper: number) => Math.min(truth - lower, upper - truth);
  const endMargin = within(firstCommitWall - faultWall, endLower, end);
  const lost = record.primaryLostMs === null ? null : record.primaryLostMs - faultWall;
  return {
    downtimeStartLowerMs: round(startLower),
    downtimeStartMs: round(start),
    downtimeStartUpperMs: round(startUpper),
    downtimeEndLowerMs: round(endLower),
    downtimeEndMs: round(end),
    endCommitInside: endMargin >= 0,
    endCommitMarginMs: round(endMargin),
    ...(record.killedMs === null ? {} : { engineExitMs: round(record.killedMs - faultWall) }),
    ...(record.primaryLostLine === null ? {} : { primaryLostLine: record.primaryLostLine }),
    ...(lost === null
      ? {}
      : {
          truthPrimaryLostMs: round(lost),
          primaryLostInside: within(lost, startLower, startUpper) >= 0,
          primaryLostMarginMs: round(within(lost, startLower, startUpper)),
          // The server was alive at its last old-timeline commit and gone when the standby lost it: the
          // bounds contradict it only if they lie wholly outside that interval.
          startConsistent: lastOldCommitWall - faultWall <= startUpper && lost >= startLower,
        }),
    lastOldCommitMs: round(lastOldCommitWall - faultWall),
  };
}

/** Docker's RFC 3339 time with up to 9 fractional digits → epoch ms with the sub-ms part kept. */
export function parseEngineTime(text: string): number | null {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text.trim());
  if (!match) return null;
  const whole = Date.parse(`${match[1]}${match[3]}`);
  if (!Number.isFinite(whole) || whole <= 0) return null;
  const fraction = match[2] ? Number(`0.${match[2]}`) * 1000 : 0;
  return whole + fraction;
}

/** When the engine saw `node` of the run exit; null when it is not there or has not exited. */
async function killedAt(runId: string, node: string): Promise<number | null> {
  const { stdout } = await docker(["ps", "-aq", "--filter", `label=${LABELS.run}=${runId}`, "--filter", `label=${LABELS.node}=${node}`], 10_000);
  const container = stdout.trim().split("\n").filter(Boolean)[0];
  if (!container) return null;
  const inspected = await docker(["inspect", "-f", "{{.State.Running}} {{.State.FinishedAt}}", container], 10_000);
  const [running, finished] = inspected.stdout.trim().split(" ");
  return running === "false" && finished ? parseEngineTime(finished) : null;
}

/** A standby's WAL receiver losing its primary, at any level (PostgreSQL 15 says FATAL for a broken connection, LOG for a clean end). */
const LOST_PRIMARY = String.raw`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Za-z0-9+:_/-]+) \[\d+\] (?:FATAL|ERROR|LOG):\s+(?:could not receive data from WAL stream|replication terminated by primary server).*$`;

const LOG_TIME = String.raw`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Za-z0-9+:_/-]+) \[\d+\] LOG:\s+`;

/** Reads the drill's writes and the promotion times from the new primary, retrying briefly until writes resumed. */
async function readServerRecord(runId: string, node: string, killedNode: string, signal: AbortSignal): Promise<ServerRecord> {
  let last = "not tried";
  for (let attempt = 0; attempt < 6 && !signal.aborted; attempt += 1) {
    const container = await nodeContainer(runId, node);
    if (!container) throw new Error(`${node} of run ${runId} is gone`);
    const log = await containerLog(container);
    const request = new RegExp(LOG_TIME + "received promote request", "m").exec(log);
    const after = request ? log.slice(request.index) : "";
    const ready = new RegExp(LOG_TIME + "database system is ready to accept connections", "m").exec(after);
    if (request && ready) {
      // The server converts its own log times (in its log_timezone) to epoch ms.
      const rows = await psqlRows(
        container,
        `SELECT 'T', extract(epoch FROM '${request[1]}'::timestamptz) * 1000, extract(epoch FROM '${ready[1]}'::timestamptz) * 1000
         UNION ALL SELECT 'W', id, extract(epoch FROM written_at) * 1000 FROM pgdrill.writes WHERE probe = 'writes'`,
      );
      const times = rows.find((row) => row[0] === "T")!;
      const writes = rows.filter((row) => row[0] === "W").map((row): [number, number] => [Number(row[1]), Number(row[2])]);
      const readyMs = Number(times[2]);
      // The last time the standby's WAL receiver lost its primary before the promotion: the kill.
      const lost = [...log.slice(0, request.index).matchAll(new RegExp(LOST_PRIMARY, "gm"))].at(-1);
      const lostMs = lost ? Number((await psqlRows(container, `SELECT extract(epoch FROM '${lost[1]}'::timestamptz) * 1000`))[0]?.[0]) : null;
      if (writes.some(([, at]) => at >= readyMs)) {
        return {
          rows: writes,
          promoteRequestMs: Number(times[1]),
          readyMs,
          primaryLostMs: lostMs !== null && Number.isFinite(lostMs) ? lostMs : null,
          primaryLostLine: lost ? lost[0].slice(0, 160) : null,
          killedMs: await killedAt(runId, killedNode),
        };
      }
      last = "no write committed after the promotion yet";
    } else {
      last = "no promotion in the new primary's log yet";
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(last);
}
