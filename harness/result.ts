/**
 * What a run concludes: `result.json`. Computed from the History by Checkers and the Gate, and
 * drawn by the Reports; nothing here touches a database.
 */
import type { GateOperator } from "./gate/expression.ts";
import type { RestoreMetrics } from "./result-restore.ts";

export type { BackupCheckStatus, RestoreArchive, RestoreBackup, RestoreMetrics } from "./result-restore.ts";

export type Verdict = "pass" | "deviated" | "errored";
export type Validity = true | false | "unknown";

export interface CheckOutcome {
  valid: Validity;
  /** Why it is invalid or unknown, for people. */
  reason?: string;
}

/**
 * A time a probe's clients were not served (checker/downtime.ts says how it is built). Its edges
 * are known only to within the probe's cadence: `startMs` and `endMs` are the latest each can
 * have been, `startLowerMs` and `endLowerMs` the earliest, so the outage lasted between
 * `durationLowerMs` and `durationUpperMs`, `durationMs` (as measured) among them.
 */
export interface DowntimeWindow {
  probe: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Still down when the drill ended. */
  open: boolean;
  /** Failed/unknown operations inside the window. */
  failures: number;
  /** Ok operations slower than the probe's SLO that opened or extended the window. */
  stalls: number;
  /** The earliest the outage can have begun (the probe last saw clients served then). */
  startLowerMs: number;
  /**
   * The latest it can have begun: the completion of the window's first failed operation (the
   * client had been refused by then, though what refused it may have happened at any moment
   * since its invoke, `startMs`); `startMs` itself for a stall, whose start is its objective's end.
   */
  startUpperMs: number;
  /** The earliest it can have ended (the probe last saw clients not served then). */
  endLowerMs: number;
  /** endLowerMs − startUpperMs, not below 0. */
  durationLowerMs: number;
  /** endMs − startLowerMs. */
  durationUpperMs: number;
}

/** One probe's availability: a share of time, with the count of operations beside it. */
export interface ProbeAvailability {
  /** Share of the observed time the probe was served (0..1): 1 − unavailableMs / observedMs; null when it completed no operation. */
  ratio: number | null;
  /** The ratio's range from its downtime windows' bounds: 1 − their longest / shortest possible total over observedMs. */
  ratioLower: number | null;
  ratioUpper: number | null;
  /** The observed span: the probe's first invoke → its last completion (ms since run start). */
  observedFromMs: number | null;
  observedToMs: number | null;
  observedMs: number;
  /** Downtime inside the observed span: the probe's downtime windows, summed (ms). */
  unavailableMs: number;
  /** The probe's latency objective (ms), or null when it has none (then no operation is a stall). */
  sloMs: number | null;
  /** ok / all completed operations (0..1): a count, not a time (what `ratio` meant before). */
  operationRatio: number | null;
  ok: number;
  fail: number;
  info: number;
  /** Ok operations slower than the SLO (counted in `ok` too). */
  stalled: number;
}

/** One probe's downtime totals (ms), with the range their windows' bounds allow. */
export interface DowntimeTotals {
  totalMs: number;
  totalLowerMs: number;
  totalUpperMs: number;
  longestMs: number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** One probe's part of a failover's anatomy. */
export interface AnatomyClient {
  probe: string;
  type: "select1" | "write";
  /** The path it took, for people: "rw, fresh connections", "pooler, held connection", "rw, pool". */
  via: string;
  /**
   * Fault → the first ok operation invoked after this probe's outage began (ms); 0 when it saw no outage; null when it never
   * recovered.
   */
  recoveredAfterMs: number | null;
  /** Its recovery after the new primary accepted writes (ms): recoveredAfterMs − writableAfterMs, not below 0; null if unknown. */
  recoveryMs: number | null;
}

/** One client path's drill (checker/clients.ts): its driver and path, what it went through, and the errors it saw. */
export interface ClientSummary {
  probe: string;
  type: "select1" | "write";
  /** The client stack: "node-postgres" (pgdrill's own), "libpq", "pgjdbc", "psycopg". */
  driver: string;
  /** Its endpoint and way of connecting, for people: "rw, fresh connections". */
  via: string;
  ok: number;
  fail: number;
  info: number;
  /** Its downtime windows, summed, and the longest (ms). */
  downtimeMs: number;
  longestMs: number;
  /** Fault → it was served again after its last outage (ms); 0 when it saw none after the fault; null when it never was, or no fault. */
  recoveredAfterMs: number | null;
  /** Operations it abandoned because they hung past the probe's timeout. */
  timedOut: number;
  /** Operations a read-only node refused (SQLSTATE 25006): reached a node that was not, or not yet, writable. */
  readOnlyErrors: number;
  /** Its most frequent errors, by kind, most frequent first. */
  errors: Array<{ text: string; count: number }>;
}

export interface RoleChange {
  t: number;
  node: string;
  role: "primary" | "standby" | "unreachable";
  /** A primary (out of recovery) that did not accept writes yet (`transaction_read_only` on); absent otherwise. */
  readOnly?: true;
  timeline: number | null;
  /** The server that answered, when the probe learnt it (the node's name may hide a change of server). */
  server?: string;
}

/** Why an alerting rule could not fire in the outage (checker/alerts.ts): the first that holds, in this order. */
export interface AlertCannotFire {
  /**
   * metric-missing: a metric its expression reads had no series in the scrape when the drill started; series-vanished: a
   * selector returned fewer series during the outage than before it (the failed instance's series went with it, so a
   * comparison such as `pg_up == 0` has nothing to match); no-series: no selector of it returned a series in any poll.
   */
  reason: "metric-missing" | "series-vanished" | "no-series";
  /** For people: which metric or selector, with its counts. */
  detail: string;
}

/** One alerting rule of the drill's monitoring, against the first fault (or hand-over) and its heal. */
export interface AlertRuleOutcome {
  alert: string;
  /** Prometheus said one of its label sets was firing, at any time of the run (before the fault included). */
  fired: boolean;
  /** One of its label sets was firing when the first fault began: that alert does not answer the fault. */
  firingBeforeFault: boolean;
  /** First fault → Prometheus's first pending, and first firing, of any label set at or after it (ms); null when none. */
  pendingAfterMs: number | null;
  firedAfterMs: number | null;
  /** First fault → Alertmanager first held one of its alerts as firing, at or after it (ms); null when none (or no Alertmanager). */
  notifiedAfterMs: number | null;
  /**
   * The first fault's heal (a hand-over's end; a fault with nothing to heal, such as kill, its own time) → Prometheus first said
   * one of its alerts resolved (ms); null when it was not active after the fault, did not resolve, or nothing healed.
   */
  resolvedAfterHealMs: number | null;
  /** After an outage begins: the soonest it can fire (its `for`) and the latest it should (scrape and evaluation intervals in). */
  earliestMs: number;
  latestMs: number | null;
  /** latestMs plus Alertmanager's group_wait: the latest a notification should leave; null when either is unknown. */
  notifiedLatestMs: number | null;
  /** Why it cannot fire in this drill; null when it fired after the fault or nothing says it cannot. */
  cannotFire: AlertCannotFire | null;
  /** The scenario expects it within this long of the first fault (ms); null when not expected. */
  expectedWithinMs: number | null;
  /** The expectation's labels: only alerts carrying them (a subset of their labels) meet it; null: any of the rule's. */
  expectedLabels: Record<string, string> | null;
  /** met: fired within `expectedWithinMs`; late: fired after; missed: never fired after the fault; null: not expected, or no fault. */
  expectation: "met" | "late" | "missed" | null;
  /** The scenario says it must not fire. */
  mustNotFire: boolean;
}

/** The metrics every target shares, one section per core checker. */
export interface CoreMetrics {
  availability: ProbeAvailability & {
    /** The probe whose numbers are the headline (select1 if present, else writes). */
    probe: string | null;
    /** The headline's share of time served from the first disruption (or its first invoke, if later) to its last completion. */
    faultWindowRatio: number | null;
    /** ok / all of the headline's operations invoked at or after the first disruption. */
    faultWindowOperationRatio: number | null;
    byProbe: Record<string, ProbeAvailability>;
  };
  downtime: DowntimeTotals & {
    windows: DowntimeWindow[];
    /** Each probe's own totals, to compare clients (direct vs pooled) in one drill. */
    byProbe: Record<string, DowntimeTotals>;
  };
  /**
   * A failover: the write outage ended on another primary than the one before it (checker/failover.ts
   * says how that is decided). Its figures are the recovery's, and null when the primary did not
   * change, so a gate on them fails rather than read a recovery as a failover.
   */
  failover: {
    /** When the disruption that caused the write outage began (a fault injected, or a switchover started), ms since run start. */
    faultAtMs: number | null;
    /** That fault's or switchover's label. */
    faultLabel: string | null;
    /**
     * The primary changed; false when writes came back on the same primary (or no fault was injected); null when it cannot be said (never
     * recovered, nothing to measure).
     */
    happened: boolean | null;
    /** How `happened` was decided, for people: "node primary → standby", "server 10.0.0.5:5432 → 10.0.0.6:5432 behind primary". */
    evidence: string | null;
    /** Fault → first acknowledged write on the new primary (ms); null without a failover. */
    latencyMs: number | null;
    /** The moment writes became possible again lies between these (ms after the fault); latencyUpperMs is latencyMs. */
    latencyLowerMs: number | null;
    latencyUpperMs: number | null;
    stableAfterMs: number | null;
    /** The primary when the drill started. */
    originalPrimary: string | null;
    /** Node of the first acknowledged write after the outage, whether or not it is another primary. */
    newPrimary: string | null;
    /**
     * The servers (`inet_server_addr():port`, from the role probe) behind the node before the outage and after it, when the
     * failover was told by a server change behind one name (an endpoint's "primary"); absent in results from before they were kept.
     */
    originalPrimaryServer?: string | null;
    newPrimaryServer?: string | null;
  };
  /** The end of the write outage, whoever served it: the figures a failover has too, and a pause or restart has alone. */
  recovery: {
    /** Fault → first acknowledged write after the outage (ms); 0 when no outage was seen; null when it never ended. */
    latencyMs: number | null;
    /**
     * The moment writes became possible again lies between these (ms after the fault): the last failed write's invoke, the first
     * acknowledged one's completion.
     */
    latencyLowerMs: number | null;
    latencyUpperMs: number | null;
    /** Fault → writes succeed and keep succeeding (ms). */
    stableAfterMs: number | null;
    /** Node of the first acknowledged write after the outage. */
    node: string | null;
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
  /** Each client path side by side (driver, endpoint, connection), and the worst of them for gates. */
  clients: {
    probes: ClientSummary[];
    worstDowntimeMs: number | null;
    downtimeSpreadMs: number | null;
    worstRecoveredAfterMs: number | null;
    timedOut: number;
    readOnlyErrors: number;
  };
  roles: { changes: RoleChange[] };
  /** Two or more nodes writable at once; promoted (out of recovery) but read-only does not count. */
  splitBrain: {
    detected: boolean;
    overlapMs: number;
    /**
     * `acknowledged`: the writes each node acknowledged inside the window. Zero on one side means
     * it accepted SQL but committed nothing a client saw (synchronous replication held them): the
     * hazard, not yet divergence.
     */
    windows: Array<{ startMs: number; endMs: number; nodes: string[]; acknowledged: Record<string, number> }>;
    /** The windows' `acknowledged`, summed by node (empty with no window). */
    acknowledgedInOverlap: Record<string, number>;
    /** Each stretch a node was promoted but read-only (ms since run start; the last runs to the last role sample). */
    readOnlyPrimaries: Array<{ node: string; startMs: number; endMs: number }>;
  };
  /**
   * The anatomy of a failover: the outage split into the phases the target lets pgdrill see. All
   * times are ms after the fault (or switchover) that caused the outage; phases are differences.
   * Null when the phase's edge was not observed (no failover, no HA observations, a probe with no
   * outage).
   */
  anatomy: {
    /** A failover happened and its phases were read; false leaves every figure null. */
    observed: boolean;
    faultAtMs: number | null;
    faultLabel: string | null;
    /**
     * Who decides failovers on this target, as seen in the History: "pgdrill" (a promote action), "operator" (cnpg's targetPrimary),
     * "ha-manager" (a leader change), "switchover" (a planned one), or null.
     */
    mechanism: "pgdrill" | "operator" | "ha-manager" | "switchover" | null;
    /**
     * Fault → the HA mechanism acted (ms): pgdrill's promote began, the operator changed targetPrimary, the HA manager's leader changed.
     */
    detectedAfterMs: number | null;
    /** The event that showed it, for people: 'action "promote standby" began', 'targetPrimary primary → pending'. */
    detectedBy: string | null;
    /**
     * Fault → the new primary was promoted (ms): the role probe's first sample of it out of recovery, else the mechanism's own word
     * (promote ended, currentPrimary changed).
     */
    promotedAfterMs: number | null;
    /**
     * Fault → the new primary accepted writes (ms): promotedAfterMs, unless the role probe saw it promoted but read-only, then its
     * first sample of it writable.
     */
    writableAfterMs: number | null;
    /** How long it was promoted but read-only (ms): writableAfterMs − promotedAfterMs; null when either is unknown. */
    readOnlyMs: number | null;
    /**
     * The promotion happened after this (ms after the fault): the role probe's previous sample of that node, still in recovery; null when
     * only the mechanism's word is known.
     */
    promotedLowerMs: number | null;
    promotedBy: string | null;
    newPrimary: string | null;
    /** Phase lengths (ms): detection = detectedAfterMs; promotion = promoted − detected; read-only; client recovery per probe below. */
    detectionMs: number | null;
    promotionMs: number | null;
    /** Each client path's recovery: fault → the first ok operation after its outage, and its share after the promotion. */
    clients: AnatomyClient[];
    /** The slowest client path's recovery after the fault, and after the new primary accepted writes (ms): "all clients were back". */
    clientsRecoveredAfterMs: number | null;
    clientRecoveryMs: number | null;
  };
  /**
   * Did the alert fire (checker/alerts.ts): each alerting rule of the drill's monitoring (Prometheus pgdrill started, or the
   * user's) against the first fault or hand-over. Times are ms after it; a resolution is timed from its heal.
   */
  alerts: {
    /** The History has the monitoring's setup; false leaves the rest empty (no monitoring in this run). */
    observed: boolean;
    /** Whether pgdrill started Prometheus beside the target or read the user's. */
    source: "started" | "existing" | null;
    /** The first fault (or hand-over) and its heal (ms since run start); null when there was none, or nothing healed it. */
    faultAtMs: number | null;
    healAtMs: number | null;
    /** Each alerting rule Prometheus had loaded, in its order. */
    rules: AlertRuleOutcome[];
    /** Alerts the scenario says must not fire that fired. */
    unexpected: string[];
    /**
     * Alerts the scenario names that no loaded rule has (a typo, or rules not loaded): an expected one is missed, a must-not-fire
     * one cannot fire.
     */
    notLoaded: Array<{ alert: string; expectedWithinMs: number | null; mustNotFire: boolean }>;
    /** How long pgdrill could not read Prometheus, in all (ms). */
    unreachableMs: number;
    /** The scenario's expected and must-not-fire alerts, counted; and those it broke (missed, late, or fired when it must not). */
    expectations: number;
    failedExpectations: number;
  };
  /**
   * A restore drill (checker/restore.ts): RTO from the disaster to the restored primary taking writes, split into its phases; RPO as
   * the acknowledged writes the restore lost and the writes after its target it kept; the backup, the WAL archive and pgBackRest's
   * checks as they stood at the disaster. Every field is documented in result-restore.ts.
   */
  restore: RestoreMetrics;
}

/**
 * Every section of metrics: the ones every target shares, and those a target's own checks add
 * (declaration merging from the target's folder, as cnpg's operator-check.ts adds `operator`).
 */
export interface Metrics extends CoreMetrics {}

export interface GateResult {
  /** A metric of gate/metrics.ts's GATE_METRICS; named loosely here, as that list is read from the targets' registry. */
  metric: string;
  operator: GateOperator;
  threshold: number;
  /** As written, e.g. ">= 0.99". */
  expected: string;
  actual: number | null;
  pass: boolean;
  /** Why `actual` was not measured, when the metrics say: "no failover: recovered on the same primary". */
  note?: string;
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
