/**
 * The metric paths a Gate may name. Each is a number (or null when it could not be measured) at
 * that path of `result.json`'s `metrics`. Kept here, apart from the checkers, so the scenario
 * schema can refuse an unknown metric before anything starts.
 */
import { closest } from "../suggest.ts";

export const GATE_METRICS = {
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
    "fault start → the new primary accepted writes (the role probe saw it out of recovery, else the mechanism's word) (ms)",
  "anatomy.promotionMs": "a failover's promotion phase: the HA mechanism acted → the new primary accepted writes (ms)",
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
  "operator.promotedAfterMs": "cnpg: fault start → the Cluster's currentPrimary changed (ms)",
  "operator.noPrimaryLabelMs": "cnpg: time no pod was labelled primary after the first fault (ms)",
  "operator.multiplePrimaryLabelsMs": "cnpg: time two pods were labelled primary at once (ms): label overlap, not a split brain",
  "operator.leaseAcquiredAfterMs": "cnpg: first fault → the primary Lease named a new holder (ms)",
  "operator.rwMovedAfterMs": "cnpg: first fault → the rw Service's only ready endpoint was the new primary (ms, from its EndpointSlices)",
  "operator.noRwEndpointMs": "cnpg: after the first fault, time the rw Service had no ready endpoint (ms)",
  "operator.multipleRwEndpointsMs": "cnpg: time the rw Service routed to two ready pods at once (ms)",
} as const;

export type GateMetric = keyof typeof GATE_METRICS;
export const GATE_METRIC_NAMES = Object.keys(GATE_METRICS) as GateMetric[];

export const GATE_OPERATORS = ["<=", ">=", "==", "!=", "<", ">"] as const;
export type GateOperator = (typeof GATE_OPERATORS)[number];

/** `">= 0.99"`, `"<30000"`, `"== 0"`. */
export const GATE_EXPRESSION = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/**
 * A gate expression for TypeScript users, with or without the space. As with durations the
 * compiler's `${number}` is looser than GATE_EXPRESSION (it lets "1e3" through); the runtime check
 * decides.
 */
export type GateExpression = `${GateOperator}${number}` | `${GateOperator} ${number}`;

/** A scenario's `gate` as written: metric → expression, e.g. `{ "writes.lostAcknowledged": "== 0" }`. */
export type GateInput = { [M in GateMetric]?: GateExpression };

/** What to do about an unknown metric: the one probably meant first, then all of them. */
export function unknownMetricFix(metric: string): string {
  const suggestion = closest(metric, GATE_METRIC_NAMES);
  return `${suggestion ? `Did you mean "${suggestion}"? ` : ""}Use one of ${GATE_METRIC_NAMES.join(", ")}.`;
}
