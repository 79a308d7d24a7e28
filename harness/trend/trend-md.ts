/** trend.md: the regression gate's lines, then per scenario a table of its runs, latest first. */
import { formatMs, formatMsWithin, formatRatio, formatRatioWithin } from "../report/format.ts";
import type { RegressionCheck, Trend } from "./trend.ts";

/** "breached" when any regression check is; else "ok" (also with no checks asked for). */
export function regressionVerdict(trend: Trend): "ok" | "breached" {
  return trend.checks.some((check) => check.breached) ? "breached" : "ok";
}

/**
 * One line per check: "pair-kill-primary: failover.latencyMs 1.60 s in run 20261201-…, above
 * 1.45 s (median 1.16 s of 5 previous runs +25%)".
 */
export function describeCheck(check: RegressionCheck): string {
  const { spec } = check;
  const value = (v: number | null) => formatValue(spec.metric, v);
  const run = `run ${check.latest.result.runId}`;
  const rule =
    `median ${value(check.baseline)} of ${check.baselineRuns} previous run${check.baselineRuns === 1 ? "" : "s"} ` +
    `${spec.direction}${spec.amount}${spec.relative ? "%" : ""}`;
  if (check.note && !check.breached) return `${check.scenario}: ${spec.metric} not judged: ${check.note}`;
  if (check.value === null) return `${check.scenario}: ${spec.metric} not measured in ${run} (${rule}: ${value(check.limit)})`;
  const side = spec.direction === "+" ? "above" : "below";
  const within = spec.direction === "+" ? "at most" : "at least";
  return check.breached
    ? `${check.scenario}: ${spec.metric} ${value(check.value)} in ${run}, ${side} ${value(check.limit)} (${rule})`
    : `${check.scenario}: ${spec.metric} ${value(check.value)} in ${run}, ${within} ${value(check.limit)} (${rule})`;
}

export function renderTrendMarkdown(trend: Trend): string {
  const lines: string[] = [];
  const runs = trend.trends.reduce((sum, t) => sum + t.runs.length, 0);
  const verdict = regressionVerdict(trend);
  lines.push(`## pgdrill trend: ${verdict === "breached" ? "**regression**" : "ok"}`, "");
  lines.push(
    `${runs} run${runs === 1 ? "" : "s"} of ${trend.trends.length} scenario${trend.trends.length === 1 ? "" : "s"}` +
      `${trend.skipped.length > 0 ? `, ${trend.skipped.length} skipped` : ""}. Baseline: the median of up to ` +
      `${trend.baselineRuns} previous runs (errored runs excepted).`,
    "",
  );
  if (trend.checks.length > 0) {
    lines.push("| | regression gate |", "| --- | --- |");
    for (const check of trend.checks) {
      const mark = check.breached ? "✘" : check.note ? "–" : "✔";
      lines.push(`| ${mark} | ${cell(describeCheck(check))} |`);
    }
    lines.push("");
  }
  for (const scenario of trend.trends) {
    lines.push(
      `### ${scenario.scenario}`,
      "",
      "| started (UTC) | run | verdict | failover | recovery | downtime | availability | lost writes |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const run of [...scenario.runs].reverse()) {
      const m = run.result.metrics;
      lines.push(
        `| ${run.result.startedAt} | \`${run.result.runId}\` | ${run.result.verdict} | ` +
          `${formatMsWithin(m.failover.latencyMs, m.failover.latencyLowerMs, m.failover.latencyUpperMs)} | ` +
          `${formatMsWithin(m.recovery?.latencyMs, m.recovery?.latencyLowerMs, m.recovery?.latencyUpperMs)} | ` +
          `${formatMsWithin(m.downtime.totalMs, m.downtime.totalLowerMs, m.downtime.totalUpperMs)} | ` +
          `${formatRatioWithin(m.availability.ratio, m.availability.ratioLower, m.availability.ratioUpper)} | ` +
          `${m.writes.lostAcknowledged ?? "unknown"} |`,
      );
    }
    lines.push("");
  }
  if (trend.skipped.length > 0) {
    lines.push("### Skipped", "");
    for (const skip of trend.skipped) lines.push(`- \`${skip.file}\`: ${cell(skip.reason)}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A metric's value for people: durations in ms/s, ratios as percentages, counts as they are. */
export function formatValue(metric: string, value: number | null): string {
  if (value === null) return "n/a";
  if (metric.endsWith("Ms")) return formatMs(value);
  if (metric.endsWith("atio")) return formatRatio(value);
  return String(Math.round(value * 1000) / 1000);
}
