/**
 * trend.html: one self-contained page (inline CSS, inline SVG charts drawn in Node with Vega-Lite as
 * report.html's timeline is, no scripts, no network) with, per scenario, its runs over time:
 * failover and recovery latency with their bounds, downtime with its bounds, availability with its
 * range, lost acknowledged writes, and each run's verdict; the regression gate; what was skipped.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { formatMsWithin, formatRatioWithin } from "../report/format.ts";
import { escapeHtml as e, mark, pageHead, table, VERDICT_COLORS } from "../report/html-page.ts";
import { runLabel, type ScenarioTrend, type Trend } from "./trend.ts";
import { describeCheck, formatValue, regressionVerdict } from "./trend-md.ts";

const WIDTH = 820;
const RUN_COLUMNS = ["started (UTC)", "run", "verdict", "failover", "recovery", "downtime", "availability", "lost writes"];

/** The rows a chart draws: one per run, with the value and its bounds (null where not measured). */
interface Row {
  at: number;
  run: string;
  verdict: string;
  value: number | null;
  lower: number | null;
  upper: number | null;
}

interface Panel {
  title: string;
  unit: string;
  rows: Row[];
}

function panels(trend: ScenarioTrend): Panel[] {
  const row = (
    run: ScenarioTrend["runs"][number],
    value: number | null | undefined,
    lower?: number | null,
    upper?: number | null,
  ): Row => ({
    at: run.startedMs,
    run: run.result.runId,
    verdict: run.result.verdict,
    value: value ?? null,
    lower: lower ?? value ?? null,
    upper: upper ?? value ?? null,
  });
  const runs = trend.runs;
  return [
    {
      title: "Failover latency (fault → first acknowledged write on the new primary), with its bounds",
      unit: "ms",
      rows: runs.map((run) => {
        const f = run.result.metrics.failover;
        return row(run, f.latencyMs, f.latencyLowerMs, f.latencyUpperMs);
      }),
    },
    {
      title: "Recovery latency (fault → first acknowledged write, whoever served it), with its bounds",
      unit: "ms",
      rows: runs.map((run) => {
        const r = run.result.metrics.recovery;
        return row(run, r?.latencyMs, r?.latencyLowerMs, r?.latencyUpperMs);
      }),
    },
    {
      title: "Downtime of the availability probe (total), with its bounds",
      unit: "ms",
      rows: runs.map((run) => {
        const d = run.result.metrics.downtime;
        return row(run, d.totalMs, d.totalLowerMs, d.totalUpperMs);
      }),
    },
    {
      title: "Availability (share of time served), with its range",
      unit: "share",
      rows: runs.map((run) => {
        const a = run.result.metrics.availability;
        return row(run, a.ratio, a.ratioLower, a.ratioUpper);
      }),
    },
    { title: "Lost acknowledged writes", unit: "writes", rows: runs.map((run) => row(run, run.result.metrics.writes.lostAcknowledged)) },
  ];
}

/** One SVG per scenario: the panels stacked on one time axis, points coloured by verdict. */
export async function renderScenarioSvg(trend: ScenarioTrend): Promise<string> {
  const times = trend.runs.map((run) => run.startedMs);
  // A single run (or runs at one instant) still gets a readable axis: a minute either side.
  const from = Math.min(...times);
  const to = Math.max(...times);
  const pad = Math.max(60_000, (to - from) * 0.04);
  const x = {
    field: "at",
    type: "temporal",
    title: null,
    scale: { type: "utc", domain: [from - pad, to + pad], nice: false },
    axis: { format: "%Y-%m-%d %H:%M", labelAngle: 0, labelOverlap: true },
  } as const;
  const verdictColor = {
    field: "verdict",
    type: "nominal",
    title: "verdict",
    scale: { domain: Object.keys(VERDICT_COLORS), range: Object.values(VERDICT_COLORS) },
    legend: { symbolType: "circle" },
  } as const;
  const tooltip = [{ field: "run", title: "run" }, { field: "verdict" }, { field: "value", title: "value" }];
  const chart = (panel: Panel) => ({
    title: { text: panel.title, anchor: "start", fontSize: 12 },
    width: WIDTH,
    height: 110,
    data: { values: panel.rows.filter((r) => r.value !== null) },
    layer: [
      {
        mark: { type: "line", color: "#bbb", strokeWidth: 1 },
        encoding: { x, y: { field: "value", type: "quantitative", title: panel.unit, scale: { zero: panel.unit !== "share" } } },
      },
      {
        mark: { type: "rule", color: "#555", strokeWidth: 1.5 },
        encoding: { x, y: { field: "lower", type: "quantitative" }, y2: { field: "upper" } },
      },
      {
        mark: { type: "point", filled: true, size: 50, opacity: 1 },
        encoding: { x, y: { field: "value", type: "quantitative" }, color: verdictColor, tooltip },
      },
    ],
  });
  const verdicts = {
    title: { text: "Verdict of each run", anchor: "start", fontSize: 12 },
    width: WIDTH,
    height: 30,
    data: { values: trend.runs.map((run) => ({ at: run.startedMs, run: run.result.runId, verdict: run.result.verdict })) },
    mark: { type: "tick", thickness: 3, size: 24, opacity: 1 },
    encoding: { x: { ...x, title: "run started (UTC)" }, color: verdictColor, tooltip: [{ field: "run" }, { field: "verdict" }] },
  };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: { font: "system-ui, sans-serif", axis: { labelFontSize: 10, titleFontSize: 10 }, view: { stroke: "#ddd" } },
    vconcat: [...panels(trend).map(chart), verdicts],
    resolve: { scale: { color: "shared" } },
  };
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderTrendHtml(trend: Trend, outDir: string): Promise<string> {
  const verdict = regressionVerdict(trend);
  const sections: string[] = [];
  for (const scenario of trend.trends) {
    const svg = await renderScenarioSvg(scenario);
    const rows = [...scenario.runs].reverse().map((run) => {
      const m = run.result.metrics;
      const href = `${encodeURI(runLabel(run, outDir).split("\\").join("/"))}/report.html`;
      return [
        `<time>${e(run.result.startedAt)}</time>`,
        `<a href="${e(href)}"><code>${e(run.result.runId)}</code></a>`,
        `<span class="verdict" style="background: ${VERDICT_COLORS[run.result.verdict]}; font-size: 11px">${e(run.result.verdict)}</span>`,
        e(formatMsWithin(m.failover.latencyMs, m.failover.latencyLowerMs, m.failover.latencyUpperMs)),
        e(formatMsWithin(m.recovery?.latencyMs, m.recovery?.latencyLowerMs, m.recovery?.latencyUpperMs)),
        e(formatMsWithin(m.downtime.totalMs, m.downtime.totalLowerMs, m.downtime.totalUpperMs)),
        e(formatRatioWithin(m.availability.ratio, m.availability.ratioLower, m.availability.ratioUpper)),
        e(m.writes.lostAcknowledged ?? "unknown"),
      ];
    });
    const checks = trend.checks.filter((check) => check.scenario === scenario.scenario);
    sections.push(`<section id="${e(`scenario-${scenario.scenario}`)}">
<h2>${e(scenario.scenario)} <span class="meta">${scenario.runs.length} run${scenario.runs.length === 1 ? "" : "s"}</span></h2>
<div class="chart">${svg}</div>
${
  checks.length > 0
    ? table(
        `regressions-${scenario.scenario}`,
        ["regression gate", "latest", `baseline (median)`, "limit", "result"],
        checks.map((check) => [
          `<code>${e(check.spec.text)}</code>`,
          e(formatValue(check.spec.metric, check.value)),
          `${e(formatValue(check.spec.metric, check.baseline))} <span class="meta">of ${check.baselineRuns}</span>`,
          e(formatValue(check.spec.metric, check.limit)),
          check.note && !check.breached ? `<span class="meta">${e(check.note)}</span>` : mark(!check.breached),
        ]),
      )
    : ""
}
<h3>Runs, latest first</h3>
${table(`runs-${scenario.scenario}`, RUN_COLUMNS, rows)}
</section>`);
  }
  const breaches = trend.checks.filter((check) => check.breached);
  const reasons =
    breaches.length > 0
      ? `<ul class="reason">${breaches.map((check) => `<li class="bad">${e(describeCheck(check))}</li>`).join("")}</ul>`
      : "";
  const skipped =
    trend.skipped.length > 0
      ? `<section><h2>Skipped</h2>${table(
          "skipped",
          ["file", "why"],
          trend.skipped.map((skip) => [`<code>${e(skip.file)}</code>`, e(skip.reason)]),
        )}</section>`
      : "";
  const colour = verdict === "breached" ? VERDICT_COLORS.deviated : VERDICT_COLORS.pass;
  return (
    `${pageHead(
      `pgdrill trend: ${trend.trends.map((t) => e(t.scenario)).join(", ")} — ${e(verdict)}`,
      `  .chart svg { max-width: 100%; height: auto; }
  header .verdict { background: ${colour}; }`,
    )}
<header>
  <h1>pgdrill trend <span class="verdict">${e(verdict)}</span></h1>
  <div class="meta">${trend.trends.reduce((sum, t) => sum + t.runs.length, 0)} runs of ${trend.trends.length} scenario` +
    `${trend.trends.length === 1 ? "" : "s"} from ${trend.sources.map((source) => `<code>${e(source)}</code>`).join(", ")}` +
    `${trend.skipped.length > 0 ? ` · ${trend.skipped.length} skipped` : ""} · regression baseline: the median of up to ` +
    `${trend.baselineRuns} previous runs</div>
  ${reasons}
  <p class="meta">Each point is a run, coloured by its verdict; a vertical bar is the range the measurement's edges allow ` +
    `(a probe's cadence). Errored runs are drawn but never part of a baseline.</p>
</header>
${sections.join("\n")}
${skipped}
<footer class="meta"><p>Generated by <code>pgdrill trend</code> from each run's result.json.</p></footer>
</body>
</html>
`
  );
}
