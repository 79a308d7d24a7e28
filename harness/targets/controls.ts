/**
 * What a started target can be made to do: the capabilities, and the control a started target
 * hands out for each. Pure types, so fault modules, which the reports
 * load for their labels and colours, can name the control they need without reaching a runtime.
 * A fault declares the capability it requires (fault/define.ts), a plugin lists those it provides
 * (plugin.ts), and its started target hands out a control for each (types.ts): the three cannot
 * drift apart.
 */
export type Capability = keyof Controls & string;

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

/** The two processes of an HA manager's node: PostgreSQL's postmaster, and the manager that keeps it (Patroni, pg_autoctl). */
export type ManagedProcess = "postgres" | "ha-manager";

/**
 * The controls a started target hands out, one per capability (plugin.ts). These are the ones core
 * faults and actions use; a control only one target's faults use is declared beside them, in the
 * target's folder, by augmenting this interface (cnpg's `pods`, patroni's `processes`, the pair's `promotion`), so the
 * core never names it and the checks still cover it. A fault or action uses only the control its
 * declaration names, so a target provides what it can do and nothing else: no method that exists
 * only to refuse.
 */
export interface Controls extends BackupControls {
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
  /** A planned switchover through the HA system under test; resolves once `node` is primary. */
  switchover: { switchover(node: string): Promise<void> };
  /** One process of a node, not the node: PostgreSQL alone, or its HA manager alone. */
  processes: {
    /** SIGKILL it. */
    kill(node: string, process: ManagedProcess): Promise<void>;
    /** SIGSTOP it; `thaw` sends SIGCONT. */
    freeze(node: string, process: ManagedProcess): Promise<void>;
    thaw(node: string, process: ManagedProcess): Promise<void>;
    /** Starts the HA manager again if it is not running (the heal of a kill); idempotent. For postgres, nothing: its manager does. */
    revive(node: string, process: ManagedProcess): Promise<void>;
  };
}

/** Where a restore stops replaying WAL, as a scenario asks for it (the backup control turns it into a RecoveryTarget). */
export type RestoreTo = "latest" | "before-disaster" | { time: string } | { beforeDisasterMs: number };

export interface RestoreRequest {
  to: RestoreTo;
  /** Rebuild the standbys from the restored primary too (the drill's end state is a full cluster again). */
  replicas: boolean;
}

export type BackupType = "full" | "diff" | "incr";

/** How a disaster damages the drill's writes table on the primary: a human error, in the WAL like any other. */
export type TableDamage = "drop" | "truncate";

/** The restore drills' controls (targets/shared/pgbackrest.ts): each records what it did as `backup` History events. */
export interface BackupControls {
  /** Backups with pgBackRest, on the run's own repository. */
  backup: {
    /** `pgbackrest check`, then a backup of `type`; with `verify`, `pgbackrest verify` after it. Resolves with a note for the log. */
    backup(type: BackupType, verify: boolean): Promise<string>;
    /** Restores into fresh nodes and lets clients back in; resolves once the restored primary takes writes. */
    restore(request: RestoreRequest): Promise<string>;
  };
  /** Data destroyed or damaged, for a restore to bring back. */
  disaster: {
    /** Every node's data gone: its container removed with its volumes. */
    destroyData(): Promise<string>;
    damageTable(how: TableDamage): Promise<string>;
    /** Overwrites a page of the writes table's file on `node`'s disk, behind PostgreSQL's back. */
    corruptFile(node: string): Promise<string>;
  };
}

/** The controls of the capabilities `C`, as a target that provides exactly those hands them out. */
export type ControlsOf<C extends Capability> = { readonly [K in C]: Controls[K] };
