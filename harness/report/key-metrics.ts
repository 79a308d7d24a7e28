/**
 * The key-metrics rows and the headline of the report model: the numbers every format shows, worded
 * once. A target adds rows of its own through its plugin (`reportRows`), after the generic ones.
 */
import type { RunResult } from "../result.ts";
import { targetPlugin } from "../targets/registry.ts";
import { anatomyLine, BOUNDS_NOTE, failoverDetail, outageHeadline, recoveryDetail } from "./failover-text.ts";
import { heavyFindings } from "./findings.ts";
import { formatCount, formatMs, formatMsWithin, formatRatio, formatRatioWithin } from "./format.ts";
import { restoreKeyRows } from "./restore-model.ts";
import type { Headline, ReportModel, Row } from "./types.ts";

export function keyMetrics(result: RunResult): ReportModel["keyMetrics"] {
  const { availability, downtime, writes, latency, splitBrain, failover, recovery } = result.metrics;
  const lost = writes.lostAcknowledged;
  const anatomy = anatomyLine(result.metrics.anatomy);
  const faultTime = formatRatio(availability.faultWindowRatio);
  const faultOps = formatRatio(availability.faultWindowOperationRatio);
  const total = formatMsWithin(downtime.totalMs, downtime.totalLowerMs, downtime.totalUpperMs);
  const written = `${writes.attempted} attempted, ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${writes.unknown} unknown`;
  const present = `unknown committed ${formatCount(writes.unknownCommitted)}, failed but present ${formatCount(writes.failedButPresent)}`;
  const readOn = ` (final read on ${writes.finalReadNode ?? "?"}; ${present})`;
  // Set off even when 0: it is the number the drill is for.
  const lostText = [{ text: `${lost}`, strong: true, bad: (lost ?? 0) > 0 }, readOn];
  const overlap = `, ${formatMs(splitBrain.overlapMs)} of overlap`;
  const percentiles = (["p50", "p90", "p99", "max"] as const).map((p) => `${p} ${formatMs(latency[`${p}Ms`])}`).join(" · ");
  const rows: Row[] = [
    { label: `availability${availability.probe ? ` (${availability.probe})` : ""}`, value: availabilityText(result) },
    { label: "availability from first fault", value: `${faultTime} of the time · ${faultOps} of operations` },
    { label: "downtime", value: `${total} total, longest ${formatMs(downtime.longestMs)}` },
    { label: "failover", value: failoverDetail(result.metrics) },
    // A failover's row already is its recovery; without one, the recovery is the outage's figure.
    ...(failover.happened === true ? [] : [{ label: "recovery", value: recoveryDetail(result.metrics) }]),
    ...(anatomy === null ? [] : [{ label: "failover anatomy", value: anatomy }]),
    { label: "writes stable after", value: formatMs(recovery.stableAfterMs) },
    { label: "writes", value: written },
    { label: "lost acknowledged writes", value: lost === null ? "n/a (no final read)" : lostText },
    { label: "latency (ok operations)", value: latency.count === 0 ? "n/a" : `${percentiles} (${latency.count} ops)` },
    { label: "split brain", value: splitBrain.detected ? [{ text: "detected", strong: true, bad: true }, overlap] : noSplitBrain(result) },
    ...restoreKeyRows(result),
    ...(targetPlugin(result.target)?.reportRows?.(result.metrics) ?? []),
  ];
  const bounded = recovery.latencyLowerMs !== null && recovery.latencyUpperMs !== null && recovery.latencyUpperMs > recovery.latencyLowerMs;
  return { rows, note: bounded ? BOUNDS_NOTE : null };
}

/** "none seen", and the nodes that were promoted but read-only, which are not one: "pg2 promoted at 1.20 s but read-only until 31.2 s". */
function noSplitBrain(result: RunResult): string {
  // A result.json analysed before the role probe asked whether a primary is writable has no such list.
  const readOnly = result.metrics.splitBrain.readOnlyPrimaries ?? [];
  if (readOnly.length === 0) return "none seen";
  const stretches = readOnly.map(
    (stretch) => `${stretch.node} promoted at ${formatMs(stretch.startMs)} but read-only until ${formatMs(stretch.endMs)}`,
  );
  return `none seen (${stretches.join("; ")})`;
}

/** The share of time served, its range, and the operation count beside it. */
function availabilityText(result: RunResult): string {
  const a = result.metrics.availability;
  const time = `${formatRatioWithin(a.ratio, a.ratioLower, a.ratioUpper)} of ${formatMs(a.observedMs)} observed`;
  const slo = a.sloMs === null ? "" : ` · slo ${formatMs(a.sloMs)}, ${a.stalled} slower`;
  return `${time} · operations ${formatRatio(a.operationRatio)} (ok ${a.ok}, fail ${a.fail}, info ${a.info})${slo}`;
}

export function headline(result: RunResult): Headline {
  const { availability, downtime, failover, recovery, writes, latency } = result.metrics;
  const lost = writes.lostAcknowledged;
  return {
    availability: formatRatio(availability.ratio),
    operations: formatRatio(availability.operationRatio),
    downtime: formatMsWithin(downtime.totalMs, downtime.totalLowerMs, downtime.totalUpperMs),
    // A fault the writes never came back from is the one figure to see first.
    outage: { text: outageHeadline(result.metrics), bad: recovery.latencyMs === null && failover.faultAtMs !== null },
    acknowledged: writes.acknowledged,
    unknown: writes.unknown,
    lost: lost === null ? "n/a" : { text: String(lost), bad: lost > 0 },
    p99: formatMs(latency.p99Ms),
    lostIds: writes.lostIds,
    findings: heavyFindings(result.metrics),
  };
}
