/**
 * Before the fault: what the monitoring can and cannot say. Waits (bounded) until Prometheus has
 * evaluated every alerting rule and scraped every target once, so what it holds is what the scrape
 * really has, then reads the rules as Prometheus loaded them, the intervals and Alertmanager's
 * group_wait, and works out for each rule the metrics it reads, which of them no scraped target
 * exposes, and when it can fire at the soonest and should at the latest after an outage begins.
 *
 * Returns the `alerting` setup event and warnings to log now, before the fault: a rule that reads a
 * metric nobody exposes cannot fire, whatever the drill does, and a person should hear it first.
 */
import { formatDuration } from "../duration.ts";
import { closest } from "../suggest.ts";
import type { AlertingRuleRecord } from "../history/events.ts";
import type { AlertmanagerApi, PrometheusAlertingRule, PrometheusApi, PrometheusIntervals, ScrapeTarget } from "./api.ts";
import type { AlertingObservation } from "./watch.ts";

/** What bounds one rule's firing time (harness/scenario/alert-timing.ts `firingWindow`'s input); null where not known. */
export interface RuleTiming {
  forMs: number;
  scrapeIntervalMs: number | null;
  scrapeTimeoutMs: number | null;
  evaluationIntervalMs: number | null;
  groupWaitMs: number | null;
}

/** After an outage begins: the soonest a rule can fire and the latest it should (null when the intervals are not known). */
export type FiringWindowOf = (timing: RuleTiming) => { earliestMs: number; latestMs: number | null };

export interface PreflightOptions {
  prometheus: Pick<PrometheusApi, "url" | "alertingRules" | "scrapeTargets" | "metricNames" | "globalConfig">;
  alertmanager: Pick<AlertmanagerApi, "url" | "groupWaitMs"> | null;
  source: "started" | "existing";
  /** The scenario's `monitoring.expect` (within in ms) and `monitoring.mustNotFire`. */
  expect: ReadonlyArray<{ alert: string; withinMs: number; labels?: Record<string, string> | undefined }>;
  mustNotFire: readonly string[];
  /** The metric names an expression reads (harness/scenario/alert-rules.ts `metricsOf`). */
  metricsOf: (expr: string) => string[];
  firingWindow: FiringWindowOf;
  /** The longest wait for the first evaluation and scrape; by default twice the longest interval, plus 15 s. */
  waitMs?: number;
  /** How often to look again while waiting. */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface Preflight {
  setup: AlertingObservation & { subject: "setup"; rules: AlertingRuleRecord[] };
  /** To log before the fault, one line each: rules that cannot fire, rules that fail, expected alerts no rule has. */
  warnings: string[];
}

const DEFAULT_POLL_MS = 500;
const WAIT_MARGIN_MS = 15_000;
/** When Prometheus does not say its intervals: its own default of one minute, twice, plus the margin. */
const UNKNOWN_INTERVAL_MS = 60_000;

/** Reads what the monitoring is set up to say; throws only when Prometheus (or Alertmanager) cannot be read at all. */
export async function preflight(options: PreflightOptions): Promise<Preflight> {
  const { prometheus, alertmanager } = options;
  const intervals = await prometheus.globalConfig();
  const groupWaitMs = alertmanager ? await alertmanager.groupWaitMs() : null;
  const warnings: string[] = [];
  const { rules, waited } = await firstEvaluation(options, intervals);
  warnings.push(...waited);
  const names = new Set(await prometheus.metricNames());

  const records = rules.map((rule): AlertingRuleRecord => {
    const metrics = options.metricsOf(rule.query);
    const missingMetrics = metrics.filter((metric) => !names.has(metric));
    const forMs = Math.round(rule.duration * 1000);
    const window = options.firingWindow({
      forMs,
      scrapeIntervalMs: intervals.scrapeIntervalMs,
      scrapeTimeoutMs: intervals.scrapeTimeoutMs,
      // A group may set its own interval; it is the one its rules are evaluated at.
      evaluationIntervalMs: rule.groupIntervalMs ?? intervals.evaluationIntervalMs,
      groupWaitMs,
    });
    return {
      alert: rule.name,
      group: rule.group,
      expr: rule.query,
      forMs,
      labels: rule.labels,
      metrics,
      missingMetrics,
      earliestMs: window.earliestMs,
      latestMs: window.latestMs,
    };
  });

  for (const record of records) {
    for (const metric of record.missingMetrics) {
      const near = closest(metric, names);
      warnings.push(`${record.alert} reads ${metric}, which no scraped target exposes${near ? ` (closest: ${near})` : ""}`);
    }
  }
  for (const rule of rules) {
    if (rule.health === "err") warnings.push(`${rule.name} fails when Prometheus evaluates it: ${rule.lastError ?? "no error given"}`);
  }
  const ruleNames = new Set(rules.map((rule) => rule.name));
  const unknown = (field: string, alert: string) => {
    const near = closest(alert, ruleNames);
    return `${field} names ${alert}, which no alerting rule Prometheus loaded has${near ? ` (closest: ${near})` : ""}`;
  };
  for (const { alert } of options.expect) if (!ruleNames.has(alert)) warnings.push(unknown("monitoring.expect", alert));
  for (const alert of options.mustNotFire) if (!ruleNames.has(alert)) warnings.push(unknown("monitoring.mustNotFire", alert));

  return {
    setup: {
      kind: "alerting",
      subject: "setup",
      source: options.source,
      prometheus: prometheus.url,
      alertmanager: alertmanager?.url ?? null,
      scrapeIntervalMs: intervals.scrapeIntervalMs,
      evaluationIntervalMs: intervals.evaluationIntervalMs,
      groupWaitMs,
      rules: records,
      expect: options.expect.map(({ alert, withinMs, labels }) => ({ alert, withinMs, ...(labels ? { labels } : {}) })),
      mustNotFire: [...options.mustNotFire],
    },
    warnings,
  };
}

/**
 * The rules once each has been evaluated and each target scraped, or at the deadline with what has
 * not happened yet (as warnings: a metric read as missing then may only not be scraped yet).
 */
async function firstEvaluation(
  options: PreflightOptions,
  intervals: PrometheusIntervals,
): Promise<{ rules: PrometheusAlertingRule[]; waited: string[] }> {
  const { prometheus, signal } = options;
  let rules = await prometheus.alertingRules();
  let targets = await prometheus.scrapeTargets();
  const longest = Math.max(
    intervals.scrapeIntervalMs ?? UNKNOWN_INTERVAL_MS,
    intervals.evaluationIntervalMs ?? UNKNOWN_INTERVAL_MS,
    ...rules.map((rule) => rule.groupIntervalMs ?? 0),
  );
  const waitMs = options.waitMs ?? 2 * longest + WAIT_MARGIN_MS;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pending = notYet(rules, targets);
    if (pending.length === 0) return { rules, waited: [] };
    if (Date.now() >= deadline || signal?.aborted) {
      const why = signal?.aborted ? "interrupted while waiting" : `not within ${formatDuration(Math.round(waitMs))}`;
      return { rules, waited: [`Prometheus at ${prometheus.url}, ${why}: ${pending.join("; ")}`] };
    }
    await pause(options.pollMs ?? DEFAULT_POLL_MS, signal);
    try {
      rules = await prometheus.alertingRules();
      targets = await prometheus.scrapeTargets();
    } catch (error) {
      // A Prometheus that stops answering while it starts up: the next look, or the deadline, decides.
      if (Date.now() >= deadline) throw error;
    }
  }
}

/** What Prometheus has not done yet: rules not evaluated, targets not scraped (or none discovered). */
export function notYet(rules: readonly PrometheusAlertingRule[], targets: readonly ScrapeTarget[]): string[] {
  const pending: string[] = [];
  const unevaluated = rules.filter((rule) => rule.lastEvaluation === null).map((rule) => rule.name);
  if (unevaluated.length > 0) pending.push(`not evaluated yet: ${unevaluated.join(", ")}`);
  if (targets.length === 0) pending.push("no scrape target discovered yet");
  const unscraped = targets.filter((target) => target.lastScrape === null).map((target) => `${target.pool} ${target.url}`);
  if (unscraped.length > 0) pending.push(`not scraped yet: ${unscraped.join(", ")}`);
  return pending;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
