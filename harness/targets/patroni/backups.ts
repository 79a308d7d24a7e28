/**
 * The Patroni target's backups, disasters and restore. A restore is Patroni's documented one
 * (restore-bootstrap.ts): the old members go, the cluster's state is removed from the DCS with
 * `patronictl remove`, and fresh members start whose bootstrap method is `pgbackrest restore`; the
 * first takes the initialize key, restores, replays the archived WAL to the target and promotes,
 * becomes the leader, and HAProxy's rw sends clients to it; the others clone from it. etcd and
 * HAProxy stay as they were.
 */
import type { GenericContainer, StartedTestContainer } from "testcontainers";
import { errorMessage, HarnessError } from "../../errors.ts";
import type { RecoveryTarget } from "../../history/events.ts";
import type { BackupOptions } from "../../scenario/backup.ts";
import { Session } from "../../connection/session.ts";
import type { BackupControls, RestoreRequest } from "../controls.ts";
import { BackupKeeper, type BackupSite } from "../shared/backup-keeper.ts";
import { disasterControls, type DisasterSite } from "../shared/disasters.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import { DATA_DIR, ETCD_CLIENT_PORT, SCOPE } from "./config.ts";
import { RESTORE_FAILED, RESTORED, removeClusterScript } from "./restore-bootstrap.ts";

/** How a node's container is made: a fresh cluster's member, or a restored cluster's (`restore`). */
export interface NodeStart {
  /** The cluster bootstraps from the backup, to this target, instead of with initdb. */
  restore?: RecoveryTarget;
  /** How long a member that is not the bootstrapper waits for it to accept connections. */
  waitSeconds: number;
  /** Host ports to publish PostgreSQL and the REST API on (a restored member keeps its addresses when they are free). */
  ports?: { pg: number; rest: number };
}

export type NodeContainerFactory = (node: string, how: NodeStart) => GenericContainer;

/**
 * What the Patroni target hands its backups: what the keeper and the disasters need of any
 * container target (its primary is the leader), and how to replace its members.
 */
export interface PatroniSite extends Omit<BackupSite, "primary">, Omit<DisasterSite, "pgdata" | "primary"> {
  /** The leader key's holder as last seen (the first node when none was). */
  leader(): string;
  /** The leader key's holder at the observer's last poll: null when none holds it, undefined when no member answered yet. */
  leaderKey(): string | null | undefined;
  /** The etcd members (patronictl is in their containers too). */
  readonly dcs: ReadonlyArray<{ name: string; container: StartedTestContainer }>;
  /** Every member is gone: HAProxy counts them down now, and where it sends clients is recorded afresh. */
  retire(): Promise<void>;
  /** Starts a fresh container for `node` and takes it as the node's from now on (HAProxy, the observer, the controls). */
  startNode(node: string, how: NodeStart): Promise<StartedTestContainer>;
  /** Resolves once `ready` holds after one of the observer's polls. */
  waitUntil(ready: () => true | string, timeoutMs: number, what: string): Promise<void>;
  /** Who streams from `leader` now, as its Patroni says. */
  streamingFrom(leader: string): string[];
}

/** How long pgBackRest's copy, WAL replay and the replicas' clones may take before the restore gives up (the action bounds it too). */
const RESTORE_LIMIT_MS = 30 * 60_000;

export class PatroniBackups {
  private readonly site: PatroniSite;
  private readonly keeper: BackupKeeper;

  constructor(site: PatroniSite, options: BackupOptions) {
    this.site = site;
    // Backups run, and WAL is archived, on the leader.
    this.keeper = new BackupKeeper({ ...site, primary: () => site.leader() }, options);
  }

  start(maxLifetimeMs: number): Promise<void> {
    return this.keeper.start(maxLifetimeMs);
  }

  stop(): Promise<void> {
    return this.keeper.stop();
  }

  controls(): BackupControls {
    return {
      backup: { backup: (type, verify) => this.keeper.backup(type, verify), restore: (request) => this.restore(request) },
      disaster: disasterControls({ ...this.site, pgdata: DATA_DIR, primary: () => this.site.leader() }, this.keeper),
    };
  }

  /**
   * Patroni's path: the old leader, if it still answers, archives its last WAL; every member goes,
   * and the cluster's keys with them; the first fresh member bootstraps from the backup and becomes
   * the leader; clients reach it through HAProxy's rw; the others clone from it.
   */
  private async restore(request: RestoreRequest): Promise<string> {
    const target = this.keeper.recoveryTarget(request.to);
    const [node, ...others] = this.site.nodes as [string, ...string[]];
    const started = this.site.now();
    this.keeper.restorePhase({ subject: "restore", phase: "started", node, target });
    try {
      const flushed = await this.keeper.sealAndArchive();
      await Promise.all(this.site.nodes.map((name) => this.site.remove(name)));
      await this.site.retire();
      await this.removeCluster();
      const waitSeconds = Math.ceil(RESTORE_LIMIT_MS / 1000);
      // The others wait (their entrypoint) until the restored node takes connections, so it alone races for the initialize key.
      const starting = [node, ...(request.replicas ? others : [])].map((name) =>
        this.site.startNode(name, { restore: target, waitSeconds }),
      );
      const [restoring] = await Promise.all(starting);
      const restored = await bootstrapped(restoring!);
      const restoredAt = this.site.now();
      this.keeper.restorePhase({
        subject: "restore",
        phase: "restored",
        node,
        label: restored.label,
        durationMs: restored.copyMs,
        sizeBytes: restored.sizeBytes,
        detail: `Patroni's bootstrap method ran pgbackrest restore of ${restored.label} in ${restored.copyMs} ms; ${flushed}`,
      });
      const leaderAt = await this.waitWritable(node);
      const readyAt = this.site.now();
      const leaderKey = leaderAt === null ? "" : `Patroni made it the leader ${Math.round(leaderAt - restoredAt)} ms after the copy, `;
      const routed = Math.round(readyAt - (leaderAt ?? restoredAt));
      this.keeper.restorePhase({
        subject: "restore",
        phase: "ready",
        node,
        durationMs: Math.round(readyAt - restoredAt),
        detail: `WAL replayed and promoted; ${leaderKey}HAProxy's rw took writes ${routed} ms later`,
      });
      if (request.replicas) await this.waitReplicas(node, others);
      return `restored ${restored.label} to ${describeTarget(target)} in ${Math.round(this.site.now() - started)} ms`;
    } catch (error) {
      const message = this.site.redact(errorMessage(error));
      this.keeper.restorePhase({ subject: "restore", phase: "failed", node, error: message });
      throw new HarnessError(`the restore failed: ${message}`, { cause: error });
    }
  }

  /**
   * `patronictl remove`, in the first etcd member's container that runs it: no member is left to
   * keep the keys, and a new bootstrap needs the initialize key gone.
   */
  private async removeCluster(): Promise<void> {
    const errors: string[] = [];
    for (const member of this.site.dcs) {
      const script = removeClusterScript(SCOPE, `${member.name}:${ETCD_CLIENT_PORT}`);
      const result = await member.container.exec(["sh", "-c", script], { user: "postgres" }).catch((error: unknown) => {
        errors.push(`${member.name}: ${errorMessage(error)}`);
        return null;
      });
      if (result?.exitCode === 0) return;
      if (result) errors.push(`${member.name}: exit ${result.exitCode}: ${result.output.trim().slice(-600)}`);
    }
    throw new HarnessError(`patronictl remove ${SCOPE} failed: ${errors.join("; ")}`);
  }

  /**
   * Until the restored leader has replayed to its target, promoted, taken the leader key, and HAProxy's
   * rw reaches it; resolves with when the leader key was first seen held by `node` (null: not seen).
   */
  private async waitWritable(node: string): Promise<number | null> {
    let leaderAt: number | null = null;
    await pollUntil(
      async () => {
        if (leaderAt === null && this.site.leaderKey() === node) leaderAt = this.site.now();
        const session = await Session.connect(this.site.endpoint("rw"), {
          connectTimeoutMs: 1000,
          applicationName: "pgdrill-restore",
        }).catch((error: unknown) => ({ error }));
        if ("error" in session) return notYet(`rw: ${errorMessage(session.error)}`);
        try {
          const result = await session.query<{ recovering: boolean }>("SELECT pg_is_in_recovery() AS recovering", [], 2000);
          return result.rows[0]?.recovering === false ? done(undefined) : notYet("rw reaches a node still in recovery");
        } catch (error) {
          return notYet(`rw: ${errorMessage(error)}`);
        } finally {
          await session.close().catch(() => undefined);
        }
      },
      {
        deadline: Date.now() + RESTORE_LIMIT_MS,
        everyMs: 100,
        before: "not tried",
        gaveUp: (why) => new HarnessError(`the restored leader did not take writes through HAProxy's rw (${why})`),
      },
    );
    return leaderAt;
  }

  /** Each other member recorded as it streams from the restored leader. */
  private async waitReplicas(leader: string, replicas: readonly string[]): Promise<void> {
    const streaming = new Set<string>();
    await this.site.waitUntil(
      () => {
        const now = this.site.streamingFrom(leader);
        for (const replica of replicas) {
          if (streaming.has(replica) || !now.includes(replica)) continue;
          streaming.add(replica);
          this.keeper.restorePhase({
            subject: "restore",
            phase: "replica",
            node: replica,
            detail: `cloned by Patroni from ${leader}, streaming`,
          });
        }
        const waiting = replicas.filter((replica) => !streaming.has(replica));
        return waiting.length === 0 ? true : `${waiting.join(", ")} not streaming from ${leader} yet`;
      },
      RESTORE_LIMIT_MS,
      "the replicas streaming from the restored leader",
    );
  }
}

/** Reads the restored node's log until its bootstrap command said how the restore went. */
async function bootstrapped(container: StartedTestContainer): Promise<{ label: string; copyMs: number; sizeBytes: number }> {
  const text = await readLogUntil(container, new RegExp(`${RESTORED.source}|${RESTORE_FAILED.source}`), RESTORE_LIMIT_MS);
  const restored = text.match(RESTORED);
  if (restored) return { label: restored[1]!, copyMs: Number(restored[2]), sizeBytes: Number(restored[3]) };
  if (RESTORE_FAILED.test(text))
    throw new HarnessError(`Patroni's bootstrap from the backup failed:\n${text.trim().split("\n").slice(-15).join("\n")}`);
  throw new HarnessError(`the restored node did not finish its bootstrap within ${RESTORE_LIMIT_MS / 60_000} minutes`);
}

/** A running container's log, followed until `pattern` appears, the stream ends or `timeoutMs` passes; what it printed so far. */
async function readLogUntil(container: StartedTestContainer, pattern: RegExp, timeoutMs: number): Promise<string> {
  const stream = await container.logs();
  let text = "";
  stream.setEncoding("utf8");
  return await new Promise((resolve) => {
    const timer = setTimeout(finish, timeoutMs);
    function finish() {
      clearTimeout(timer);
      stream.removeAllListeners("data");
      stream.destroy();
      resolve(text);
    }
    stream.on("data", (chunk: string) => {
      text += chunk;
      if (pattern.test(text)) finish();
    });
    stream.on("end", finish);
    stream.on("error", finish);
  });
}

function describeTarget(target: RecoveryTarget): string {
  if (target.type === "latest") return "the end of the archive";
  return target.type === "xid" ? `just before xid ${target.xid}` : target.time;
}
