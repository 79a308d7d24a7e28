/**
 * A Target, in testcontainers' manner: a `Topology` describes what to start; `start()` returns a
 * `StartedTopology`, a different type, so nothing can ask an unstarted target for its primary.
 * Faults and actions act through the controls the started topology hands out, one per capability
 * its plugin lists, so the same Fault modules drive every target that can do what they need.
 */
import type { BackupEvent, EndpointEvent, LogEvent, ObservationEvent } from "../history/events.ts";
import type { HistoryWriter } from "../history/writer.ts";
import type { Clock } from "../clock.ts";
import type { Endpoint } from "../connection/endpoint.ts";
import type { Capability, Controls, ControlsOf } from "./controls.ts";

// The runtimes build their controls against these; the contract itself is pure (controls.ts).
export type { Capability, Controls, ControlsOf, Cut, ManagedProcess, Shaping, StopMode } from "./controls.ts";

/**
 * What a target observes on its own (Kubernetes watches, an HA manager's REST API), for the History:
 * its own observation kinds (its folder's events.ts), where an endpoint points, a log line.
 */
export type Observation = Untimed<ObservationEvent | EndpointEvent | LogEvent | BackupEvent>;
// Omit each member on its own: Omit over a union keeps only the fields they share.
type Untimed<E> = E extends unknown ? Omit<E, "t"> : never;

/**
 * Probes that run somewhere else (cnpg: a pod in the cluster) and write into the drill's History
 * on the drill's clock. A target that has one runs the scenario's probes there: the drill calls
 * this instead of running them itself.
 */
export interface ProbeRunner {
  /** Before probing: follow the runner's History, align its clock with the drill's. */
  prepare(context: { history: HistoryWriter; clock: Clock; signal: AbortSignal }): Promise<void>;
  /** Runs the probes until drill t `untilMs` (earlier when the prepare's signal aborts); resolves when they are done. */
  run(untilMs: number): Promise<void>;
  /** After the heal: the probes' final reads. */
  finalRead(): Promise<void>;
  /** Lets the runner go; idempotent, never throws. */
  close(): Promise<void>;
}

export interface StartedTopology extends AsyncDisposable {
  readonly kind: string;
  readonly nodes: readonly string[];
  /** The node the `rw` endpoint points at now. */
  readonly rwNode: string;
  /** How to reach the `rw` endpoint (follows the primary as it is repointed) or a node by name. */
  endpoint(name: "rw" | string): Endpoint;
  /** What it can be made to do; a capability it lacks has no control. */
  readonly controls: Partial<ControlsOf<Capability>>;
  /**
   * Turns a name a step aims at into the node it hits now: on cnpg, "primary" is whichever
   * instance is primary at that moment. Names that are nodes come back unchanged.
   */
  resolve(node: string): Promise<string>;
  /** Masks the target's secrets (passwords) in text that leaves pgdrill, such as a command's output. */
  redact(text: string): string;
  /**
   * Schema for the drill's own tables (the writes table); default "pgdrill". The endpoint target
   * names one per run, so it can drop exactly what it made.
   */
  readonly drillSchema?: string | undefined;
  /** Where the probes run when not here (see ProbeRunner); absent: the drill runs them itself. */
  readonly probeRunner?: ProbeRunner | undefined;
  /**
   * What a monitoring stack pgdrill starts beside the target needs (harness/monitoring/stack.ts): the
   * Docker network its containers join and the PostgreSQL nodes to export. Absent: the target cannot
   * have one started (not a container target).
   */
  readonly monitoringSite?: MonitoringSite | undefined;
  /** Removes everything the target started; idempotent, never throws. */
  teardown(): Promise<string[]>;
}

/**
 * A container target as a monitoring stack sees it: its private Docker network, the PostgreSQL
 * nodes the application uses (a postgres_exporter for each), and what else serves Prometheus
 * metrics there (Patroni's REST API).
 */
export interface MonitoringSite {
  /** The target's Docker network; the stack's containers join it. */
  readonly network: string;
  readonly nodes: readonly MonitoringNode[];
  /** More scrape targets on the network, each labelled with its node: e.g. `{ job: "patroni", node: "pg1", address: "pg1:8008" }`. */
  readonly scrape: readonly { readonly job: string; readonly node: string; readonly address: string }[];
}

/** One PostgreSQL node, as a postgres_exporter beside it or inside its container logs in. */
export interface MonitoringNode {
  /** The node's name in the drill (the `node` and `instance` labels of its series). */
  readonly node: string;
  /** Its Docker container (name or id): an exporter "on-node" runs inside it, and dies with it. */
  readonly container: string;
  /** Its name on the network, and PostgreSQL's port there. */
  readonly host: string;
  readonly port: number;
  /** A superuser the exporter logs in as. */
  readonly user: string;
  readonly password: string;
  /** Whether a client must use TLS (libpq's sslmode); absent: "disable". */
  readonly sslmode?: "disable" | "require" | undefined;
}

/**
 * The control for `capability`. Validation keeps faults and actions to targets that provide what
 * they need, so a missing one here is a bug, said as plainly as a user's mistake would be.
 */
export function control<C extends Capability>(topology: StartedTopology, capability: C, doing: string): Controls[C] {
  const provided = topology.controls[capability] as Controls[C] | undefined;
  if (provided === undefined) throw new Error(`the ${topology.kind} target cannot do "${doing}" (it has no ${capability} control)`);
  return provided;
}

export interface TopologyStartOptions {
  runId: string;
  scenario: string;
  /** Image override (--image / PGDRILL_IMAGE / scenario option). */
  image?: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Where the target's own observations go (the History, stamped with the drill's clock). */
  record?: (observation: Observation) => void;
  /** The drill's clock (ms since the run started), for times an observation carries besides its own (a backup's start). */
  now?: () => number;
  /** How long the probes will run (the scenario's duration), to bound what a target starts for them. */
  durationMs?: number;
  /** Set when drills in a series share what is slow to make (--share-cluster); absent, every drill makes its own. */
  shared?: SharedResources;
}

/**
 * Resources a series of drills shares (shared/pool.ts). A target asks for one by a key naming what
 * it is; the first drill makes it, later ones get the same, and the series removes it at its end.
 */
export interface SharedResources {
  use<T>(key: string, make: () => Promise<{ value: T; describe: string; remove: () => Promise<void> }>): Promise<T>;
}

export interface Topology {
  readonly kind: string;
  readonly nodes: readonly string[];
  /** Which node is primary when the drill starts. */
  readonly initialPrimary: string;
  start(options: TopologyStartOptions): Promise<StartedTopology>;
}
