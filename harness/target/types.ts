/**
 * A Target, in testcontainers' manner: a `Topology` describes what to start; `start()` returns a
 * `StartedTopology`, a different type, so nothing can ask an unstarted target for its primary.
 * Faults and actions act through the started topology's capabilities, so the same Fault modules
 * can drive a container pair today and other targets later.
 */
import type { EndpointEvent, KubeEvent } from "../history/events.ts";
import type { Endpoint } from "../connection/endpoint.ts";

/** What a target observes on its own (e.g. Kubernetes watches), for the History. */
export type Observation = Omit<KubeEvent, "t"> | Omit<EndpointEvent, "t">;

/** A network cut: DROP rules applied in `node`'s network namespace. */
export interface Cut {
  node: string;
  /** "all": everything but loopback (clients included). Otherwise the peer node whose traffic is dropped. */
  from: "all" | string;
  /** both: drop in and out; inbound: drop only what the peer sends to `node`. */
  direction: "both" | "inbound";
}

export interface StartedTopology extends AsyncDisposable {
  readonly kind: string;
  readonly nodes: readonly string[];
  /** The node the `rw` endpoint points at now. */
  readonly rwNode: string;
  /** How to reach the `rw` endpoint (follows the primary as it is repointed) or a node by name. */
  endpoint(name: "rw" | string): Endpoint;
  /** Repoint `rw` (what a service or DNS switch does after a failover), and a pooler in front of it. */
  repoint(endpoint: "rw", node: string): Promise<void>;

  kill(node: string): Promise<void>;
  stopGracefully(node: string, mode: "smart" | "fast" | "immediate"): Promise<void>;
  pause(node: string): Promise<void>;
  unpause(node: string): Promise<void>;
  cut(cut: Cut): Promise<void>;
  /** Removes every cut on the node; idempotent. */
  healCuts(node: string): Promise<void>;
  /** Promotes a standby to primary and waits until it accepts writes. */
  promote(node: string): Promise<void>;
  /**
   * Turns a name a step aims at into the node it hits now: on cnpg, "primary" is whichever
   * instance is primary at that moment. Targets without roles return the name unchanged.
   */
  resolve?(node: string): Promise<string>;
  /** Deletes a pod (cnpg) with a grace period in seconds, or the pod's own when undefined. */
  deletePod?(node: string, graceSeconds: number | undefined): Promise<void>;
  fence?(node: string): Promise<void>;
  unfence?(node: string): Promise<void>;
  /** A planned switchover to `node`; resolves once it is primary. */
  switchover?(node: string): Promise<void>;
  /** Masks the target's secrets (passwords) in text that leaves pgdrill, such as a command's output. */
  redact?(text: string): string;
  /**
   * Schema for the drill's own tables (the writes table); default "pgdrill". The endpoint target
   * names one per run, so it can drop exactly what it made.
   */
  readonly drillSchema?: string;
  /** Removes everything the target started; idempotent, never throws. */
  teardown(): Promise<string[]>;
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
}

export interface Topology {
  readonly kind: string;
  readonly nodes: readonly string[];
  /** Which node is primary when the drill starts. */
  readonly initialPrimary: string;
  start(options: TopologyStartOptions): Promise<StartedTopology>;
}
