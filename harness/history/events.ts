/**
 * The History: an append-only list of kind-tagged events, one JSON object per line in
 * `history.jsonl`, written as things happen and before any analysis (Jepsen's lesson). Checkers
 * read nothing else, so `pgdrill report <run-dir>` can re-analyse a saved run with no cluster.
 *
 * `t` is milliseconds since the run started, on a monotonic clock (performance.now), so a wall
 * clock step during a drill cannot bend the measurements. `run-start` carries the wall clock time
 * of t = 0 for people reading the history.
 */

/** Jepsen's three outcomes. `info` means we do not know: a write that timed out may have committed. */
export type Outcome = "ok" | "fail" | "info";

/** What a probe operation does; checkers select by this, not by the probe's user-given name. */
export type OpType = "select1" | "write" | "role";

export type Phase = "starting" | "steady-state" | "drill" | "healing" | "final-read" | "teardown" | "analysis";

export interface RunStartEvent {
  kind: "run-start";
  t: number;
  /** Wall clock time of t = 0, ISO 8601. */
  wallClock: string;
  runId: string;
  scenario: string;
  /** Target kind, e.g. "container-pair". */
  target: string;
  /** Node names of the target, e.g. ["primary", "standby"]. */
  nodes: string[];
  /** The node that is primary when the drill starts. */
  primary: string;
  /** Planned fault-phase length in ms (steady-state window included). */
  durationMs: number;
  steadyStateMs: number;
  /** pgdrill version that wrote this history. */
  version: string;
  /** The probes' settings the checkers need (each probe's SLO); absent in histories written before pgdrill recorded them. */
  probes?: ProbeRecord[];
}

/** One probe as the run-start records it, so a checker reads its settings from the History alone. */
export interface ProbeRecord {
  name: string;
  type: OpType;
  everyMs: number;
  timeoutMs: number;
  /** The latency objective: an ok operation slower than this was unavailable for the time beyond it. Absent: no objective. */
  sloMs?: number;
  /**
   * Where it goes ("rw", "pooler", a node) and how it connects ("fresh", "held", "pool"): the client path, for the failover anatomy. Absent
   * in older histories and for role probes.
   */
  endpoint?: string;
  connection?: "fresh" | "held" | "pool";
  /** The client stack that ran it ("node-postgres", "libpq", "pgjdbc", "psycopg"). Absent in older histories: node-postgres. */
  driver?: string;
}

export interface PhaseEvent {
  kind: "phase";
  t: number;
  phase: Phase;
}

/** A probe operation begins. `node` is where the operation is sent, when known at invoke time. */
export interface InvokeEvent {
  kind: "invoke";
  t: number;
  probe: string;
  type: OpType;
  worker: number;
  op: number;
  node?: string;
  /** For writes: the unique id being inserted. */
  value?: number;
}

export interface RoleValue {
  /** `pg_is_in_recovery()` was false: this node accepts writes. */
  primary: boolean;
  /** null when the role may not read pg_control_checkpoint() (managed services' users often cannot). */
  timeline: number | null;
  /**
   * Which server answered (`inet_server_addr():port`), so a failover behind an unchanged host name
   * (a managed endpoint, a pooler) still shows in the History.
   */
  server?: string;
  /** pg_control_system()'s system identifier, when readable: a replica shares its primary's. */
  systemId?: string;
  /**
   * Not in recovery and `transaction_read_only` off: a promoted node can still refuse writes (pg_auto_failover keeps a
   * new primary read-only until its demote timeout). Absent in older histories: same as `primary`.
   */
  writable?: boolean;
}

/** A probe operation ends. Pairs with the invoke of the same probe/worker/op. */
export interface CompleteEvent {
  kind: "complete";
  t: number;
  probe: string;
  type: OpType;
  worker: number;
  op: number;
  outcome: Outcome;
  /** The node that served (or failed to serve) the operation, as the probe's route named it. */
  node?: string;
  /**
   * For an ok select1 or write: which server answered (`inet_server_addr():port`, as the role
   * probe's RoleValue.server), so the readers can tell which node served an operation sent through
   * a Service, a proxy or a pooler whose routing pgdrill sees only after the fact.
   */
  server?: string;
  latencyMs: number;
  /** For writes: the id; for role: a RoleValue. */
  value?: number | RoleValue;
  /** Short error text (SQLSTATE or message), never a password. */
  error?: string;
  /** The SQLSTATE the server (or the driver) gave the error, e.g. 25006 for a read-only transaction. */
  sqlstate?: string;
  /** The operation hung past its timeout and was abandoned (the client's own deadline, not a server error). */
  timedOut?: boolean;
  /** The host:port the client dialed that answered, when it had several to choose from (a multi-host URL). */
  dialed?: string;
  /** Hosts tried and passed over before it, each "host:port: why" (refused, read-only, in recovery, timed out). */
  skipped?: string[];
}

export interface FaultEvent {
  kind: "fault";
  t: number;
  phase: "inject" | "heal";
  /** Stable id within the run, e.g. "f1", so heals pair with injects. */
  id: string;
  /** Fault kind, e.g. "kill". */
  fault: string;
  /** Human label, e.g. "kill primary". */
  label: string;
  nodes: string[];
  ok: boolean;
  error?: string;
  /** What a command fault printed (its tail, secrets masked). */
  output?: string;
  /** A one-shot (a command fault without `heal`): nothing to heal, no heal event; drawn as an instant. */
  instant?: boolean;
  /**
   * When the fault really happened (History ms), as a command said on its output (`pgdrill-event: happened …`,
   * docs/scenarios.md): a command can run long before or after its fault takes effect. The inject's own t is when it started.
   */
  happenedT?: number;
  /** What the HA system did, as the command said (`pgdrill-event: …` lines), each at the History ms it gave or was read at. */
  said?: SaidEvent[];
}

/** One `pgdrill-event:` line of a command: what the HA system did, and when (History ms). */
export interface SaidEvent {
  t: number;
  text: string;
}

export interface ActionEvent {
  kind: "action";
  t: number;
  phase: "start" | "end";
  id: string;
  action: string;
  label: string;
  node?: string;
  /** A promote's detection delay (ms): it waits this long after its start before acting, as a failure detector would. */
  afterMs?: number;
  /** On a start: the action hands the primary over through the HA system (a switchover, a manual failover), an outage's cause. */
  handsOver?: boolean;
  ok?: boolean;
  error?: string;
}

/** The `rw` (or `ro`) endpoint that clients use now points at `node`. */
export interface EndpointEvent {
  kind: "endpoint";
  t: number;
  endpoint: "rw" | "ro";
  node: string;
}

/**
 * The kinds of event a target records of its own (cnpg's Kubernetes watches, Patroni's REST polls),
 * by kind: empty here. A target's folder adds its own by declaration merging (as vitest's
 * ProvidedContext), and its plugin's `observations` holds the shape that validates each, so the core
 * carries them without naming them and the compiler still knows every field.
 */
export interface Observations {}
export type ObservationEvent = Observations[keyof Observations];
export type ObservationKind = keyof Observations & string;

export interface SteadyStateEvent {
  kind: "steady-state";
  t: number;
  ok: boolean;
  availability: number | null;
  required: number;
  message: string;
}

/**
 * After the drill, the ids present on the final primary. Stored as inclusive ranges [from, to]
 * so a long drill stays small. Lost writes are acknowledged ids missing from here.
 */
export interface FinalReadEvent {
  kind: "final-read";
  t: number;
  probe: string;
  node: string;
  ok: boolean;
  ranges: Array<[number, number]>;
  count: number;
  error?: string;
}

export interface LogEvent {
  kind: "log";
  t: number;
  level: "info" | "warn" | "error";
  message: string;
}

/**
 * A person marked a moment with a short note: `m` in the terminal running the drill (`t` is when
 * the key was pressed, so it may be a little before the events written around it), or
 * `pgdrill mark` from elsewhere (`t` is when the drill received it).
 */
export interface MarkEvent {
  kind: "mark";
  t: number;
  note: string;
  by: "keyboard" | "command";
}

export interface RunEndEvent {
  kind: "run-end";
  t: number;
  /** completed: ran to the end; aborted: interrupted (signal); errored: harness or target broke. */
  status: "completed" | "aborted" | "errored";
  error?: string;
}

/**
 * What the drill's monitoring said (monitoring/), by subject:
 * - `setup`: once, before the probes: where pgdrill read it, the timings that bound when a rule can
 *   fire, each alerting rule as loaded (with the metrics its expression reads and those the scrape
 *   did not have), and what the scenario expects;
 * - `alert`: an alert (one label set of one rule) changed state, as Prometheus's alerts API or
 *   Alertmanager's said it; `resolved` is an alert that was active and no longer is;
 * - `sample`: how many series each rule's expression and each of its metric selectors returned, at
 *   one poll (on change only), so a rule whose series vanished with the outage can be named;
 * - `reachable`: whether pgdrill could read Prometheus (or Alertmanager) at all, on change.
 */
export interface AlertingEvent {
  kind: "alerting";
  t: number;
  subject: "setup" | "alert" | "sample" | "reachable";
  /** `setup`: whether pgdrill started the stack beside the target or reads the user's. */
  source?: "started" | "existing";
  /** `setup`: Prometheus's and Alertmanager's URLs, credentials removed. */
  prometheus?: string;
  alertmanager?: string | null;
  /** `setup`: the intervals and Alertmanager's group_wait (ms); null when not known (an existing Prometheus that did not say). */
  scrapeIntervalMs?: number | null;
  evaluationIntervalMs?: number | null;
  groupWaitMs?: number | null;
  /** `setup`: the alerting rules. */
  rules?: AlertingRuleRecord[];
  /** `setup`: the alerts the scenario expects (within ms of the first fault) and those that must not fire. */
  expect?: Array<{ alert: string; withinMs: number; labels?: Record<string, string> }>;
  mustNotFire?: string[];
  /** `alert` and `sample`: the rule's alert name. */
  alert?: string;
  /** `alert`: its labels (instance, job, severity, …), and its new state. */
  labels?: Record<string, string>;
  state?: "pending" | "firing" | "resolved";
  /** `alert`, `reachable`: who said it. */
  from?: "prometheus" | "alertmanager";
  /** `alert`: Prometheus's activeAt (when the expression first matched, its own clock, ISO 8601). */
  activeAt?: string;
  /** `sample`: the series the whole expression returned (the alert's candidates), and each metric selector's. */
  exprSeries?: number;
  selectorSeries?: Record<string, number>;
  /** `reachable`: whether it answered, with the error when it did not. */
  reachable?: boolean;
  error?: string;
}

/** One alerting rule as the drill loaded it (`alerting` setup). */
export interface AlertingRuleRecord {
  alert: string;
  group: string;
  expr: string;
  forMs: number;
  labels: Record<string, string>;
  /** The metric names its expression reads; `missingMetrics`: those the scrape had no series of at the start. */
  metrics: string[];
  missingMetrics: string[];
  /** After an outage begins: the soonest it can fire (its `for`), and the latest it should (intervals included); ms. */
  earliestMs: number;
  latestMs: number | null;
}

// The restore drills' events live in their own module (backup-events.ts), re-exported here.
export type * from "./backup-events.ts";
import type { BackupEvent } from "./backup-events.ts";

/** The events every target shares. */
export type CoreEvent =
  | RunStartEvent
  | PhaseEvent
  | InvokeEvent
  | CompleteEvent
  | FaultEvent
  | ActionEvent
  | EndpointEvent
  | SteadyStateEvent
  | FinalReadEvent
  | LogEvent
  | MarkEvent
  | AlertingEvent
  | BackupEvent
  | RunEndEvent;

export type HistoryEvent = CoreEvent | ObservationEvent;
export type CoreKind = CoreEvent["kind"];
export type HistoryKind = HistoryEvent["kind"];
export type EventOf<K extends HistoryKind> = Extract<HistoryEvent, { kind: K }>;

/** Compress sorted unique ids into inclusive ranges. */
export function toRanges(ids: Iterable<number>): Array<[number, number]> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const id of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else ranges.push([id, id]);
  }
  return ranges;
}

export function rangesContain(ranges: ReadonlyArray<readonly [number, number]>, id: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [from, to] = ranges[mid]!;
    if (id < from) hi = mid - 1;
    else if (id > to) lo = mid + 1;
    else return true;
  }
  return false;
}
