/**
 * What the monitoring says during the drill, as `alerting` History events: every `everyMs`, one read
 * of Prometheus's rules API (every alerting rule with its active alerts) and, when there is one, of
 * Alertmanager's alerts. An alert (one label set of one rule) is recorded when its state changes:
 * pending, firing, and resolved once an alert that was active is gone. Each rule's expression and
 * each of its metric selectors is queried too, and recorded when the number of series changes, so
 * a rule whose series vanished with the outage (and so could not fire) can be named afterwards.
 *
 * Prometheus or Alertmanager may be down, or be what the drill breaks: a poll that cannot read one
 * records it unreachable (on change) and keeps what it knew, so no alert is taken as resolved
 * because nobody answered. The loop is bounded in time and count, and `stop()` ends it at teardown.
 */
import { errorMessage } from "../errors.ts";
import type { AlertingEvent } from "../history/events.ts";
import { PollLoop } from "../targets/shared/poll-loop.ts";
import type { AlertmanagerApi, PrometheusAlertingRule, PrometheusApi } from "./api.ts";

/** What the watch writes to the History. */
export type AlertingObservation = Omit<AlertingEvent, "t">;
type Source = "prometheus" | "alertmanager";

/** One active alert, as one source has it. */
export interface ActiveAlert {
  alert: string;
  labels: Record<string, string>;
  state: "pending" | "firing";
  activeAt?: string;
}

/** One rule's series counts at one poll. */
export interface RuleSample {
  exprSeries: number;
  selectorSeries: Record<string, number>;
}

export interface WatchPicture {
  /** Whether the last poll read each source; null before the first (or when there is no Alertmanager). */
  reachable: Record<Source, boolean | null>;
  /** The active alerts each source had at its last answer, by alertKey. */
  alerts: Record<Source, Map<string, ActiveAlert>>;
  /** The last recorded sample of each rule, by its group and name. */
  samples: Map<string, RuleSample>;
  polls: number;
}

export interface AlertWatchOptions {
  prometheus: Pick<PrometheusApi, "alertingRules" | "seriesCount">;
  alertmanager?: Pick<AlertmanagerApi, "alerts"> | null;
  record: (observation: AlertingObservation) => void;
  log: (line: string) => void;
  /** The metric selectors of an expression, as written (harness/scenario/alert-rules.ts `selectorsOf`). */
  selectorsOf: (expr: string) => string[];
  /** The scenario's `monitoring.poll`. */
  everyMs?: number;
  /** The loop ends by itself after this long (a drill's teardown stops it long before). */
  maxLifetimeMs?: number;
  /** Instant queries in flight at once while sampling (an existing Prometheus may have many rules). */
  concurrency?: number;
}

const DEFAULT_EVERY_MS = 1000;
const DEFAULT_MAX_LIFETIME_MS = 6 * 60 * 60 * 1000;
const DEFAULT_CONCURRENCY = 4;

/** An alert's identity: its rule's name and its whole label set, in a stable order. */
export function alertKey(alert: string, labels: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((name) => [name, labels[name]]);
  return `${alert}\u0000${JSON.stringify(sorted)}`;
}

/** The pending and firing alerts of the rules API's answer, by alertKey. */
export function prometheusAlerts(rules: readonly PrometheusAlertingRule[]): Map<string, ActiveAlert> {
  const active = new Map<string, ActiveAlert>();
  for (const rule of rules) {
    for (const alert of rule.alerts) {
      if (alert.state === "inactive") continue;
      active.set(alertKey(rule.name, alert.labels), {
        alert: rule.name,
        labels: alert.labels,
        state: alert.state,
        ...(alert.activeAt ? { activeAt: alert.activeAt } : {}),
      });
    }
  }
  return active;
}

/**
 * Alertmanager's alerts by alertKey. Prometheus sends it only firing alerts; whether Alertmanager
 * notifies (active) or holds one back (silenced, inhibited, not yet processed) does not change that
 * the alert fired, so every alert it holds is `firing`.
 */
export function alertmanagerAlerts(alerts: ReadonlyArray<{ labels: Record<string, string> }>): Map<string, ActiveAlert> {
  const active = new Map<string, ActiveAlert>();
  for (const { labels } of alerts) {
    const alert = labels["alertname"] ?? "";
    active.set(alertKey(alert, labels), { alert, labels, state: "firing" });
  }
  return active;
}

/** The `alert` events between two answers of one source: each new or changed alert in `after`'s order, then each one gone. */
export function alertChanges(
  before: ReadonlyMap<string, ActiveAlert>,
  after: ReadonlyMap<string, ActiveAlert>,
  from: Source,
): AlertingObservation[] {
  const changes: AlertingObservation[] = [];
  const event = (alert: ActiveAlert, state: ActiveAlert["state"] | "resolved"): AlertingObservation => ({
    kind: "alerting",
    subject: "alert",
    from,
    alert: alert.alert,
    labels: alert.labels,
    state,
    ...(alert.activeAt ? { activeAt: alert.activeAt } : {}),
  });
  for (const [key, alert] of after) if (before.get(key)?.state !== alert.state) changes.push(event(alert, alert.state));
  for (const [key, alert] of before) if (!after.has(key)) changes.push(event(alert, "resolved"));
  return changes;
}

export function sameSample(a: RuleSample | undefined, b: RuleSample): boolean {
  if (!a || a.exprSeries !== b.exprSeries) return false;
  const keys = Object.keys(b.selectorSeries);
  return keys.length === Object.keys(a.selectorSeries).length && keys.every((key) => a.selectorSeries[key] === b.selectorSeries[key]);
}

export class AlertWatch {
  readonly picture: WatchPicture = {
    reachable: { prometheus: null, alertmanager: null },
    alerts: { prometheus: new Map(), alertmanager: new Map() },
    samples: new Map(),
    polls: 0,
  };
  private readonly options: AlertWatchOptions;
  private readonly loop: PollLoop;
  private readonly selectors = new Map<string, string[]>();
  /** Whether the last round of sampling had a query fail (said once per streak). */
  private samplingFailed = false;

  constructor(options: AlertWatchOptions) {
    this.options = options;
    this.loop = new PollLoop({
      poll: () => this.poll(),
      everyMs: options.everyMs ?? DEFAULT_EVERY_MS,
      maxLifetimeMs: options.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS,
      log: options.log,
      what: "monitoring: watching the alerts",
      polled: () => (this.picture.polls += 1),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Ends the loop; resolves once the poll under way is done, recording nothing after. Safe to call again. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Resolves once `ready` holds after a poll; rejects past `timeoutMs` with the last reason. */
  waitUntil(ready: () => true | string, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    return this.loop.waitUntil(ready, timeoutMs, what, signal);
  }

  /** One round: Prometheus (alerts, then the rules' series) and Alertmanager side by side. Never throws for a source that is down. */
  async poll(): Promise<void> {
    await Promise.all([this.pollPrometheus(), this.options.alertmanager ? this.pollAlertmanager(this.options.alertmanager) : null]);
  }

  private async pollPrometheus(): Promise<void> {
    let rules: PrometheusAlertingRule[];
    try {
      rules = await this.options.prometheus.alertingRules();
    } catch (error) {
      if (!this.loop.stopped) this.reachable("prometheus", false, errorMessage(error));
      return;
    }
    if (this.loop.stopped) return;
    this.reachable("prometheus", true);
    this.observe("prometheus", prometheusAlerts(rules));
    await this.sample(rules);
  }

  private async pollAlertmanager(alertmanager: Pick<AlertmanagerApi, "alerts">): Promise<void> {
    let alerts: Array<{ labels: Record<string, string> }>;
    try {
      alerts = await alertmanager.alerts();
    } catch (error) {
      if (!this.loop.stopped) this.reachable("alertmanager", false, errorMessage(error));
      return;
    }
    if (this.loop.stopped) return;
    this.reachable("alertmanager", true);
    this.observe("alertmanager", alertmanagerAlerts(alerts));
  }

  private observe(from: Source, now: Map<string, ActiveAlert>): void {
    for (const change of alertChanges(this.picture.alerts[from], now, from)) this.options.record(change);
    this.picture.alerts[from] = now;
  }

  /** Each rule's expression and selectors, queried now; a rule whose queries did not all answer keeps its last sample. */
  private async sample(rules: readonly PrometheusAlertingRule[]): Promise<void> {
    const byRule = new Map(rules.map((rule) => [`${rule.group}/${rule.name}`, rule]));
    const queries = [...new Set([...byRule.values()].flatMap((rule) => [rule.query, ...this.selectorsOf(rule.query)]))];
    const counts = new Map<string, number>();
    const failures: string[] = [];
    await eachLimited(queries, this.options.concurrency ?? DEFAULT_CONCURRENCY, async (query) => {
      if (this.loop.stopped) return;
      try {
        counts.set(query, await this.options.prometheus.seriesCount(query));
      } catch (error) {
        failures.push(errorMessage(error));
      }
    });
    if (this.loop.stopped) return;
    if (failures.length > 0 && !this.samplingFailed) this.options.log(`monitoring: a rule's series could not be counted: ${failures[0]}`);
    this.samplingFailed = failures.length > 0;
    for (const [key, rule] of byRule) {
      const exprSeries = counts.get(rule.query);
      const selectors = this.selectorsOf(rule.query);
      if (exprSeries === undefined || selectors.some((selector) => !counts.has(selector))) continue;
      const sample: RuleSample = {
        exprSeries,
        selectorSeries: Object.fromEntries(selectors.map((selector) => [selector, counts.get(selector)!])),
      };
      if (sameSample(this.picture.samples.get(key), sample)) continue;
      this.picture.samples.set(key, sample);
      this.options.record({ kind: "alerting", subject: "sample", alert: rule.name, ...sample });
    }
  }

  private selectorsOf(expr: string): string[] {
    let selectors = this.selectors.get(expr);
    if (!selectors) {
      selectors = [...new Set(this.options.selectorsOf(expr))];
      this.selectors.set(expr, selectors);
    }
    return selectors;
  }

  private reachable(from: Source, reachable: boolean, error?: string): void {
    if (this.picture.reachable[from] === reachable) return;
    this.picture.reachable[from] = reachable;
    this.options.record({ kind: "alerting", subject: "reachable", from, reachable, ...(error !== undefined ? { error } : {}) });
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
