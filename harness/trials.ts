/**
 * One drill is an anecdote; a distribution is evidence. `--trials N` runs the drill N times on
 * fresh targets, and the Gate judges the distribution: by default each gate must hold for the
 * worst trial (the maximum for upper bounds, the minimum for lower bounds); `--trial-statistic`
 * chooses a percentile instead (p95 judges upper bounds at the 95th percentile and lower bounds at
 * the 5th). A trial that errored makes the whole set errored: its numbers are missing.
 *
 * Failover latency is measured only when the primary changed, so a set of pauses or isolations
 * has none; the recovery (fault → first acknowledged write after the outage, whoever served it)
 * is summarised beside it, both with the error bars of the trial each statistic picked, and the
 * set says in how many trials a failover happened.
 */
import { compare, metricValue, type GateSpec } from "./gate/gate.ts";
import type { AlertGateMetric, GateMetric, NamedGateMetric } from "./gate/metrics.ts";
import type { GateResult, RunResult, Verdict } from "./result.ts";

export const TRIAL_STATISTICS = ["worst", "p95", "median"] as const;
export type TrialStatistic = (typeof TRIAL_STATISTICS)[number];

export interface Distribution {
  count: number;
  min: number | null;
  median: number | null;
  p95: number | null;
  max: number | null;
  values: Array<number | null>;
}

export interface TrialsResult {
  scenario: string;
  trials: number;
  statistic: TrialStatistic;
  verdict: Verdict;
  reason: string | null;
  /** Every gate metric, plus the two headline ones, across trials. */
  distributions: Distributions;
  gates: Array<GateResult & { statistic: string }>;
  /**
   * How many trials failed over (the primary changed), did not (the same primary came back, or nothing was injected), or could not say
   * (never recovered).
   */
  failovers: { happened: number; noFailover: number; undetermined: number };
  /** failover.latencyMs and recovery.latencyMs at each statistic, with the error bars of the trial it picked. */
  bounds: Record<BoundedMetric, BoundedStatistics>;
  perTrial: TrialRow[];
}

/** By metric; an alert's figures are named by the alert (gate/metrics.ts), so they are an index rather than fields. */
type Distributions = Partial<Record<NamedGateMetric, Distribution>> & Record<AlertGateMetric, Distribution>;

export const BOUNDED_METRICS = ["failover.latencyMs", "recovery.latencyMs"] as const satisfies readonly GateMetric[];
export type BoundedMetric = (typeof BOUNDED_METRICS)[number];

/** One trial's value with its error bars: the moment lies between lowerMs and upperMs (ms after the fault). */
export interface Bounded {
  ms: number;
  lowerMs: number | null;
  upperMs: number | null;
  /** Which trial it is, 1-based. */
  trial: number;
}

/** The trial at each nearest-rank statistic (the same ranks as Distribution), null when no trial measured it. */
export interface BoundedStatistics {
  min: Bounded | null;
  median: Bounded | null;
  p95: Bounded | null;
  max: Bounded | null;
}

export interface TrialRow {
  runId: string;
  verdict: Verdict;
  /** failover.happened: true (the primary changed), false (the same primary came back), null (cannot be said). */
  failoverHappened: boolean | null;
  failoverMs: number | null;
  failoverLowerMs: number | null;
  failoverUpperMs: number | null;
  recoveryMs: number | null;
  recoveryLowerMs: number | null;
  recoveryUpperMs: number | null;
  availability: number | null;
  lostAcknowledged: number | null;
}

/** Nearest-rank percentile: with few trials, an observed value beats an interpolated one. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Each statistic's trial, by the same nearest ranks as `distribution`; ties keep trial order. */
export function boundedStatistics(values: ReadonlyArray<Omit<Bounded, "trial"> | null>): BoundedStatistics {
  const measured = values.flatMap((value, index) => (value === null ? [] : [{ ...value, trial: index + 1 }])).sort((a, b) => a.ms - b.ms);
  const at = (p: number) =>
    measured.length === 0 ? null : measured[Math.min(measured.length - 1, Math.max(0, Math.ceil((p / 100) * measured.length) - 1))]!;
  return { min: measured[0] ?? null, median: at(50), p95: at(95), max: measured.at(-1) ?? null };
}

export function distribution(values: ReadonlyArray<number | null>): Distribution {
  const measured = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  return {
    count: measured.length,
    min: measured[0] ?? null,
    median: percentile(measured, 50),
    p95: percentile(measured, 95),
    max: measured.at(-1) ?? null,
    values: [...values],
  };
}

/** The value a gate is judged on, for its direction and the chosen statistic. */
function judgedValue(
  spec: GateSpec,
  values: ReadonlyArray<number | null>,
  statistic: TrialStatistic,
): { value: number | null; label: string } {
  // A trial that could not measure the metric fails the gate, as a single run would.
  if (values.some((value) => value === null)) return { value: null, label: "all trials" };
  const sorted = (values as number[]).toSorted((a, b) => a - b);
  const upper = spec.operator === "<" || spec.operator === "<=";
  const lower = spec.operator === ">" || spec.operator === ">=";
  if (!upper && !lower) {
    // == and != have no direction: every trial must satisfy them; report the first that does not.
    const offending = sorted.find((value) => !compare(value, spec.operator, spec.threshold));
    return { value: offending ?? sorted[0]!, label: "every trial" };
  }
  if (statistic === "worst") return { value: upper ? sorted.at(-1)! : sorted[0]!, label: upper ? "max" : "min" };
  if (statistic === "median") return { value: percentile(sorted, 50), label: "median" };
  return upper ? { value: percentile(sorted, 95), label: "p95" } : { value: percentile(sorted, 5), label: "p5" };
}

export function summarizeTrials(
  results: readonly RunResult[],
  gates: readonly GateSpec[],
  statistic: TrialStatistic = "worst",
): TrialsResult {
  const metrics = new Set<GateMetric>([
    "failover.latencyMs",
    "recovery.latencyMs",
    "availability.ratio",
    "writes.lostAcknowledged",
    ...gates.map((gate) => gate.metric),
  ]);
  const distributions: Distributions = {};
  for (const metric of metrics) distributions[metric] = distribution(results.map((result) => metricValue(result.metrics, metric)));

  const gateResults = gates.map((spec) => {
    const { value, label } = judgedValue(
      spec,
      results.map((result) => metricValue(result.metrics, spec.metric)),
      statistic,
    );
    return { ...spec, actual: value, pass: value !== null && compare(value, spec.operator, spec.threshold), statistic: label };
  });

  const errored = results.filter((result) => result.verdict === "errored");
  const failed = gateResults.filter((gate) => !gate.pass);
  let verdict: Verdict = "pass";
  let reason: string | null = null;
  if (results.length === 0 || errored.length > 0) {
    verdict = "errored";
    reason =
      results.length === 0 ? "no trial ran" : `${errored.length} of ${results.length} trials errored: ${errored[0]!.reason ?? "no reason"}`;
  } else if (failed.length > 0) {
    verdict = "deviated";
    reason = failed
      .map(
        (gate) =>
          `${gate.metric} (${gate.statistic} over ${results.length} trials) was ${gate.actual ?? "not measured"}, expected ` +
          `${gate.expected}`,
      )
      .join("; ");
  }
  const rows = results.map(trialRow);
  const bounded = (metric: BoundedMetric) =>
    boundedStatistics(
      rows.map((row) => {
        const [ms, lowerMs, upperMs] =
          metric === "failover.latencyMs"
            ? [row.failoverMs, row.failoverLowerMs, row.failoverUpperMs]
            : [row.recoveryMs, row.recoveryLowerMs, row.recoveryUpperMs];
        return ms === null ? null : { ms, lowerMs, upperMs };
      }),
    );
  return {
    scenario: results[0]?.scenario ?? "unknown",
    trials: results.length,
    statistic,
    verdict,
    reason,
    distributions,
    gates: gateResults,
    failovers: {
      happened: rows.filter((row) => row.failoverHappened === true).length,
      noFailover: rows.filter((row) => row.failoverHappened === false).length,
      undetermined: rows.filter((row) => row.failoverHappened === null).length,
    },
    bounds: { "failover.latencyMs": bounded("failover.latencyMs"), "recovery.latencyMs": bounded("recovery.latencyMs") },
    perTrial: rows,
  };
}

function trialRow(result: RunResult): TrialRow {
  const { failover, recovery } = result.metrics;
  return {
    runId: result.runId,
    verdict: result.verdict,
    failoverHappened: failover.happened,
    failoverMs: failover.latencyMs,
    failoverLowerMs: failover.latencyLowerMs,
    failoverUpperMs: failover.latencyUpperMs,
    recoveryMs: recovery.latencyMs,
    recoveryLowerMs: recovery.latencyLowerMs,
    recoveryUpperMs: recovery.latencyUpperMs,
    availability: result.metrics.availability.ratio,
    lostAcknowledged: result.metrics.writes.lostAcknowledged,
  };
}
