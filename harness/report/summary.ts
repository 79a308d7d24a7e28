/**
 * The few lines printed at the end of `pgdrill run`: verdict, the numbers people look at first,
 * and any failed gate. Colour is the caller's decision (TTY, NO_COLOR); with `color: false` the
 * text has no escape codes at all.
 */
import picocolors from "picocolors";
import type { RunResult, Verdict } from "../result.ts";
import { outageHeadline } from "./failover-text.ts";
import { formatActual, formatIds, formatMs, formatMsWithin, formatRatio } from "./format.ts";

export interface SummaryOptions {
  color: boolean;
}

export function formatSummary(result: RunResult, options: SummaryOptions): string {
  const c = picocolors.createColors(options.color);
  const paint: Record<Verdict, (text: string) => string> = { pass: c.green, deviated: c.red, errored: c.yellow };
  const { availability, downtime, failover, writes, latency, splitBrain } = result.metrics;

  const lines = [`${c.bold(paint[result.verdict](result.verdict.toUpperCase()))} ${c.bold(result.scenario)} ${c.dim(`run ${result.runId}, ${formatMs(result.durationMs)}`)}`];
  // A deviated run's reason lists the failed gates, which are printed below one per line.
  if (result.reason && result.verdict !== "deviated") lines.push(`  ${paint[result.verdict](result.reason)}`);

  const outage = outageHeadline(result.metrics);
  const failoverPart = result.metrics.recovery.latencyMs === null && failover.faultAtMs !== null ? c.red(outage) : outage;
  const lost = writes.lostAcknowledged === null ? "n/a" : writes.lostAcknowledged > 0 ? c.red(String(writes.lostAcknowledged)) : "0";
  lines.push(
    `  availability ${formatRatio(availability.ratio)} of the time (${formatRatio(availability.operationRatio)} of operations) · downtime ${formatMsWithin(downtime.totalMs, downtime.totalLowerMs, downtime.totalUpperMs)} · ${failoverPart}`,
    `  writes ${writes.acknowledged} acknowledged, ${writes.unknown} unknown, lost ${lost} · p99 ${formatMs(latency.p99Ms)}${splitBrain.detected ? ` · ${c.red(`split brain ${formatMs(splitBrain.overlapMs)}`)}` : ""}`,
  );
  if (writes.lostIds.length > 0) lines.push(`  lost ids: ${formatIds(writes.lostIds, 10)}`);

  const passed = result.gates.filter((gate) => gate.pass).length;
  if (result.gates.length > 0) lines.push(`  gates ${passed}/${result.gates.length} passed`);
  for (const gate of result.gates.filter((g) => !g.pass)) {
    lines.push(`  ${c.red("✗")} ${gate.metric} ${gate.expected} ${c.dim(`(actual ${formatActual(gate.actual)}${gate.note ? `: ${gate.note}` : ""})`)}`);
  }
  return lines.join("\n");
}
