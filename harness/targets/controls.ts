/**
 * What a started target can be made to do: the capabilities, and the control a started target
 * hands out for each. Pure types (and the capability list), so fault modules, which the reports
 * load for their labels and colours, can name the control they need without reaching a runtime.
 * A fault declares the capability it requires (fault/define.ts), a plugin lists those it provides
 * (plugin.ts), and its started target hands out a control for each (types.ts): the three cannot
 * drift apart.
 */
export const CAPABILITIES = ["kill", "stop", "freeze", "network", "shaping", "processes", "dcs", "pods", "fencing", "promotion", "switchover", "manager", "hosts"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Delay, loss and a rate cap on one node's outbound traffic (shared/shaping.ts applies it). */
export interface Shaping {
  /** Added to every outbound packet. */
  delayMs: number;
  /** Each packet's delay is delayMs ± up to jitterMs, uniformly. */
  jitterMs: number;
  /** 0 to 100: share of outbound packets dropped at random. */
  lossPercent: number;
  /** Cap on the outbound rate, in kbit/s; none when undefined. */
  rateKbit?: number | undefined;
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
