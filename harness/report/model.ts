/**
 * Builds the report model (types.ts) once from a RunResult and the History's read model; every
 * format draws the model and nothing else, so none can drift from another. Lists are whole here:
 * how much of a long one to show is each format's business.
 */
import { ContextBuilder } from "../history/context.ts";
import type { LogEvent } from "../history/events.ts";
import type { ClientSummary, RunResult } from "../result.ts";
import { alertsSection } from "./alerts-model.ts";
import { anatomyAbsence, outageHeadline, withBounds } from "./failover-text.ts";
import { formatMs, formatMsWithin } from "./format.ts";
import { headline, keyMetrics } from "./key-metrics.ts";
import { restoreSection } from "./restore-model.ts";
import { runSentence } from "./sentence.ts";
import { againstClaim, claimFor, GUIDE_CLAIMS } from "./strategy-claims.ts";
import { drillSteps, operatorMoments, steadyStateWindow } from "./timeline.ts";
import type { ClientRow, ReportContext, ReportModel } from "./types.ts";
import { wallClockOf } from "./wall-clock.ts";

/** Nothing to draw: an interrupted analysis, or a result drawn without its History. */
export function emptyReportContext(): ReportContext {
  return { history: new ContextBuilder().finish(), points: [] };
}

/** The model of one run; without `context` it says only what the result holds (no sentence, marks or warnings). */
export function reportModel(result: RunResult, context?: ReportContext): ReportModel {
  const { metrics } = result;
  const { scenario, runId, target, startedAt, durationMs, verdict, reason, complete } = result;
  const lost = metrics.writes.lostAcknowledged;
  return {
    result,
    context: context ?? emptyReportContext(),
    run: { scenario, runId, target, startedAt, durationMs, verdict, reason, complete },
    sentence: context ? runSentence(result, context.history) : null,
    headline: headline(result),
    keyMetrics: keyMetrics(result),
    gates: result.gates.map((gate) => ({
      pass: gate.pass,
      metric: gate.metric,
      expected: gate.expected,
      actual: gate.actual,
      duration: gate.metric.endsWith("Ms"),
      note: gate.note ?? null,
    })),
    claims: claims(result),
    clients: clients(result),
    downtime: metrics.downtime.windows.map((w) => ({
      probe: w.probe,
      startMs: w.startMs,
      endMs: w.endMs,
      open: w.open,
      duration: formatMsWithin(w.durationMs, w.durationLowerMs, w.durationUpperMs),
      failures: w.failures,
      stalls: w.stalls,
    })),
    lostWrites: lost ? { count: lost, node: metrics.writes.finalReadNode, ids: metrics.writes.lostIds } : null,
    roleChanges: metrics.roles.changes.map((change) => ({ ...change, label: change.readOnly ? "primary (read-only)" : change.role })),
    marks: context ? marks(context) : [],
    warnings: (context?.history.events ?? []).filter((event): event is LogEvent => event.kind === "log" && event.level !== "info"),
    checks: Object.entries(result.checks).map(([name, check]) => ({ name, ...check })),
    anatomy: anatomy(result),
    drill: drill(context ?? emptyReportContext()),
    alerts: alertsSection(metrics),
    restore: restoreSection(result),
  };
}

function anatomy(result: RunResult): ReportModel["anatomy"] {
  // A result.json analysed before pgdrill measured the anatomy has none.
  const phases = result.metrics.anatomy as RunResult["metrics"]["anatomy"] | undefined;
  return phases?.observed ? { observed: true, phases } : { observed: false, why: anatomyAbsence(result) };
}

/** The steady-state window with its check, and the faults and actions as the timeline draws them. */
function drill({ history }: ReportContext): ReportModel["drill"] {
  const window = steadyStateWindow(history.events);
  const check = history.events.find((event) => event.kind === "steady-state");
  const outcome = check?.kind === "steady-state" ? { ok: check.ok, message: check.message } : null;
  return { steadyState: window && { ...window, check: outcome }, steps: drillSteps(history.events, history.lastT) };
}

/** Every claim, the drilled one marked; a failover is compared with it, a recovery on the same primary is not one. */
function claims(result: RunResult): ReportModel["claims"] {
  const { failover } = result.metrics;
  const drilled = claimFor(result.target);
  const rows = GUIDE_CLAIMS.map((claim) => ({
    strategy: claim.strategy,
    failover: claim.failover,
    rto: claim.rto,
    drilled: claim.strategy === drilled?.strategy,
    against: againstClaim(claim, failover),
  }));
  const measured =
    failover.happened === true
      ? [{ text: withBounds(failover.latencyMs, failover.latencyLowerMs, failover.latencyUpperMs), strong: true }]
      : [`— (${outageHeadline(result.metrics)})`];
  return { rows, measured };
}

/**
 * With several client paths (drivers, direct and through a pooler), what each went through. A result.json written before pgdrill
 * compared clients has no `clients` section: its probes are listed from availability and downtime alone.
 */
function clients(result: RunResult): ClientRow[] {
  const { availability, downtime } = result.metrics;
  const compared = (result.metrics.clients as RunResult["metrics"]["clients"] | undefined)?.probes;
  const summaries = new Map((compared ?? []).map((summary) => [summary.probe, summary]));
  const names = compared ? compared.map((summary) => summary.probe) : Object.keys(availability.byProbe);
  if (names.length < 2) return [];
  return names.map((probe) => {
    const seen = availability.byProbe[probe];
    const down = downtime.byProbe[probe];
    const summary = summaries.get(probe);
    return {
      probe,
      driver: summary?.driver ?? "node-postgres",
      via: summary?.via ?? "path not recorded",
      ok: seen?.ok ?? summary?.ok ?? 0,
      fail: seen?.fail ?? summary?.fail ?? 0,
      info: seen?.info ?? summary?.info ?? 0,
      downtime: down ? formatMsWithin(down.totalMs, down.totalLowerMs, down.totalUpperMs) : "n/a",
      longest: formatMs(down?.longestMs ?? null),
      recovered: recoveredText(summary, result.metrics.failover.faultAtMs),
      hung: summary?.timedOut ?? 0,
      readOnly: summary?.readOnlyErrors ?? 0,
      errors: (summary?.errors ?? []).map((error) => `${error.text} ×${error.count}`),
    };
  });
}

function recoveredText(summary: ClientSummary | undefined, faultAtMs: number | null): string {
  if (!summary || faultAtMs === null) return "—";
  if (summary.recoveredAfterMs === null) return "never";
  return summary.recoveredAfterMs === 0 ? "no outage" : formatMs(summary.recoveredAfterMs);
}

/** Marks and manual steps with their time of day, to find them on a dashboard. */
function marks(context: ReportContext): ReportModel["marks"] {
  const clock = wallClockOf(context.history.runStart);
  return operatorMoments(context.history.events).map((moment) => ({ ...moment, timeOfDay: clock.timeOfDay(moment.t) }));
}
