/**
 * The alerts' section of the report model: metrics.alerts (checker/alerts.ts) in words, once, so
 * report.md, report.html and junit.xml say the same thing. Wording only: every figure and judgement
 * is the checker's.
 */
import type { AlertRuleOutcome, Metrics } from "../result.ts";
import { formatMs } from "./format.ts";
import type { AlertCase, AlertRow, AlertsSection } from "./types.ts";

type Alerts = Metrics["alerts"];

const CANNOT_FIRE: Record<NonNullable<AlertRuleOutcome["cannotFire"]>["reason"], string> = {
  "metric-missing": "metric missing",
  "series-vanished": "series vanished",
  "no-series": "no series",
};

/** Null when the run had no monitoring (or its result.json predates the alerts' check). */
export function alertsSection(metrics: Metrics): AlertsSection | null {
  const alerts = (metrics as Partial<Metrics>).alerts;
  if (!alerts?.observed) return null;
  const fault = alerts.faultAtMs === null ? null : "the fault";
  const notes = [
    ...(alerts.unreachableMs > 0 ? [`pgdrill could not read Prometheus for ${formatMs(alerts.unreachableMs)}.`] : []),
    ...alerts.notLoaded.map(
      (absent) =>
        `${absent.alert} is named by the scenario (${absent.expectedWithinMs !== null ? "expected" : "must not fire"}) but no loaded ` +
        `rule has that name.`,
    ),
  ];
  return {
    source: alerts.source === "started" ? "Prometheus started by pgdrill" : alerts.source === "existing" ? "your Prometheus" : "Prometheus",
    rows: alerts.rules.map((rule) => row(rule, alerts)),
    cases: cases(alerts, fault),
    notes,
  };
}

const orDash = (ms: number | null) => (ms === null ? "—" : formatMs(ms));

function row(rule: AlertRuleOutcome, alerts: Alerts): AlertRow {
  const bounds = `${formatMs(rule.earliestMs)} / ${rule.latestMs === null ? "?" : formatMs(rule.latestMs)}`;
  const unexpected = alerts.unexpected.includes(rule.alert);
  const expected =
    rule.expectedWithinMs !== null
      ? `within ${formatMs(rule.expectedWithinMs)}: ${rule.expectation ?? "not judged (no fault)"}`
      : rule.mustNotFire
        ? `must not fire: ${unexpected ? "fired" : "did not"}`
        : "—";
  const note = rule.cannotFire
    ? `cannot fire (${CANNOT_FIRE[rule.cannotFire.reason]}): ${rule.cannotFire.detail}`
    : rule.firingBeforeFault
      ? "already firing when the fault began"
      : "";
  return {
    alert: rule.alert,
    fired: !rule.fired ? "no" : rule.firedAfterMs === null && alerts.faultAtMs !== null ? "before the fault only" : "yes",
    pendingAfter: orDash(rule.pendingAfterMs),
    firedAfter: `${orDash(rule.firedAfterMs)} (${bounds})`,
    notifiedAfter:
      rule.notifiedLatestMs === null
        ? orDash(rule.notifiedAfterMs)
        : `${orDash(rule.notifiedAfterMs)} (latest ${formatMs(rule.notifiedLatestMs)})`,
    resolvedAfterHeal: orDash(rule.resolvedAfterHealMs),
    expected,
    bad: rule.expectation === "missed" || rule.expectation === "late" || unexpected,
    note,
  };
}

/** A case per expectation and per must-not-fire; one naming an alert no rule has fails if it was expected. */
function cases(alerts: Alerts, fault: string | null): AlertCase[] {
  const found: AlertCase[] = [];
  for (const rule of alerts.rules) {
    if (rule.expectedWithinMs !== null) found.push(expectationCase(rule, rule.expectedWithinMs, fault));
    if (rule.mustNotFire) {
      const fired = alerts.unexpected.includes(rule.alert);
      const when =
        rule.firedAfterMs !== null ? `${formatMs(rule.firedAfterMs)} after the fault` : fault ? "before the fault" : "during the run";
      found.push({
        name: `alert ${rule.alert} does not fire`,
        outcome: fired ? "fail" : "pass",
        message: fired ? `${rule.alert} must not fire and fired ${when}` : null,
      });
    }
  }
  for (const entry of alerts.notLoaded) {
    if (entry.expectedWithinMs !== null)
      found.push({
        name: `alert ${entry.alert} fires within ${formatMs(entry.expectedWithinMs)} of the fault`,
        outcome: "fail",
        message: `${entry.alert} is expected but no loaded alerting rule has that name`,
      });
    if (entry.mustNotFire) found.push({ name: `alert ${entry.alert} does not fire`, outcome: "pass", message: null });
  }
  return found;
}

function expectationCase(rule: AlertRuleOutcome, withinMs: number, fault: string | null): AlertCase {
  const name = `alert ${rule.alert} fires within ${formatMs(withinMs)} of the fault`;
  switch (rule.expectation) {
    case "met":
      return { name, outcome: "pass", message: null };
    case "late":
      return {
        name,
        outcome: "fail",
        message: `${rule.alert} fired ${formatMs(rule.firedAfterMs)} after the fault, later than ${formatMs(withinMs)}`,
      };
    case "missed": {
      const why = rule.cannotFire ? ` (cannot fire: ${rule.cannotFire.detail})` : "";
      const before = rule.firingBeforeFault ? "; it was already firing before the fault, which does not count" : "";
      return { name, outcome: "fail", message: `${rule.alert} did not fire after the fault${why}${before}` };
    }
    case null:
      return { name, outcome: "skipped", message: fault === null ? "no fault or hand-over in this run" : "not judged" };
  }
}
