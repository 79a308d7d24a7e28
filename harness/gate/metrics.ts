/**
 * The metric paths a Gate may name. Each is a number (or null when it could not be measured) at
 * that path of `result.json`'s `metrics`. Kept here, apart from the checkers, so the scenario
 * schema can refuse an unknown metric before anything starts: the core's, then those each target's
 * checks declare (their `gate`, read from the targets' registry). result.ts does not import this
 * module (it reaches the registry, whose plugins' checkers fill result.ts's Metrics).
 */
import { closest } from "../suggest.ts";
import { TARGET_GATE_METRICS } from "../targets/registry.ts";
import type { GateExpression } from "./expression.ts";

/** The metrics of the core's checkers a gate may name; numeric at their paths (gate.ts holds that). */
const CORE_GATE_METRICS = {
  "availability.ratio":
    "share of time the availability probe was served (0..1): 1 − its downtime / its observed span (first invoke → last " +
    "completion); failures and, with an slo, ok operations slower than it count as down",
  "availability.faultWindowRatio": "the same share of time, from the first fault (or switchover) to the probe's last completion (0..1)",
  "availability.operationRatio":
    "ok / all completed operations of the availability probe (0..1): a count, not a time; a stalled probe attempts little, " +
    "so a long outage weighs little here",
  "availability.faultWindowOperationRatio": "ok / all operations of the availability probe invoked at or after the first fault (0..1)",
  "failover.latencyMs": "fault start → first acknowledged write on the new primary (ms); not measured when the same primary came back",
  "failover.stableAfterMs": "fault start → writes succeed on the new primary and keep succeeding (ms); not measured without a failover",
  "recovery.latencyMs": "fault start → first acknowledged write after the write outage, whoever served it (ms)",
  "recovery.stableAfterMs": "fault start → writes succeed and keep succeeding, whoever serves them (ms)",
  "anatomy.detectedAfterMs":
    "a failover's detection: fault start → the HA mechanism acted (pgdrill's promote, the operator's targetPrimary, the HA " +
    "manager's leader change) (ms); not measured without a failover",
  "anatomy.promotedAfterMs":
    "fault start → the new primary was promoted (the role probe saw it out of recovery, else the mechanism's word) (ms)",
  "anatomy.promotionMs": "a failover's promotion phase: the HA mechanism acted → the new primary was out of recovery (ms)",
  "anatomy.writableAfterMs":
    "fault start → the new primary accepted writes: later than its promotion when the role probe saw it read-only (ms)",
  "anatomy.readOnlyMs": "how long the new primary was promoted but read-only (transaction_read_only on), 0 when not seen (ms)",
  "anatomy.clientsRecoveredAfterMs": "fault start → every probe's clients were served again, the slowest path's (ms)",
  "anatomy.clientRecoveryMs":
    "a failover's client-recovery phase: the new primary accepted writes → every probe's clients were served again (ms)",
  "downtime.totalMs": "sum of downtime windows of the availability probe: failed operations and, with an slo, stalls beyond it (ms)",
  "downtime.longestMs": "the longest downtime window of the availability probe (ms)",
  "writes.acknowledged": "writes the server acknowledged",
  "writes.lostAcknowledged": "acknowledged writes missing from the final primary",
  "writes.unknown": "writes whose outcome is unknown (timed out or cut mid-commit)",
  "latency.p50Ms": "median latency of successful probe operations (ms)",
  "latency.p99Ms": "99th percentile latency of successful probe operations (ms)",
  "latency.maxMs": "slowest successful probe operation (ms)",
  "splitBrain.overlapMs": "time during which two nodes answered as writable primaries (ms)",
  "clients.worstDowntimeMs": "the longest total downtime any one client path saw (ms): the driver or path that fared worst",
  "clients.downtimeSpreadMs": "worst − best total downtime across client paths (ms): how differently the client stacks fared",
  "clients.worstRecoveredAfterMs": "fault start → the slowest client path was served again after its outage (ms); null if one never was",
  "clients.timedOut": "operations a client abandoned because they hung past the probe's timeout, all client paths",
  "clients.readOnlyErrors": "operations refused because the node was read-only (SQLSTATE 25006), all client paths",
  "alerts.failedExpectations":
    "the monitoring's expected alerts that missed or fired late, and must-not-fire alerts that fired; a scenario with " +
    "monitoring.expect or mustNotFire gates it at == 0 unless its gate names it",
  "restore.rtoMs":
    "a restore drill's recovery time: the disaster → the first acknowledged write on the restored primary (without a writes " +
    "probe: → it left recovery) (ms); not measured when it never took writes again",
  "restore.restoreMs": "copying the backup into the fresh node, as the restore timed it (ms)",
  "restore.replayMs": "replaying WAL up to the recovery target and promoting, as the restore timed it (ms)",
  "restore.rpoMs":
    "the recovery point: the disaster (or a time target) − the completion of the earliest acknowledged write the restore lost " +
    "(ms); 0 when none was lost",
  "restore.lostAcknowledged":
    "acknowledged writes completed before the disaster (or a time target) missing after the restore: 0 for a point-in-time " +
    "restore; for latest, the writes whose WAL was not archived yet",
  "restore.presentAfterTarget":
    "writes sent after the recovery target (and before the restore) present after it: must be 0; a scenario whose " +
    "point-in-time restore ran with a writes probe gates it at == 0 unless its gate names it",
  "restore.backupAgeMs": "the disaster − when the latest backup that worked before it finished (ms)",
  "restore.backupSizeBytes": "the database's size in the latest backup before the disaster (bytes)",
  "restore.archiveLagBytes": "WAL the primary had written that the archive did not hold yet, at the disaster (its last sample, bytes)",
  "restore.checkFailures": "`pgbackrest check` and `pgbackrest verify` runs that failed before the disaster",
} as const;
export type CoreGateMetric = keyof typeof CORE_GATE_METRICS;

/** Every metric a gate may name by a fixed name, with its description: the core's, then each target's in registry order. */
export const GATE_METRICS = { ...CORE_GATE_METRICS, ...TARGET_GATE_METRICS };
export type NamedGateMetric = keyof typeof GATE_METRICS;
export const GATE_METRIC_NAMES = Object.keys(GATE_METRICS) as NamedGateMetric[];

/**
 * A family of metrics named by the alert they measure (checker/alerts.ts, `metrics.alerts.rules`):
 * `alerts.<Alert>.<figure>`, the alert named as Prometheus allows a metric name.
 */
export const ALERT_FIGURES = {
  pendingAfterMs: "first fault (or hand-over) → Prometheus first held the alert pending (ms)",
  firedAfterMs: "first fault (or hand-over) → Prometheus first said the alert was firing (ms); one firing before the fault does not count",
  notifiedAfterMs: "first fault (or hand-over) → Alertmanager first held the alert as firing, ready to notify (ms)",
  resolvedAfterHealMs: "the first fault's heal (a kill: the fault itself) → Prometheus said the alert resolved (ms)",
} as const;
export type AlertFigure = keyof typeof ALERT_FIGURES;
export type AlertGateMetric = `alerts.${string}.${AlertFigure}`;
const ALERT_NAME = "[A-Za-z_:][A-Za-z0-9_:]*";
/** The family's names as one pattern: the alert's name, then the figure. */
export const ALERT_GATE_METRIC = new RegExp(`^alerts\\.(${ALERT_NAME})\\.(${Object.keys(ALERT_FIGURES).join("|")})$`);
export const ALERT_GATE_DESCRIPTION =
  "an alerting rule's timing, by its alert's name: alerts.<Alert>.pendingAfterMs, firedAfterMs or notifiedAfterMs (ms after " +
  "the first fault or hand-over) or resolvedAfterHealMs (ms after its heal); not measured when the alert did not do so";

/** Every metric a gate may name: a named one, or one of the alerts' family. */
export type GateMetric = NamedGateMetric | AlertGateMetric;

export function isGateMetric(name: string): name is GateMetric {
  return Object.hasOwn(GATE_METRICS, name) || ALERT_GATE_METRIC.test(name);
}

/** The alert and figure of a metric of the alerts' family; null for any other metric. */
export function alertGateMetric(metric: string): { alert: string; figure: AlertFigure } | null {
  const match = ALERT_GATE_METRIC.exec(metric);
  return match ? { alert: match[1]!, figure: match[2] as AlertFigure } : null;
}

/** A scenario's `gate` as written: metric → expression, e.g. `{ "writes.lostAcknowledged": "== 0" }`. */
export type GateInput = { [M in GateMetric]?: GateExpression };

/** What to do about an unknown metric: the one probably meant first, then all of them. */
export function unknownMetricFix(metric: string): string {
  const family = `alerts.<Alert>.${Object.keys(ALERT_FIGURES).join("|")}`;
  return `${suggest(metric)}Use one of ${GATE_METRIC_NAMES.join(", ")}, or ${family} (<Alert>: letters, digits, _ and :).`;
}

function suggest(metric: string): string {
  if (!metric.startsWith("alerts.")) {
    const suggestion = closest(metric, GATE_METRIC_NAMES);
    return suggestion ? `Did you mean "${suggestion}"? ` : "";
  }
  // "alerts.PostgresDown.firedAfter": the figure is the likely slip; an alert's name cannot hold a dot.
  const cut = metric.lastIndexOf(".");
  const alert = metric.slice("alerts.".length, cut > "alerts".length ? cut : undefined);
  const written = metric.slice(cut + 1);
  // Each figure opens with its own word (pending, fired, notified, resolved): "resolvedAfterMs" means resolvedAfterHealMs.
  const figure =
    closest(written, Object.keys(ALERT_FIGURES)) ??
    Object.keys(ALERT_FIGURES).find((name) => written.toLowerCase().startsWith(name.slice(0, name.indexOf("After")).toLowerCase()));
  if (!new RegExp(`^${ALERT_NAME}$`).test(alert)) return `"${alert}" is not an alert's name (letters, digits, _ and :). `;
  return figure ? `Did you mean "alerts.${alert}.${figure}"? ` : "";
}
