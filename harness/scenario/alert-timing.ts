/**
 * When an alert can fire after an outage begins, from its rule's `for` and the intervals that
 * stand between the outage and Prometheus noticing it; and whether a drill's expectations can be
 * met in that time at all. Pure arithmetic, so validation, the run (whose rules an existing
 * Prometheus says only then) and the checker all use the same numbers.
 *
 * After an outage begins, the next scrape sees it (0..scrapeInterval, plus up to scrapeTimeout
 * when the scrape itself hangs); the next evaluation makes the alert pending (0..evaluationInterval);
 * it fires at the first evaluation at or after pending + for; Alertmanager sends it after group_wait.
 */
import { formatDuration, formatMs } from "../duration.ts";
import { closest } from "../suggest.ts";

export interface Intervals {
  scrapeIntervalMs: number | null;
  /** null or absent: unknown, counted as the scrape interval (Prometheus refuses a longer timeout). */
  scrapeTimeoutMs?: number | null | undefined;
  evaluationIntervalMs: number | null;
  groupWaitMs: number | null;
}

export interface FiringWindow {
  /** The soonest the alert can fire: its `for`, with every scrape and evaluation lined up. */
  earliestMs: number;
  /** The latest it should fire in Prometheus, intervals included; null when they are unknown. */
  latestMs: number | null;
  /** The latest Alertmanager should send it (latestMs + group_wait); null when either is unknown. */
  notifiedLatestMs: number | null;
}

/** The window after an outage begins in which an alert with this `for` fires. */
export function firingWindow(input: Intervals & { forMs: number }): FiringWindow {
  const { forMs, scrapeIntervalMs, evaluationIntervalMs, groupWaitMs } = input;
  if (scrapeIntervalMs === null || evaluationIntervalMs === null) return { earliestMs: forMs, latestMs: null, notifiedLatestMs: null };
  const scrapeTimeoutMs = input.scrapeTimeoutMs ?? scrapeIntervalMs;
  const latestMs = scrapeIntervalMs + scrapeTimeoutMs + evaluationIntervalMs + forMs + evaluationIntervalMs;
  return { earliestMs: forMs, latestMs, notifiedLatestMs: groupWaitMs === null ? null : latestMs + groupWaitMs };
}

// ---- Whether the expectations can be met -----------------------------------------------------

/** An alerting rule as the timing needs it; `intervalMs` is its group's own evaluation interval, if set. */
export interface TimedRule {
  alert: string;
  forMs: number;
  intervalMs?: number | null | undefined;
}

export interface Expectations {
  /** The scenario's `monitoring.expect`, each `within` in ms. */
  expect: ReadonlyArray<{ alert: string; withinMs: number }>;
  mustNotFire: readonly string[];
  /** The alerting rules Prometheus evaluates. */
  rules: readonly TimedRule[];
  /** Where the rules came from, for messages ("alerts.yml", "the seed guide's rules", "Prometheus at https://…"). */
  rulesSource: string;
  intervals: Intervals;
  /** When the first fault or hand-over starts (ms from the start of probing); null: the schedule has none. */
  firstDisruptionAt: number | null;
  /** The drill's duration; null when unknown (its own problem is reported elsewhere). */
  durationMs: number | null;
}

const WHY_LATEST = " (its for, plus the scrape and evaluation intervals)";

/** A problem with the expectations, at a path of the scenario. */
export interface ExpectationProblem {
  path: Array<string | number>;
  problem: string;
  fix: string;
}

/**
 * What makes the expectations impossible to judge: an alert no rule has (with the closest name),
 * a `within` shorter than the alert's earliest possible firing, and a duration that ends before
 * an expected alert could be seen. Validation calls it when pgdrill starts Prometheus (the rules
 * are known then); a run that reads an existing Prometheus calls it once it has the rules.
 */
export function checkExpectations(input: Expectations): ExpectationProblem[] {
  const problems: ExpectationProblem[] = [];
  const names = [...new Set(input.rules.map((rule) => rule.alert))];
  const unknown = (path: ExpectationProblem["path"], alert: string) => {
    const meant = closest(alert, names);
    problems.push({
      path,
      problem: `no alerting rule "${alert}" in ${input.rulesSource}`,
      fix:
        (meant ? `Did you mean "${meant}"? ` : "") + (names.length ? `Its alerts are ${names.join(", ")}.` : "It has no alerting rules."),
    });
  };
  input.mustNotFire.forEach((alert, i) => names.includes(alert) || unknown(["monitoring", "mustNotFire", i], alert));

  // The longest any expectation needs after the first disruption, and whose it is.
  let need: { ms: number; alert: string; why: string } | null = null;
  for (const [i, { alert, withinMs }] of input.expect.entries()) {
    const window = soonestWindow(alert, input.rules, input.intervals);
    if (!window) {
      unknown(["monitoring", "expect", i, "alert"], alert);
      continue;
    }
    if (withinMs < window.earliestMs) {
      const enough = window.latestMs ?? window.earliestMs;
      problems.push({
        path: ["monitoring", "expect", i, "within"],
        problem:
          `${formatMs(withinMs)} is shorter than the soonest "${alert}" can fire, ${formatMs(window.earliestMs)} (its rule's for), ` +
          "so it can never be met",
        fix: `Set within to "${formatDuration(enough)}" or more${window.latestMs === null ? "" : WHY_LATEST}.`,
      });
    }
    const ms = Math.max(withinMs, window.latestMs ?? window.earliestMs);
    const why =
      window.latestMs !== null && window.latestMs > withinMs
        ? `"${alert}" may fire as late as ${formatMs(window.latestMs)} after it`
        : `"${alert}" is expected within ${formatMs(withinMs)} of it`;
    if (!need || ms > need.ms) need = { ms, alert, why };
  }

  if (need && input.firstDisruptionAt !== null && input.durationMs !== null && input.firstDisruptionAt + need.ms > input.durationMs) {
    const minimum = input.firstDisruptionAt + need.ms;
    problems.push({
      path: ["duration"],
      problem:
        `${formatMs(input.durationMs)} ends before the alerts can be judged: ` +
        `the first fault or hand-over is at ${formatMs(input.firstDisruptionAt)} ` +
        `and ${need.why}`,
      fix: `Set duration to at least "${formatDuration(minimum)}".`,
    });
  }
  return problems;
}

/**
 * The firing window of the rule for `alert` that can fire soonest (an alert may have several
 * rules, e.g. one per severity: the expectation is met by whichever fires first); null: no rule.
 */
function soonestWindow(alert: string, rules: readonly TimedRule[], intervals: Intervals): FiringWindow | null {
  let best: FiringWindow | null = null;
  for (const rule of rules) {
    if (rule.alert !== alert) continue;
    const window = firingWindow({
      ...intervals,
      evaluationIntervalMs: rule.intervalMs ?? intervals.evaluationIntervalMs,
      forMs: rule.forMs,
    });
    if (!best || (window.latestMs ?? window.earliestMs) < (best.latestMs ?? best.earliestMs)) best = window;
  }
  return best;
}
