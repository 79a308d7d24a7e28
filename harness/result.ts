/**
 * What a run concludes: `result.json`. Computed from the History by Checkers and the Gate, and
 * drawn by the Reports; nothing here touches a database.
 */
import type { GateMetric, GateOperator } from "./gate/metrics.ts";

export type Verdict = "pass" | "deviated" | "errored";
export type Validity = true | false | "unknown";

export interface CheckOutcome {
  valid: Validity;
  /** Why it is invalid or unknown, for people. */
  reason?: string;
}

export interface DowntimeWindow {
  probe: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Still down when the drill ended. */
  open: boolean;
  /** Failed/unknown operations inside the window. */
  failures: number;
}

export interface ProbeAvailability {
  ratio: number | null;
  ok: number;
  fail: number;
  info: number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface RoleChange {
  t: number;
  node: string;
  role: "primary" | "standby" | "unreachable";
  timeline: number | null;
  /** The server that answered, when the probe learnt it (the node's name may hide a change of server). */
  server?: string;
}

export interface Metrics {
  availability: ProbeAvailability & {
    /** The probe whose numbers are the headline (select1 if present, else writes). */
    probe: string | null;
    faultWindowRatio: number | null;
    byProbe: Record<string, ProbeAvailability>;
  };
  downtime: {
    windows: DowntimeWindow[];
    totalMs: number;
    longestMs: number;
    /** Each probe's own totals, to compare clients (direct vs pooled) in one drill. */
    byProbe: Record<string, { totalMs: number; longestMs: number }>;
  };
  failover: {
    /** When the disruption that caused the write outage began (a fault injected, or a switchover started), ms since run start. */
    faultAtMs: number | null;
    /** That fault's or switchover's label. */
    faultLabel: string | null;
    latencyMs: number | null;
    stableAfterMs: number | null;
    originalPrimary: string | null;
    /** Node of the first acknowledged write after the outage. */
    newPrimary: string | null;
  };
  writes: {
    attempted: number;
    acknowledged: number;
    failed: number;
    unknown: number;
    /** null when no final read was recorded (crashed run): we cannot say. */
    lostAcknowledged: number | null;
    lostIds: number[];
    /** Unknown-outcome writes that turned out to be committed. */
    unknownCommitted: number | null;
    /** Writes that failed definitely yet are present: should never happen. */
    failedButPresent: number | null;
    finalReadNode: string | null;
  };
  latency: LatencySummary & { byProbe: Record<string, LatencySummary> };
  roles: { changes: RoleChange[] };
  splitBrain: { detected: boolean; overlapMs: number; windows: Array<{ startMs: number; endMs: number; nodes: string[] }> };
  /** The operator's view (cnpg): from Kubernetes watches, not from clients. */
  operator: {
    observed: boolean;
    /** First fault → the Cluster's currentPrimary changed (ms). */
    promotedAfterMs: number | null;
    newPrimary: string | null;
    /** Time status.targetPrimary was "pending" (ms). */
    pendingMs: number;
    /** After the first fault: time no pod was labelled primary, so the rw service had no endpoint (ms). */
    noPrimaryLabelMs: number;
    /** Time two or more pods were labelled primary at once (ms). */
    multiplePrimaryLabelsMs: number;
    /** Observations made by listing again after a watch broke. */
    resyncs: number;
  };
}

export interface GateResult {
  metric: GateMetric;
  operator: GateOperator;
  threshold: number;
  /** As written, e.g. ">= 0.99". */
  expected: string;
  actual: number | null;
  pass: boolean;
}

export interface RunResult {
  scenario: string;
  runId: string;
  target: string;
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  /** Why errored or deviated, in one line. */
  reason: string | null;
  /** False when the history has no run-end (the harness was killed): numbers cover what was recorded. */
  complete: boolean;
  checks: Record<string, CheckOutcome>;
  metrics: Metrics;
  gates: GateResult[];
}
