/** Reports for a set of trials: Markdown for people and job summaries, a short terminal summary. */
import picocolors from "picocolors";
import { BOUNDED_METRICS, type Bounded, type BoundedMetric, type TrialRow, type TrialsResult } from "../trials.ts";
import { formatActual, formatMs, formatMsWithin, formatRatio } from "./format.ts";

const VERDICT_MARK = { pass: "✅ pass", deviated: "❌ deviated", errored: "⚠️ errored" } as const;

/** A metric value for people: durations in ms/s, ratios as percentages, counts as they are. */
export function formatMetric(metric: string, value: number | null): string {
  if (value === null) return "n/a";
  if (metric.endsWith("Ms")) return formatMs(value);
  if (metric.toLowerCase().endsWith("ratio")) return formatRatio(value);
  return formatActual(value);
}

type Statistic = "min" | "median" | "p95" | "max";

const isBounded = (metric: string): metric is BoundedMetric => (BOUNDED_METRICS as readonly string[]).includes(metric);

/** "1.16 s +0/−50.0 ms": a trial's value with its error bars; "n/a" when no trial measured it. */
export function formatBounded(value: Bounded | null): string {
  return value === null ? "n/a" : formatMsWithin(value.ms, value.lowerMs, value.upperMs);
}

/** A distribution's cell: failover and recovery latency with the picked trial's error bars, the rest as formatMetric. */
export function formatStatistic(trials: TrialsResult, metric: string, statistic: Statistic): string {
  if (isBounded(metric)) return formatBounded(trials.bounds[metric][statistic]);
  return formatMetric(metric, trials.distributions[metric as keyof TrialsResult["distributions"]]?.[statistic] ?? null);
}

/** "failover in 2 of 3 trials (the primary changed); 1 recovered on the same primary". */
export function failoverCount(trials: TrialsResult): string {
  const { happened, noFailover, undetermined } = trials.failovers;
  const rest = [
    noFailover > 0 ? `${noFailover} without one (the same primary came back, or no fault)` : "",
    undetermined > 0 ? `${undetermined} undetermined (did not recover)` : "",
  ].filter(Boolean);
  return `failover (the primary changed) in ${happened} of ${trials.trials} trials${rest.length > 0 ? `; ${rest.join(", ")}` : ""}`;
}

/** A trial's failover cell: its latency with bounds, or why there is none. */
export function trialFailover(row: TrialRow): string {
  if (row.failoverHappened === true) return formatMsWithin(row.failoverMs, row.failoverLowerMs, row.failoverUpperMs);
  return row.failoverHappened === false ? "none" : "n/a";
}

/** A trial's recovery cell: fault → first acknowledged write after the outage, with bounds. */
export function trialRecovery(row: TrialRow): string {
  return row.recoveryMs === null ? "did not recover" : formatMsWithin(row.recoveryMs, row.recoveryLowerMs, row.recoveryUpperMs);
}

export function renderTrialsMarkdown(trials: TrialsResult): string {
  const lines = [
    `# pgdrill: ${trials.scenario} × ${trials.trials} trials`,
    "",
    `**${VERDICT_MARK[trials.verdict]}**${trials.reason ? ` — ${trials.reason}` : ""}`,
    "",
    `Gates are judged on the ${trials.statistic === "worst" ? "worst trial" : trials.statistic} across trials.`,
    "",
    `${capitalise(failoverCount(trials))}. Failover latency is measured only then; recovery (fault → first acknowledged ` +
      `write after the outage, whoever served it) in every trial that recovered. Each statistic carries the error bars of the ` +
      `trial it picked: writes may have become possible up to x earlier (−x) than the time shown.`,
    "",
    "## Distributions",
    "",
    "| metric | min | median | p95 | max | trials measured |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [metric, d] of Object.entries(trials.distributions)) {
    const cells = (["min", "median", "p95", "max"] as const).map((statistic) => formatStatistic(trials, metric, statistic));
    lines.push(`| \`${metric}\` | ${cells.join(" | ")} | ${d.count}/${trials.trials} |`);
  }
  if (trials.gates.length > 0) {
    lines.push("", "## Gates", "", "| gate | judged on | actual | |", "| --- | --- | --- | --- |");
    for (const gate of trials.gates) {
      lines.push(
        `| \`${gate.metric}\` ${gate.expected} | ${gate.statistic} | ${formatMetric(gate.metric, gate.actual)} | ` +
          `${gate.pass ? "✅" : "❌"} |`,
      );
    }
  }
  lines.push(
    "",
    "## Trials",
    "",
    "| # | run | verdict | failover | recovery | availability | lost writes |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  trials.perTrial.forEach((trial, index) => {
    lines.push(
      `| ${index + 1} | \`${trial.runId}\` | ${trial.verdict} | ${trialFailover(trial)} | ${trialRecovery(trial)} | ` +
        `${formatRatio(trial.availability)} | ${trial.lostAcknowledged ?? "unknown"} |`,
    );
  });
  return `${lines.join("\n")}\n`;
}

export function formatTrialsSummary(trials: TrialsResult, options: { color: boolean }): string {
  const c = picocolors.createColors(options.color);
  const paint = { pass: c.green, deviated: c.red, errored: c.yellow }[trials.verdict];
  const availability = trials.distributions["availability.ratio"];
  const spread = (metric: BoundedMetric) =>
    (["median", "p95", "max"] as const).map((statistic) => `${statistic} ${formatBounded(trials.bounds[metric][statistic])}`).join("  ");
  const lines = [
    `${c.bold(paint(trials.verdict.toUpperCase()))} ${c.bold(trials.scenario)} × ${trials.trials} trials` +
      `${trials.reason ? ` — ${trials.reason}` : ""}`,
    `  ${failoverCount(trials)}`,
    ...(trials.failovers.happened > 0 ? [`  failover     ${spread("failover.latencyMs")}`] : []),
    `  recovery     ${trials.bounds["recovery.latencyMs"].max === null ? "n/a: no trial recovered" : spread("recovery.latencyMs")}`,
    `  availability min ${formatRatio(availability?.min)}  median ${formatRatio(availability?.median)}  max ` +
      `${formatRatio(availability?.max)} (share of time)`,
  ];
  for (const gate of trials.gates) {
    lines.push(
      `  ${gate.pass ? c.green("✔") : c.red("✘")} ${gate.metric} ${gate.expected} (${gate.statistic}: ` +
        `${formatMetric(gate.metric, gate.actual)})`,
    );
  }
  return lines.join("\n");
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
