/**
 * Did the alert fire: each alerting rule of the drill's monitoring (the History's `alerting` events,
 * monitoring/watch.ts) against the first disruption (a fault injected, or a hand-over started) and its heal.
 *
 * - Times: Prometheus's first `pending` and `firing` of any label set at or after the disruption,
 *   Alertmanager's first `firing` (it held the alert: a notification can leave), and Prometheus's first
 *   `resolved` at or after the heal, each in ms after its origin. A label set already firing when the
 *   disruption began does not answer it (`firingBeforeFault`): only a new firing does.
 * - The heal: the fault's heal that worked, a hand-over's end; a fault with nothing to heal (kill,
 *   a one-shot command) is its own heal for the resolution, while its outage runs to the end of the
 *   run. A fault whose heal was never recorded has none.
 * - Why a rule that did not fire cannot: a metric it reads was not in the scrape at the start; else a
 *   selector returned fewer series during the outage than just before it (on-node exporters die with
 *   their node, so `pg_up == 0` has no series left to match); else no selector ever returned a series.
 * - Expectations: fired within `withinMs` is met, after it late, never missed; a must-not-fire alert
 *   that fired at any time is unexpected. Either makes the check invalid; without the setup event
 *   nothing can be said (unknown).
 */
import { formatMs } from "../duration.ts";
import { faultDisplay } from "../fault/catalog.ts";
import type { Disruption, HistoryContext } from "../history/context.ts";
import type { AlertingEvent, AlertingRuleRecord } from "../history/events.ts";
import type { AlertCannotFire, AlertRuleOutcome, Metrics } from "../result.ts";
import { contextOnly, defineChecker, type CheckerOutput } from "./checker.ts";

export type AlertsMetrics = Metrics["alerts"];

const emptyAlerts = (): AlertsMetrics => ({
  observed: false,
  source: null,
  faultAtMs: null,
  healAtMs: null,
  rules: [],
  unexpected: [],
  notLoaded: [],
  unreachableMs: 0,
  expectations: 0,
  failedExpectations: 0,
});

export const alertsChecker = defineChecker<AlertsMetrics>({
  empty: emptyAlerts,
  start: (context) => contextOnly(() => checkAlerts(context)),
});

/** The first disruption as the alerts answer it. */
interface Outage {
  /** "the fault" or "the hand-over", for the reasons. */
  what: string;
  faultAt: number;
  /** Where a resolution is timed from; null when nothing healed. */
  healAt: number | null;
  /** The end of the outage the series are compared over: a real heal, else the end of the run. */
  endAt: number;
}

function checkAlerts(context: HistoryContext): CheckerOutput<AlertsMetrics> {
  const events = context.events.filter((event): event is AlertingEvent => event.kind === "alerting");
  const setup = events.find((event) => event.subject === "setup");
  if (!setup) return { valid: "unknown", metrics: emptyAlerts(), reason: "no monitoring in this run" };
  const outage = outageOf(context);
  const expected = new Map((setup.expect ?? []).map((expect) => [expect.alert, expect.withinMs]));
  const expectedLabels = new Map((setup.expect ?? []).map((expect) => [expect.alert, expect.labels ?? null]));
  const mustNotFire = new Set(setup.mustNotFire ?? []);
  const notifiedSlack = setup.groupWaitMs ?? null;
  const rules = (setup.rules ?? []).map((rule) =>
    ruleOutcome(rule, events, outage, {
      withinMs: expected.get(rule.alert) ?? null,
      labels: expectedLabels.get(rule.alert) ?? null,
      mustNotFire: mustNotFire.has(rule.alert),
      notifiedSlack,
    }),
  );
  const loaded = new Set(rules.map((rule) => rule.alert));
  const firstFiring = (alert: string) =>
    events.find((e) => e.subject === "alert" && e.alert === alert && e.state === "firing" && fromPrometheus(e));
  const unexpected = [...mustNotFire].filter((alert) => firstFiring(alert) !== undefined);
  const notLoaded = [...new Set([...expected.keys(), ...mustNotFire])]
    .filter((alert) => !loaded.has(alert))
    .map((alert) => ({ alert, expectedWithinMs: expected.get(alert) ?? null, mustNotFire: mustNotFire.has(alert) }));
  const unreachableMs = unreachable(events, context.lastT);
  const metrics: AlertsMetrics = {
    observed: true,
    source: setup.source ?? null,
    faultAtMs: outage?.faultAt ?? null,
    healAtMs: outage?.healAt ?? null,
    rules,
    unexpected,
    notLoaded,
    unreachableMs,
    expectations: expected.size + mustNotFire.size,
    failedExpectations: 0,
  };

  const what = outage?.what ?? "the fault";
  const problems = [
    ...rules.flatMap((rule) => expectationProblem(rule, what)),
    ...notLoaded
      .filter((absent) => absent.expectedWithinMs !== null)
      .map((absent) => `${absent.alert} is expected but no loaded rule has that name (rules: ${[...loaded].join(", ") || "none"})`),
    ...unexpected.map((alert) => `${alert} must not fire and fired ${when(firstFiring(alert)!.t, outage)}`),
  ];
  metrics.failedExpectations = problems.length;
  const unread = unreachableMs > 0 ? [`pgdrill could not read Prometheus for ${formatMs(unreachableMs)}`] : [];
  if (problems.length > 0) return { valid: false, metrics, reason: [...problems, ...unread].join("; ") };
  if (expected.size > 0 && outage === null) {
    const reason = ["no fault or hand-over in this run: the expected alerts had nothing to answer", ...unread].join("; ");
    return { valid: "unknown", metrics, reason };
  }
  const cannot = rules.filter((rule) => rule.cannotFire !== null).map((rule) => `${rule.alert} (${rule.cannotFire!.detail})`);
  const ignored = notLoaded.filter((absent) => absent.mustNotFire).map((absent) => absent.alert);
  const notes = [
    ...(cannot.length > 0 ? [`rules that cannot fire: ${cannot.join("; ")}`] : []),
    ...(ignored.length > 0 ? [`must not fire, but no loaded rule has that name: ${ignored.join(", ")}`] : []),
    ...unread,
  ];
  return notes.length === 0 ? { valid: true, metrics } : { valid: true, metrics, reason: notes.join("; ") };
}

interface RuleExpectation {
  withinMs: number | null;
  /** The expectation is about the alerts carrying these labels (a subset of theirs); null: any of the rule's alerts. */
  labels: Record<string, string> | null;
  mustNotFire: boolean;
  /** Alertmanager's group_wait, added to the latest firing for the latest notification. */
  notifiedSlack: number | null;
}

function ruleOutcome(
  rule: AlertingRuleRecord,
  events: readonly AlertingEvent[],
  outage: Outage | null,
  expectation: RuleExpectation,
): AlertRuleOutcome {
  const own = events.filter((event) => event.subject === "alert" && event.alert === rule.alert);
  const prometheus = own.filter(fromPrometheus);
  const alertmanager = own.filter((event) => event.from === "alertmanager");
  const samples = events.filter((event) => event.subject === "sample" && event.alert === rule.alert);
  const fired = prometheus.some((event) => event.state === "firing");
  const after = (list: readonly AlertingEvent[], state: AlertingEvent["state"], from: number | null): number | null => {
    if (from === null) return null;
    const found = list.find((event) => event.state === state && event.t >= from);
    return found ? found.t - from : null;
  };
  const faultAt = outage?.faultAt ?? null;
  const pendingAfterMs = after(prometheus, "pending", faultAt);
  const firedAfterMs = after(prometheus, "firing", faultAt);
  // A resolution answers the outage only if the rule was active after it: an alert from before that ends is not the drill's.
  const activeAfter = pendingAfterMs !== null || firedAfterMs !== null;
  const resolvedAfterHealMs = activeAfter ? after(prometheus, "resolved", outage?.healAt ?? null) : null;
  const { withinMs, labels } = expectation;
  const matching = labels === null ? prometheus : prometheus.filter((event) => carries(event.labels ?? {}, labels));
  const expectedFiredAfterMs = labels === null ? firedAfterMs : after(matching, "firing", faultAt);
  return {
    alert: rule.alert,
    fired,
    firingBeforeFault: faultAt !== null && firingAt(prometheus, faultAt),
    pendingAfterMs,
    firedAfterMs,
    notifiedAfterMs: after(alertmanager, "firing", faultAt),
    resolvedAfterHealMs,
    earliestMs: rule.earliestMs,
    latestMs: rule.latestMs,
    notifiedLatestMs: rule.latestMs !== null && expectation.notifiedSlack !== null ? rule.latestMs + expectation.notifiedSlack : null,
    cannotFire: (outage ? firedAfterMs === null : !fired) ? cannotFire(rule, samples, outage) : null,
    expectedWithinMs: withinMs,
    expectedLabels: labels,
    expectation:
      withinMs === null || outage === null
        ? null
        : expectedFiredAfterMs === null
          ? "missed"
          : expectedFiredAfterMs <= withinMs
            ? "met"
            : "late",
    mustNotFire: expectation.mustNotFire,
  };
}

/** Older watches did not say who; Prometheus is the one always read. */
function fromPrometheus(event: AlertingEvent): boolean {
  return (event.from ?? "prometheus") === "prometheus";
}

/** Whether any label set's latest state before `t` was firing. */
function firingAt(events: readonly AlertingEvent[], t: number): boolean {
  const states = new Map<string, AlertingEvent["state"]>();
  for (const event of events) if (event.t < t) states.set(labelKey(event.labels ?? {}), event.state);
  return [...states.values()].includes("firing");
}

/** Whether `labels` has every one of `wanted`, with the same value. */
function carries(labels: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([name, value]) => labels[name] === value);
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function cannotFire(rule: AlertingRuleRecord, samples: readonly AlertingEvent[], outage: Outage | null): AlertCannotFire | null {
  if (rule.missingMetrics.length > 0) {
    const names = rule.missingMetrics.join(", ");
    return {
      reason: "metric-missing",
      detail: `${names} had no series in the scrape when the drill started, so \`${rule.expr}\` cannot match`,
    };
  }
  const vanished = outage ? vanishedSelector(samples, outage) : null;
  if (vanished) {
    return {
      reason: "series-vanished",
      detail:
        `${vanished.selector} had ${vanished.before} series before ${outage!.what} and ${vanished.during} during it: the instance's ` +
        `series vanished with it, so \`${rule.expr}\` cannot match it`,
    };
  }
  const seen = samples.flatMap((sample) => Object.entries(sample.selectorSeries ?? {}));
  if (seen.length > 0 && seen.every(([, count]) => count === 0)) {
    const selectors = [...new Set(seen.map(([selector]) => selector))].join(", ");
    return { reason: "no-series", detail: `${selectors} returned no series at any poll, so \`${rule.expr}\` has nothing to match` };
  }
  return null;
}

/**
 * The first selector whose series count during the outage fell below its count just before it.
 * Samples are written on change, so the last one before the outage holds into it until the next.
 */
function vanishedSelector(samples: readonly AlertingEvent[], outage: Outage): { selector: string; before: number; during: number } | null {
  const before = new Map<string, number>();
  const during = new Map<string, number>();
  for (const sample of samples) {
    const counts = Object.entries(sample.selectorSeries ?? {});
    if (sample.t < outage.faultAt) for (const [selector, count] of counts) before.set(selector, count);
    else if (sample.t <= outage.endAt)
      for (const [selector, count] of counts) during.set(selector, Math.min(count, during.get(selector) ?? count));
  }
  for (const [selector, count] of before) {
    const least = during.get(selector);
    if (least !== undefined && least < count) return { selector, before: count, during: least };
  }
  return null;
}

/** The first disruption, its heal and the outage's end; null when the run had none. */
function outageOf(context: HistoryContext): Outage | null {
  const first = context.disruptions.find((disruption) => disruption.t === context.firstDisruptionAt);
  if (!first) return null;
  const { healAt, real } = healOf(first, context);
  return {
    what: first.kind === "fault" ? "the fault" : "the hand-over",
    faultAt: first.t,
    healAt,
    endAt: real && healAt !== null ? healAt : Math.max(context.lastT, first.t),
  };
}

function healOf(first: Disruption, context: HistoryContext): { healAt: number | null; real: boolean } {
  if (first.kind === "action") {
    const end = context.events.find((event) => event.kind === "action" && event.phase === "end" && event.id === first.id);
    return { healAt: end?.t ?? null, real: true };
  }
  const heal = context.events.find((event) => event.kind === "fault" && event.phase === "heal" && event.id === first.id && event.ok);
  if (heal) return { healAt: heal.t, real: true };
  // Nothing to heal (kill, a one-shot command), as the timeline draws it: the resolution is timed from the fault itself.
  const instant = first.instant === true || faultDisplay(first.fault)?.heals !== true;
  return { healAt: instant ? first.t : null, real: false };
}

/** Total time Prometheus said it could not be read, from its `reachable` changes; one still down runs to the end. */
function unreachable(events: readonly AlertingEvent[], lastT: number): number {
  let since: number | null = null;
  let total = 0;
  for (const event of events) {
    if (event.subject !== "reachable" || !fromPrometheus(event)) continue;
    if (event.reachable === false && since === null) since = event.t;
    else if (event.reachable === true && since !== null) {
      total += event.t - since;
      since = null;
    }
  }
  return since === null ? total : total + Math.max(0, lastT - since);
}

function expectationProblem(rule: AlertRuleOutcome, what: string): string[] {
  if (rule.expectation === null || rule.expectation === "met" || rule.expectedWithinMs === null) return [];
  const expected = `${rule.alert} was expected within ${formatMs(rule.expectedWithinMs)} of ${what}`;
  if (rule.expectation === "late") return [`${expected} and fired after ${formatMs(rule.firedAfterMs)} (late)`];
  const before = rule.firingBeforeFault ? "; it was already firing before it, which does not count" : "";
  const why = rule.cannotFire ? ` (cannot fire: ${rule.cannotFire.detail})` : "";
  return [`${expected} and did not fire${why}${before}`];
}

/** When an alert fired, against the first disruption. */
function when(t: number, outage: Outage | null): string {
  if (!outage) return `at ${formatMs(t)}`;
  return t >= outage.faultAt
    ? `${formatMs(t - outage.faultAt)} after ${outage.what}`
    : `${formatMs(outage.faultAt - t)} before ${outage.what}`;
}
