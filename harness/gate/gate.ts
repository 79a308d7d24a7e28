/**
 * The Gate: typed thresholds over Metrics (k6 thresholds). Each entry names a metric path and a
 * comparison; a metric that could not be measured (null) fails its gate, because "we cannot say"
 * must never read as a pass.
 */
import { InputError } from "../errors.ts";
import type { GateResult, Metrics } from "../result.ts";
import { GATE_EXPRESSION, GATE_OPERATORS, type GateOperator } from "./expression.ts";
import { alertGateMetric, isGateMetric, unknownMetricFix, type AlertFigure, type CoreGateMetric, type GateMetric } from "./metrics.ts";

export { isGateMetric };

/**
 * The scenario's `gate`: metric path → expression, e.g. `{ "availability.ratio": ">= 0.99" }`.
 * Loose on purpose (any key, a missing value skipped): it also holds what scenario.json files and
 * callers pass, and parseGate checks every entry.
 */
export type GateMap = { readonly [metric: string]: string | undefined };

export interface GateSpec {
  metric: GateMetric;
  operator: GateOperator;
  threshold: number;
  /** As written, e.g. ">= 0.99". */
  expected: string;
}

// The value type at a dotted path of T; checked below against every gate metric.
type AtPath<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? AtPath<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;

// Fails to compile if a core metric of GATE_METRICS is not a number (or null) at its path of Metrics; a target's
// are numeric fields of its section by the type of its checker's `gate` (checker/checker.ts).
type IsNumericMetric<V> = [V] extends [never] ? never : [V] extends [number | null] ? true : never;
const everyGateMetricIsNumeric: { [M in CoreGateMetric]: IsNumericMetric<AtPath<Metrics, M>> } = {
  "availability.ratio": true,
  "availability.faultWindowRatio": true,
  "availability.operationRatio": true,
  "availability.faultWindowOperationRatio": true,
  "failover.latencyMs": true,
  "failover.stableAfterMs": true,
  "recovery.latencyMs": true,
  "recovery.stableAfterMs": true,
  "anatomy.detectedAfterMs": true,
  "anatomy.promotedAfterMs": true,
  "anatomy.promotionMs": true,
  "anatomy.writableAfterMs": true,
  "anatomy.readOnlyMs": true,
  "anatomy.clientsRecoveredAfterMs": true,
  "anatomy.clientRecoveryMs": true,
  "downtime.totalMs": true,
  "downtime.longestMs": true,
  "writes.acknowledged": true,
  "writes.lostAcknowledged": true,
  "writes.unknown": true,
  "latency.p50Ms": true,
  "latency.p99Ms": true,
  "latency.maxMs": true,
  "splitBrain.overlapMs": true,
  "clients.worstDowntimeMs": true,
  "clients.downtimeSpreadMs": true,
  "clients.worstRecoveredAfterMs": true,
  "clients.timedOut": true,
  "clients.readOnlyErrors": true,
  "alerts.failedExpectations": true,
  "restore.rtoMs": true,
  "restore.restoreMs": true,
  "restore.replayMs": true,
  "restore.rpoMs": true,
  "restore.lostAcknowledged": true,
  "restore.presentAfterTarget": true,
  "restore.backupAgeMs": true,
  "restore.backupSizeBytes": true,
  "restore.archiveLagBytes": true,
  "restore.checkFailures": true,
};
void everyGateMetricIsNumeric;

/** Parses a gate map; `field` names where it came from in errors (default "gate"). */
export function parseGate(gate: GateMap, field = "gate"): GateSpec[] {
  return Object.entries(gate).flatMap(([metric, expression]) =>
    expression === undefined ? [] : [parseEntry(metric, expression, `${field}.${metric}`)],
  );
}

function parseEntry(metric: string, expression: string, field: string): GateSpec {
  if (!isGateMetric(metric)) {
    throw new InputError(field, `unknown metric "${metric}"`, unknownMetricFix(metric));
  }
  const match = GATE_EXPRESSION.exec(expression);
  if (!match) {
    throw new InputError(field, `"${expression}" is not a comparison`, 'Write it like ">= 0.99", "< 30000" or "== 0"');
  }
  return { metric, operator: match[1] as GateOperator, threshold: Number(match[2]), expected: expression.trim() };
}

// An alert's name may hold _ and : (alerts.<Alert>.firedAfterMs).
const OVERRIDE = new RegExp(`^\\s*([A-Za-z][A-Za-z0-9_:.]*)\\s*((?:${GATE_OPERATORS.join("|")})\\s*-?\\d+(?:\\.\\d+)?)\\s*$`);

/** `--gate failover.latencyMs<20000`: a metric and its expression in one string. */
export function parseGateOverride(text: string): GateSpec {
  const match = OVERRIDE.exec(text);
  if (!match) {
    throw new InputError(
      "--gate",
      `"${text}" is not a metric and a comparison`,
      'Write it like --gate "failover.latencyMs<20000" or --gate "availability.ratio>=0.99"',
    );
  }
  const [, metric, expression] = match as unknown as [string, string, string];
  if (!isGateMetric(metric)) {
    throw new InputError("--gate", `unknown metric "${metric}" in "${text}"`, unknownMetricFix(metric));
  }
  return parseEntry(metric, expression, "--gate");
}

/** Overrides replace the scenario's gate on the same metric and add the others, in order. */
export function withOverrides(gate: readonly GateSpec[], overrides: readonly GateSpec[]): GateSpec[] {
  const replaced = new Map(overrides.map((override) => [override.metric, override]));
  const merged = gate.map((spec) => replaced.get(spec.metric) ?? spec);
  const present = new Set(gate.map((spec) => spec.metric));
  return [...merged, ...overrides.filter((override) => !present.has(override.metric))];
}

export function metricValue(metrics: Metrics, metric: GateMetric): number | null {
  const alert = alertGateMetric(metric);
  if (alert) {
    // Rules are a list, by name; a result.json analysed before alerts were checked has none.
    const rule = (metrics as Partial<Metrics>).alerts?.rules.find((candidate) => candidate.alert === alert.alert);
    const figure = rule?.[alert.figure];
    return typeof figure === "number" && Number.isFinite(figure) ? figure : null;
  }
  let value: unknown = metrics;
  for (const key of metric.split(".")) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function compare(actual: number, operator: GateOperator, threshold: number): boolean {
  switch (operator) {
    case "<":
      return actual < threshold;
    case "<=":
      return actual <= threshold;
    case ">":
      return actual > threshold;
    case ">=":
      return actual >= threshold;
    case "==":
      return actual === threshold;
    case "!=":
      return actual !== threshold;
  }
}

export function evaluateGate(specs: readonly GateSpec[], metrics: Metrics): GateResult[] {
  return specs.map((spec) => {
    const actual = metricValue(metrics, spec.metric);
    const note = actual === null ? unmeasuredNote(metrics, spec.metric) : null;
    return { ...spec, actual, pass: actual !== null && compare(actual, spec.operator, spec.threshold), ...(note ? { note } : {}) };
  });
}

/** Why a metric was not measured, where the metrics tell: a failover gate on a drill whose primary came back. */
function unmeasuredNote(metrics: Metrics, metric: GateMetric): string | null {
  const alert = alertGateMetric(metric);
  if (alert) return alertNote(metrics, alert.alert, alert.figure);
  if (metric.startsWith("restore.")) return restoreNote(metrics, metric);
  const { failover, recovery } = metrics;
  if (metric.startsWith("anatomy.") && failover.happened === true)
    return "a failover happened but this phase's edge was not recorded (no HA decision or promotion seen; see checks.anatomy)";
  if (!(metric.startsWith("failover.") || metric.startsWith("anatomy.")) || failover.happened !== false) return null;
  if (failover.faultAtMs === null) return "no failover: no fault injected";
  if (recovery.latencyMs === 0) return "no failover: no write outage, the primary did not change";
  return `no failover: recovered on the same primary${failover.newPrimary ? ` (${failover.newPrimary})` : ""}; gate recovery.* instead`;
}

/** Why an alert's figure was not measured: no monitoring, no such rule, or what the alert did instead. */
function alertNote(metrics: Metrics, name: string, figure: AlertFigure): string {
  const alerts = (metrics as Partial<Metrics>).alerts;
  if (!alerts?.observed) return "no monitoring in this run";
  const rule = alerts.rules.find((candidate) => candidate.alert === name);
  if (!rule) return `no alerting rule "${name}" was loaded (rules: ${alerts.rules.map((r) => r.alert).join(", ") || "none"})`;
  if (alerts.faultAtMs === null) return "no fault or hand-over in this run to time it from";
  const cannot = rule.cannotFire ? ` (cannot fire: ${rule.cannotFire.detail})` : "";
  const before = rule.firingBeforeFault ? "; it was already firing before the fault, which does not count" : "";
  switch (figure) {
    case "pendingAfterMs":
      return `${name} was not pending after the fault${rule.firedAfterMs !== null ? " (it went straight to firing)" : cannot}${before}`;
    case "firedAfterMs":
      return `${name} did not fire after the fault${cannot}${before}`;
    case "notifiedAfterMs":
      if (rule.firedAfterMs === null) return `Alertmanager did not hold ${name} as firing after the fault (it did not fire${cannot})`;
      return `Alertmanager did not hold ${name} as firing after the fault`;
    case "resolvedAfterHealMs":
      if (alerts.healAtMs === null) return "the fault was not healed, so no resolution can be timed from its heal";
      if (rule.pendingAfterMs === null && rule.firedAfterMs === null)
        return `${name} was not active after the fault, so it had nothing to resolve`;
      return `${name} did not resolve after the heal`;
  }
}

/** Why a restore figure was not measured: no backups, no restore, one that failed, or what it lacked. */
function restoreNote(metrics: Metrics, metric: GateMetric): string | null {
  const restore = (metrics as Partial<Metrics>).restore;
  if (!restore?.observed) return "no backups in this run";
  if (metric === "restore.backupAgeMs" || metric === "restore.backupSizeBytes")
    return restore.disasterAtMs === null ? "no disaster to age the backup at" : "no backup worked before the disaster";
  if (metric === "restore.archiveLagBytes")
    return restore.disasterAtMs === null ? "no disaster in this run" : "the archive was not sampled before the disaster";
  if (restore.outcome === "not-run") return "no restore began";
  if (restore.outcome === "failed") return `the restore failed: ${restore.error ?? "no error recorded"}`;
  if (restore.outcome === "unfinished") return "the restored primary never left recovery";
  if (metric === "restore.restoreMs" || metric === "restore.replayMs") return "the restore did not record this phase's time";
  if (metric === "restore.rtoMs")
    return restore.disasterAtMs === null ? "no disaster to time it from" : "the restored primary took no write by the end";
  return "no writes probe, or no final read of it after the restore";
}
