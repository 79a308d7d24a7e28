/**
 * The key-metrics rows and the headline of the report model: the numbers every format shows, worded
 * once. A target adds rows of its own through its plugin (`reportRows`), after the generic ones.
 */
import type { RunResult } from "../result.ts";
import { targetPlugin } from "../targets/registry.ts";
import { anatomyLine, BOUNDS_NOTE, failoverDetail, outageHeadline, recoveryDetail } from "./failover-text.ts";
import { formatCount, formatMs, formatMsWithin, formatRatio, formatRatioWithin } from "./format.ts";
import type { Headline, ReportModel, Row } from "./types.ts";

export function keyMetrics(result: RunResult): ReportModel["keyMetrics"] {
  const { availability, downtime, writes, latency, splitBrain, failover, recovery } = result.metrics;
  const lost = writes.lostAcknowledged;
  const anatomy = anatomyLine(result.metrics.anatomy);
  const rows: Row[] = [
    { label: `availability${availability.probe ? ` (${availability.probe})` : ""}`, value: availabilityText(result) },
    {
      label: "availability from first fault",
      value: `${formatRatio(availability.faultWindowRatio)} of the time · ${formatRatio(availability.faultWindowOperationRatio)} of operations`,
    },
    { label: "downtime", value: `${formatMsWithin(downtime.totalMs, downtime.totalLowerMs, downtime.totalUpperMs)} total, longest ${formatMs(downtime.longestMs)}` },
    { label: "failover", value: failoverDetail(result.metrics) },
    // A failover's row already is its recovery; without one, the recovery is the outage's figure.
    ...(failover.happened === true ? [] : [{ label: "recovery", value: recoveryDetail(result.metrics) }]),
    ...(anatomy === null ? [] : [{ label: "failover anatomy", value: anatomy }]),
    { label: "writes stable after", value: formatMs(recovery.stableAfterMs) },
    { label: "writes", value: `${writes.attempted} attempted, ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${writes.unknown} unknown` },
    {
      label: "lost acknowledged writes",
      value:
        lost === null
          ? "n/a (no final read)"
          : [
              { text: String(lost), strong: true, bad: lost > 0 },
              ` (final read on ${writes.finalReadNode ?? "?"}; unknown committed ${formatCount(writes.unknownCommitted)}, failed but present ${formatCount(writes.failedButPresent)})`,
            ],
    },
    {
      label: "latency (ok operations)",
      value:
        latency.count === 0
          ? "n/a"
          : `p50 ${formatMs(latency.p50Ms)} · p90 ${formatMs(latency.p90Ms)} · p99 ${formatMs(latency.p99Ms)} · max ${formatMs(latency.maxMs)} (${latency.count} ops)`,
    },
    { label: "split brain", value: splitBrain.detected ? [{ text: "detected", strong: true, bad: true }, `, ${formatMs(splitBrain.overlapMs)} of overlap`] : "none seen" },
    ...(targetPlugin(result.target)?.reportRows?.(result.metrics) ?? []),
  ];
  const bounded = recovery.latencyLowerMs !== null && recovery.latencyUpperMs !== null && recovery.latencyUpperMs > recovery.latencyLowerMs;
  return { rows, note: bounded ? BOUNDS_NOTE : null };
}

/** The share of time served, its range, and the operation count beside it. */
function availabilityText(result: RunResult): string {
  const a = result.metrics.availability;
  const time = `${formatRatioWithin(a.ratio, a.ratioLower, a.ratioUpper)} of ${formatMs(a.observedMs)} observed`;
  const slo = a.sloMs === null ? "" : ` · slo ${formatMs(a.sloMs)}, ${a.stalled} slower`;
  return `${time} · operations ${formatRatio(a.operationRatio)} (ok ${a.ok}, fail ${a.fail}, info ${a.info})${slo}`;
}

export function headline(result: RunResult): Headline {
  const { availability, downtime, failover, recovery, writes, latency, splitBrain } = result.metrics;
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
    splitBrain: splitBrain.detected ? { text: `split brain ${formatMs(splitBrain.overlapMs)}`, bad: true } : null,
    lostIds: writes.lostIds,
  };
}
