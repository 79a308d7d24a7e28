/** Reports for a set of trials: Markdown for people and job summaries, a short terminal summary. */
import picocolors from "picocolors";
import type { TrialsResult } from "../trials.ts";
import { formatActual, formatMs, formatRatio } from "./format.ts";

const VERDICT_MARK = { pass: "✅ pass", deviated: "❌ deviated", errored: "⚠️ errored" } as const;

/** A metric value for people: durations in ms/s, ratios as percentages, counts as they are. */
export function formatMetric(metric: string, value: number | null): string {
  if (value === null) return "n/a";
  if (metric.endsWith("Ms")) return formatMs(value);
  if (metric.toLowerCase().endsWith("ratio")) return formatRatio(value);
  return formatActual(value);
}

export function renderTrialsMarkdown(trials: TrialsResult): string {
  const lines = [
    `# pgdrill: ${trials.scenario} × ${trials.trials} trials`,
    "",
    `**${VERDICT_MARK[trials.verdict]}**${trials.reason ? ` — ${trials.reason}` : ""}`,
    "",
    `Gates are judged on the ${trials.statistic === "worst" ? "worst trial" : trials.statistic} across trials.`,
    "",
    "## Distributions",
    "",
    "| metric | min | median | p95 | max | trials measured |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [metric, d] of Object.entries(trials.distributions)) {
    lines.push(`| \`${metric}\` | ${formatMetric(metric, d.min)} | ${formatMetric(metric, d.median)} | ${formatMetric(metric, d.p95)} | ${formatMetric(metric, d.max)} | ${d.count}/${trials.trials} |`);
  }
  if (trials.gates.length > 0) {
    lines.push("", "## Gates", "", "| gate | judged on | actual | |", "| --- | --- | --- | --- |");
    for (const gate of trials.gates) {
      lines.push(`| \`${gate.metric}\` ${gate.expected} | ${gate.statistic} | ${formatMetric(gate.metric, gate.actual)} | ${gate.pass ? "✅" : "❌"} |`);
    }
  }
  lines.push("", "## Trials", "", "| # | run | verdict | failover | availability | lost writes |", "| --- | --- | --- | --- | --- | --- |");
  trials.perTrial.forEach((trial, index) => {
    lines.push(
      `| ${index + 1} | \`${trial.runId}\` | ${trial.verdict} | ${formatMs(trial.failoverMs)} | ${formatRatio(trial.availability)} | ${trial.lostAcknowledged ?? "unknown"} |`,
    );
  });
  return `${lines.join("\n")}\n`;
}

export function formatTrialsSummary(trials: TrialsResult, options: { color: boolean }): string {
  const c = picocolors.createColors(options.color);
  const paint = { pass: c.green, deviated: c.red, errored: c.yellow }[trials.verdict];
  const failover = trials.distributions["failover.latencyMs"];
  const availability = trials.distributions["availability.ratio"];
  const lines = [
    `${c.bold(paint(trials.verdict.toUpperCase()))} ${c.bold(trials.scenario)} × ${trials.trials} trials${trials.reason ? ` — ${trials.reason}` : ""}`,
    `  failover     min ${formatMs(failover?.min)}  median ${formatMs(failover?.median)}  p95 ${formatMs(failover?.p95)}  max ${formatMs(failover?.max)}`,
    `  availability min ${formatRatio(availability?.min)}  median ${formatRatio(availability?.median)}  max ${formatRatio(availability?.max)}`,
  ];
  for (const gate of trials.gates) {
    lines.push(`  ${gate.pass ? c.green("✔") : c.red("✘")} ${gate.metric} ${gate.expected} (${gate.statistic}: ${formatMetric(gate.metric, gate.actual)})`);
  }
  return lines.join("\n");
}
