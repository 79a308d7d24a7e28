/**
 * The container pair's backups, disasters and restore: the seed guide's manual path. The data is
 * restored with `pgbackrest restore` into a fresh primary container (to the end of the archive, a
 * transaction or a time), PostgreSQL replays the archived WAL and promotes itself there, clients
 * come back to the same address, and a fresh standby is cloned from it.
 */
import { Wait, type GenericContainer, type StartedTestContainer } from "testcontainers";
import { errorMessage, HarnessError } from "../../errors.ts";
import type { RecoveryTarget } from "../../history/events.ts";
import type { BackupOptions } from "../../scenario/backup.ts";
import { Session } from "../../connection/session.ts";
import type { BackupControls, RestoreRequest } from "../controls.ts";
import { BackupKeeper, type BackupSite } from "../shared/backup-keeper.ts";
import { disasterControls, type DisasterSite } from "../shared/disasters.ts";
import { restoreArguments } from "../shared/pgbackrest.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

/**
 * What the pair hands its backups: what the keeper and the disasters need of any container target
 * (its primary is the node `rw` points at), and how to replace its nodes.
 */
export interface PairSite extends BackupSite, Omit<DisasterSite, "pgdata"> {
  /** The node's container's host port now (a restored node takes the same one when it is free). */
  hostPort(node: string): number | undefined;
  /** Takes a started container as the node's from now on. */
  replace(node: string, container: StartedTestContainer): Promise<void>;
  /** Points `rw` (and the pooler) at `node`, recorded as an endpoint change. */
  repoint(node: string): Promise<void>;
  waitForStreaming(): Promise<void>;
}

/** Makes a PostgreSQL node's container (not started), optionally on a given host port (a restored node keeps its address). */
export type NodeContainerFactory = (node: string, hostPort?: number) => GenericContainer;

/** How fresh nodes are made: the pair's own factory, and what they need to be told. */
export interface FreshNodes {
  image: NodeContainerFactory;
  secrets: { superuser: string; replication: string };
  startupMs: number;
}

const PGDATA = "/var/lib/postgresql/pgdrill";
/** How long pgBackRest's copy and PostgreSQL's replay may take before the restore gives up (the action bounds it too). */
const RESTORE_LIMIT_MS = 30 * 60_000;
const RESTORED = /pgdrill-bootstrap: restored backup set (\S+) in (\d+) ms/;

export class PairBackups {
  private readonly site: PairSite;
  private readonly fresh: FreshNodes;
  private readonly keeper: BackupKeeper;

  constructor(site: PairSite, options: BackupOptions, fresh: FreshNodes) {
    this.site = site;
    this.fresh = fresh;
    // The pair's site is all the keeper needs: its primary is the node rw points at.
    this.keeper = new BackupKeeper(site, options);
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
      disaster: disasterControls({ ...this.site, pgdata: PGDATA }, this.keeper),
    };
  }

  /**
   * The manual path: the old primary, if it still answers, stops taking writes and archives its last WAL (a restore to just
   * before a DROP needs the segment holding it); both nodes go; a fresh primary is restored and
   * replays to the target; clients are let back in; a fresh standby is cloned from it.
   */
  private async restore(request: RestoreRequest): Promise<string> {
    const target = this.keeper.recoveryTarget(request.to);
    const node = "primary";
    const started = this.site.now();
    this.keeper.restorePhase({ subject: "restore", phase: "started", node, target });
    try {
      const flushed = await this.keeper.sealAndArchive();
      const hostPort = this.site.hostPort(node);
      await Promise.all(this.site.nodes.map((name) => this.site.remove(name)));
      const restored = await this.startRestored(node, target, hostPort);
      const restoredAt = this.site.now();
      this.keeper.restorePhase({
        subject: "restore",
        phase: "restored",
        node,
        label: restored.label,
        durationMs: restored.copyMs,
        ...(restored.sizeBytes === undefined ? {} : { sizeBytes: restored.sizeBytes }),
        detail: `pgbackrest restore of ${restored.label} took ${restored.copyMs} ms; ${flushed}`,
      });
      await this.site.replace(node, restored.container);
      await this.waitWritable(node);
      this.keeper.restorePhase({ subject: "restore", phase: "ready", node, durationMs: Math.round(this.site.now() - restoredAt) });
      await this.site.repoint(node);
      if (request.replicas) await this.rebuildStandby();
      return `restored ${restored.label} to ${describeTarget(target)} in ${Math.round(this.site.now() - started)} ms`;
    } catch (error) {
      const message = this.site.redact(errorMessage(error));
      this.keeper.restorePhase({ subject: "restore", phase: "failed", node, error: message });
      throw new HarnessError(`the restore failed: ${message}`, { cause: error });
    }
  }

  private async startRestored(
    node: string,
    target: RecoveryTarget,
    hostPort: number | undefined,
  ): Promise<{ container: StartedTestContainer; label: string; copyMs: number; sizeBytes: number | undefined }> {
    const start = (port?: number) =>
      this.fresh
        .image(node, port)
        .withEnvironment({ PGDRILL_ROLE: "restore", PGDRILL_NODE: node, PGDRILL_RESTORE_ARGS: restoreArguments(target).join("\n") })
        .withWaitStrategy(Wait.forLogMessage(RESTORED))
        .withStartupTimeout(RESTORE_LIMIT_MS)
        .start();
    const container = await start(hostPort).catch(async (error: unknown) => {
      // A port taken meanwhile is not worth a failed restore: any free one will do.
      if (hostPort === undefined || !/port is already allocated|address already in use/i.test(errorMessage(error))) throw error;
      this.site.log(`restore: host port ${hostPort} is taken (${errorMessage(error)}); the restored ${node} takes another`);
      await this.site.remove(node);
      return start();
    });
    const printed = (await container.logs({ tail: 50 }).then(readAll)).match(RESTORED);
    const label = printed?.[1] ?? "?";
    return { container, label, copyMs: Number(printed?.[2] ?? 0), sizeBytes: await this.keeper.backupSize(label) };
  }

  /** Until the restored node has replayed to its target, promoted, and says it is not in recovery. */
  private async waitWritable(node: string): Promise<void> {
    await pollUntil(
      async () => {
        const session = await Session.connect(this.site.endpoint(node), {
          connectTimeoutMs: 1000,
          applicationName: "pgdrill-restore",
        }).catch((error: unknown) => ({ error }));
        if ("error" in session) return notYet(errorMessage(session.error));
        try {
          const result = await session.query<{ recovering: boolean }>("SELECT pg_is_in_recovery() AS recovering", [], 2000);
          return result.rows[0]?.recovering === false ? done(undefined) : notYet("still replaying WAL");
        } finally {
          await session.close();
        }
      },
      {
        deadline: Date.now() + RESTORE_LIMIT_MS,
        everyMs: 100,
        before: "not started",
        gaveUp: (why) => new HarnessError(`the restored ${node} did not leave recovery (${why})`),
      },
    );
  }

  private async rebuildStandby(): Promise<void> {
    const container = await this.fresh
      .image("standby", this.site.hostPort("standby"))
      .withEnvironment({
        PGDRILL_ROLE: "standby",
        PGDRILL_NODE: "standby",
        PGDRILL_PRIMARY_HOST: "primary",
        PGDRILL_REPLICATION_PASSWORD: this.fresh.secrets.replication,
      })
      .withStartupTimeout(this.fresh.startupMs)
      .start();
    await this.site.replace("standby", container);
    await this.site.waitForStreaming();
    this.keeper.restorePhase({
      subject: "restore",
      phase: "replica",
      node: "standby",
      detail: "cloned from the restored primary, streaming",
    });
  }
}

function describeTarget(target: RecoveryTarget): string {
  if (target.type === "latest") return "the end of the archive";
  return target.type === "xid" ? `just before xid ${target.xid}` : target.time;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  stream.setEncoding("utf8");
  return await new Promise((resolve) => {
    const finish = () => resolve(text);
    stream.on("data", (chunk: string) => {
      text += chunk;
      if (RESTORED.test(text)) finish();
    });
    stream.on("end", finish);
    // The log stream of a running container stays open: what it printed so far is all that is needed.
    setTimeout(finish, 2000).unref();
  });
}
