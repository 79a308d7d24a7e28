/**
 * Trends across runs (`pgdrill trend DIR...`): the result.json of many run directories, for
 * example the artifacts of a nightly workflow, read and checked at the boundary, grouped by
 * scenario and ordered by when each run started; and a regression gate that compares each
 * scenario's latest run with the median of the runs before it.
 *
 * Computing only: trend-html.ts and trend-md.ts draw what this returns. Nothing here re-analyses a
 * History: a result.json is what the run concluded, and an older one whose shape differs from
 * today's is refused with the file and the field, not guessed at.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { metricValue } from "../gate/gate.ts";
import { isGateMetric, unknownMetricFix, type GateMetric } from "../gate/metrics.ts";
import type { Metrics, Verdict } from "../result.ts";

// ---- Reading run directories ----------------------------------------------------------------

const measured = z.number().nullable();
const bound = z.number().nullable().optional();

/** What a trend reads of result.json; other fields may be there (loose objects) and are kept. */
const trendResult = z.looseObject({
  scenario: z.string().min(1),
  runId: z.string().min(1),
  target: z.string().optional(),
  startedAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date and time, e.g. 2026-12-01T12:43:30.385Z" }),
  durationMs: z.number().optional(),
  verdict: z.enum(["pass", "deviated", "errored"]),
  reason: z.string().nullable().optional(),
  complete: z.boolean().optional(),
  metrics: z.looseObject({
    availability: z.looseObject({ ratio: measured, ratioLower: bound, ratioUpper: bound }),
    downtime: z.looseObject({ totalMs: z.number(), totalLowerMs: bound, totalUpperMs: bound, longestMs: bound }),
    failover: z.looseObject({
      happened: z.boolean().nullable().optional(),
      latencyMs: measured,
      latencyLowerMs: bound,
      latencyUpperMs: bound,
    }),
    recovery: z.looseObject({ latencyMs: measured, latencyLowerMs: bound, latencyUpperMs: bound }).optional(),
    writes: z.looseObject({ lostAcknowledged: measured }),
  }),
});

export type TrendResult = z.output<typeof trendResult>;

/** One run as the trend sees it. */
export interface TrendRun {
  /** The run directory (absolute). */
  dir: string;
  result: TrendResult;
  /** startedAt as ms since the epoch. */
  startedMs: number;
}

export interface SkippedRun {
  /** The result.json that could not be used. */
  file: string;
  reason: string;
}

export interface RunCollection {
  runs: TrendRun[];
  skipped: SkippedRun[];
}

/** Directories never looked into: they hold no runs and can be huge. */
const SKIPPED_DIRS = new Set(["node_modules", ".git"]);
const MAX_DEPTH = 12;

/**
 * Every run directory (one holding a result.json) under `paths`, however deep (a trials
 * directory's trial-N/ included), each result.json checked. A path that is itself a result.json
 * counts too. Unreadable or malformed ones are skipped and listed with why; the same run (scenario
 * and run id) found twice, in two downloaded artifacts say, is read once.
 */
export function collectRuns(paths: readonly string[]): RunCollection {
  const runs: TrendRun[] = [];
  const skipped: SkippedRun[] = [];
  const seen = new Set<string>();
  const visit = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      skipped.push({ file: dir, reason: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
      return;
    }
    if (entries.some((entry) => entry.isFile() && entry.name === "result.json")) take(join(dir, "result.json"));
    if (depth >= MAX_DEPTH) return;
    for (const entry of entries) if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) visit(join(dir, entry.name), depth + 1);
  };
  const take = (file: string) => {
    const read = readRunResult(file);
    if ("reason" in read) {
      skipped.push(read);
      return;
    }
    const key = `${read.result.scenario}\u0000${read.result.runId}`;
    if (seen.has(key)) return;
    seen.add(key);
    runs.push(read);
  };
  for (const path of paths) {
    const absolute = resolve(path);
    let stat;
    try {
      stat = statSync(absolute);
    } catch {
      throw new InputError(path, "does not exist", "Give run directories, or directories that hold them (e.g. a downloaded artifact).");
    }
    if (stat.isDirectory()) visit(absolute, 0);
    else if (basename(absolute) === "result.json") take(absolute);
    else throw new InputError(path, "is neither a directory nor a result.json", "Give run directories, or directories that hold them.");
  }
  runs.sort((a, b) => a.startedMs - b.startedMs || a.result.runId.localeCompare(b.result.runId));
  return { runs, skipped };
}

/** One result.json, checked: the run, or why it cannot be used (the field named). */
export function readRunResult(file: string): TrendRun | SkippedRun {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason =
      error instanceof SyntaxError
        ? `is not JSON (${error.message})`
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    return { file, reason };
  }
  const checked = trendResult.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(the whole file)";
    const more = checked.error.issues.length > 1 ? ` (and ${checked.error.issues.length - 1} more)` : "";
    return { file, reason: `${field}: ${issue.message}${more}: not a pgdrill result.json, or one from a version whose results differ` };
  }
  return { dir: resolve(file, ".."), result: checked.data, startedMs: Date.parse(checked.data.startedAt) };
}

// ---- Series ---------------------------------------------------------------------------------

/** A scenario's runs, oldest first. */
export interface ScenarioTrend {
  scenario: string;
  runs: TrendRun[];
}

export function byScenario(runs: readonly TrendRun[]): ScenarioTrend[] {
  const groups = new Map<string, TrendRun[]>();
  for (const run of runs) {
    const group = groups.get(run.result.scenario) ?? [];
    group.push(run);
    groups.set(run.result.scenario, group);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([scenario, group]) => ({ scenario, runs: group }));
}

/** A metric of one run, by its gate name (GATE_METRICS), or null when it was not measured or the run's result lacks it. */
export function runMetric(run: TrendRun, metric: GateMetric): number | null {
  return metricValue(run.result.metrics as unknown as Metrics, metric);
}

// ---- The regression gate --------------------------------------------------------------------

export interface RegressionSpec {
  metric: GateMetric;
  /** "+": worse when higher (latencies, downtime, lost writes); "-": worse when lower (availability). */
  direction: "+" | "-";
  amount: number;
  /** The amount is a share of the baseline (written with %), else in the metric's own unit. */
  relative: boolean;
  /** As written, e.g. "failover.latencyMs:+25%". */
  text: string;
}

const REGRESSION = /^\s*([A-Za-z0-9_:.]+?)\s*:(?=\s*[+-])\s*([+-])\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/;

/** "failover.latencyMs:+25%", "availability.ratio:-1%", "writes.lostAcknowledged:+0". */
export function parseRegression(text: string): RegressionSpec {
  const match = REGRESSION.exec(text);
  if (!match) {
    throw new InputError(
      "--regression",
      `"${text}" is not metric:+N% or metric:-N%`,
      "Write e.g. 'failover.latencyMs:+25%' (worse when higher by more than 25% of the baseline), 'availability.ratio:-1%' " +
        "(worse when lower), or an amount in the metric's unit, 'downtime.totalMs:+500'.",
    );
  }
  const [, metric, direction, amount, percent] = match as unknown as [string, string, "+" | "-", string, string];
  if (!isGateMetric(metric)) throw new InputError("--regression", `unknown metric "${metric}"`, unknownMetricFix(metric));
  return { metric: metric as GateMetric, direction, amount: Number(amount), relative: percent === "%", text: text.trim() };
}

export interface RegressionCheck {
  scenario: string;
  spec: RegressionSpec;
  /** The latest run, and its value of the metric (null: not measured). */
  latest: TrendRun;
  value: number | null;
  /** Median of the metric over the previous runs that measured it (errored runs excepted); null without any. */
  baseline: number | null;
  /** How many runs the baseline is the median of. */
  baselineRuns: number;
  /** The value past which the latest run is worse (baseline ± the amount). */
  limit: number | null;
  breached: boolean;
  /** Why not judged, when it was not: no baseline, the latest run errored. */
  note?: string;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Each scenario's latest run against the median of the previous `baselineRuns` runs. An errored
 * run's numbers cannot be trusted: it is not part of a baseline, and a latest run that errored is
 * not judged (its own verdict already says so). A latest run that did not measure the metric while
 * the baseline did is a breach, as a gate on an unmeasured metric fails.
 */
export function checkRegressions(
  trends: readonly ScenarioTrend[],
  specs: readonly RegressionSpec[],
  baselineRuns: number,
): RegressionCheck[] {
  const checks: RegressionCheck[] = [];
  for (const trend of trends) {
    const latest = trend.runs.at(-1);
    if (!latest) continue;
    const previous = trend.runs.slice(0, -1).filter((run) => run.result.verdict !== "errored");
    for (const spec of specs) {
      const measuredBefore = previous
        .map((run) => runMetric(run, spec.metric))
        .filter((value): value is number => value !== null)
        .slice(-baselineRuns);
      const baseline = median(measuredBefore);
      const value = runMetric(latest, spec.metric);
      const base = { scenario: trend.scenario, spec, latest, value, baseline, baselineRuns: measuredBefore.length };
      if (latest.result.verdict === "errored") {
        checks.push({
          ...base,
          limit: null,
          breached: false,
          note: `the latest run errored (${latest.result.reason ?? "no reason recorded"}): its numbers are not compared`,
        });
        continue;
      }
      if (baseline === null) {
        checks.push({ ...base, limit: null, breached: false, note: "no earlier run measured it: no baseline yet" });
        continue;
      }
      const margin = spec.relative ? (Math.abs(baseline) * spec.amount) / 100 : spec.amount;
      const limit = spec.direction === "+" ? baseline + margin : baseline - margin;
      const breached = value === null || (spec.direction === "+" ? value > limit : value < limit);
      checks.push({ ...base, limit, breached, ...(value === null ? { note: "not measured in the latest run" } : {}) });
    }
  }
  return checks;
}

export interface Trend {
  trends: ScenarioTrend[];
  skipped: SkippedRun[];
  checks: RegressionCheck[];
  baselineRuns: number;
  /** Where the run directories were looked for, as given. */
  sources: string[];
}

/** Everything a trend page shows, from the paths given. */
export function buildTrend(paths: readonly string[], specs: readonly RegressionSpec[], baselineRuns: number): Trend {
  const { runs, skipped } = collectRuns(paths);
  const trends = byScenario(runs);
  return { trends, skipped, checks: checkRegressions(trends, specs, baselineRuns), baselineRuns, sources: [...paths] };
}

/** A run directory relative to `from` (where trend.html is), so links hold while the tree moves as one. */
export function runLabel(run: TrendRun, from: string): string {
  return relative(from, run.dir) || ".";
}

export type { Verdict };
