/**
 * A Target, in testcontainers' manner: a `Topology` describes what to start; `start()` returns a
 * `StartedTopology`, a different type, so nothing can ask an unstarted target for its primary.
 * Faults and actions act through the started topology's capabilities, so the same Fault modules
 * can drive a container pair today and other targets later.
 */
import type { Endpoint } from "../probe/session.ts";

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
  /** Repoint `rw` (what a service or DNS switch does after a failover). */
  repoint(endpoint: "rw", node: string): void;

  kill(node: string): Promise<void>;
  stopGracefully(node: string, mode: "smart" | "fast" | "immediate"): Promise<void>;
  pause(node: string): Promise<void>;
  unpause(node: string): Promise<void>;
  cut(cut: Cut): Promise<void>;
  /** Removes every cut on the node; idempotent. */
  healCuts(node: string): Promise<void>;
  /** Promotes a standby to primary and waits until it accepts writes. */
  promote(node: string): Promise<void>;
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
}

export interface Topology {
  readonly kind: string;
  readonly nodes: readonly string[];
  /** Which node is primary when the drill starts. */
  readonly initialPrimary: string;
  start(options: TopologyStartOptions): Promise<StartedTopology>;
}
