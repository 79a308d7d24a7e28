/**
 * A Target, in testcontainers' manner: a `Topology` describes what to start; `start()` returns a
 * `StartedTopology`, a different type, so nothing can ask an unstarted target for its primary.
 * Faults and actions act through the controls the started topology hands out, one per capability
 * its plugin lists, so the same Fault modules drive every target that can do what they need.
 */
import type { EndpointEvent, HaEvent, KubeEvent, LogEvent } from "../history/events.ts";
import type { HistoryWriter } from "../history/writer.ts";
import type { Clock } from "../clock.ts";
import type { Endpoint } from "../connection/endpoint.ts";
import type { Capability } from "./plugin.ts";
import type { Shaping } from "./shared/shaping.ts";

export type { Shaping } from "./shared/shaping.ts";

/** What a target observes on its own (Kubernetes watches, an HA manager's REST API), for the History. */
export type Observation = Omit<KubeEvent, "t"> | Omit<EndpointEvent, "t"> | Omit<HaEvent, "t"> | Omit<LogEvent, "t">;

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

/** A network cut: DROP rules applied in `node`'s network namespace. */
export interface Cut {
  node: string;
  /** "all": everything but loopback (clients included). Otherwise the peer node whose traffic is dropped. */
  from: "all" | string;
  /** both: drop in and out; inbound: drop only what the peer sends to `node`. */
  direction: "both" | "inbound";
}

export type StopMode = "smart" | "fast" | "immediate";

/** The two processes of an HA manager's node: PostgreSQL's postmaster, and the manager (Patroni). */
export type ManagedProcess = "postgres" | "ha-manager";

/**
 * The controls a started target hands out, one per capability (plugin.ts). A fault or action uses
 * only the control its declaration names, so a target provides what it can do and nothing else:
 * no method that exists only to refuse.
 */
export interface Controls {
  /** SIGKILL a node's PostgreSQL (cnpg: delete its pod with grace 0). */
  kill: { kill(node: string): Promise<void> };
  /** PostgreSQL's own shutdown. */
  stop: { stop(node: string, mode: StopMode): Promise<void> };
  /** The cgroup freezer. */
  freeze: { pause(node: string): Promise<void>; unpause(node: string): Promise<void> };
  /** Network cuts in a node's network namespace. */
  network: {
    cut(cut: Cut): Promise<void>;
    /** Removes every cut on the node; idempotent. */
    healCuts(node: string): Promise<void>;
  };
  /** Delay, loss and a bandwidth cap on what a node sends. Resolves with how it was done, for the History. */
  shaping: {
    shape(node: string, shaping: Shaping): Promise<string>;
    /** Removes the node's shaping; idempotent. */
    unshape(node: string): Promise<void>;
  };
  /** One process of a node, not the node: PostgreSQL alone, or its HA manager alone. */
  processes: {
    /** SIGKILL it. */
    kill(node: string, process: ManagedProcess): Promise<void>;
    /** SIGSTOP it; `thaw` sends SIGCONT. */
    freeze(node: string, process: ManagedProcess): Promise<void>;
    thaw(node: string, process: ManagedProcess): Promise<void>;
    /** Starts the HA manager again if it is not running (the heal of a kill); idempotent. For postgres, nothing: its manager restarts it. */
    revive(node: string, process: ManagedProcess): Promise<void>;
  };
  /** The HA manager's DCS (etcd): its members, and the nodes' way to it. */
  dcs: {
    /** Kills a majority of the members, or all; resolves with the names of those killed. */
    killMembers(which: "majority" | "all"): Promise<string[]>;
    /** Starts every killed member again; idempotent. */
    startMembers(): Promise<void>;
    /** Cuts `node` off from every member (both ways); its clients and peers still reach it. */
    cutFrom(node: string): Promise<void>;
    healCut(node: string): Promise<void>;
  };
  /** Delete a pod with a grace period in seconds, or the pod's own when undefined. */
  pods: { deletePod(node: string, graceSeconds: number | undefined): Promise<void> };
  /** The machine under a node: a Kubernetes node taken down with every pod on it, and started again. Resolve with what was done, for the History. */
  hosts: { down(node: string): Promise<string>; up(node: string): Promise<string | void> };
  /** Fence an instance: PostgreSQL stops, the pod stays. */
  fencing: { fence(node: string): Promise<void>; unfence(node: string): Promise<void> };
  /** pgdrill promotes a standby itself (it stands in for a failover manager). */
  promotion: {
    /** Promotes a standby to primary and waits until it accepts writes. */
    promote(node: string): Promise<void>;
    /** Repoints `rw` (what a service or DNS switch does after a failover), and a pooler in front of it. */
    repoint(endpoint: "rw", node: string): Promise<void>;
  };
  /** A planned switchover through the HA system under test; resolves once `node` is primary. */
  switchover: { switchover(node: string): Promise<void> };
  /** The HA manager's own commands. */
  manager: {
    /** A manual failover to `node` (patronictl failover); resolves once it is primary. */
    failover(node: string): Promise<void>;
    /** Maintenance mode on (the manager stops acting) or off. */
    maintenance(mode: "pause" | "resume"): Promise<void>;
  };
}

// Every capability has a control, and every control a capability.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const controlsCoverCapabilities: Exact<keyof Controls, Capability> = true;
void controlsCoverCapabilities;

/** The controls of the capabilities `C`, as a target that provides exactly those hands them out. */
export type ControlsOf<C extends Capability> = { readonly [K in C]: Controls[K] };

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
  /** Removes everything the target started; idempotent, never throws. */
  teardown(): Promise<string[]>;
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
