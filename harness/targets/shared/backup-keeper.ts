/**
 * A container target's backups while a drill runs: it creates the stanza once the primary is up,
 * takes backups (after `pgbackrest check`, and `verify` when asked), samples how far the archive
 * lags the primary's WAL, remembers the last disaster so a restore can stop "just before" it, and
 * records each of these as a `backup` History event. The target supplies how to run a command in a
 * node's container and how to reach its primary (`BackupSite`); restoring is the target's own.
 */
import { errorMessage, HarnessError } from "../../errors.ts";
import type { DisasterEvent, DisasterKind, RecoveryTarget, RestorePhaseEvent } from "../../history/events.ts";
import { sizeBytes, type BackupOptions } from "../../scenario/backup.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { Session } from "../../connection/session.ts";
import type { BackupType, RestoreTo } from "../controls.ts";
import type { Observation } from "../types.ts";
import {
  archivedUpTo,
  archiveTimeoutSeconds,
  formatLsn,
  lsnBytes,
  parseInfo,
  recoveryTime,
  STANZA,
  type InfoBackup,
} from "./pgbackrest.ts";
import { PollLoop } from "./poll-loop.ts";

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface BackupSite {
  /** Runs `argv` in `node`'s container, as the postgres user unless told otherwise. */
  exec(node: string, argv: string[], user?: "postgres" | "root"): Promise<ExecResult>;
  /** The node that is primary now: backups run, and WAL is archived, there. */
  primary(): string;
  /** A superuser endpoint of a node (for the archive samples and the damage done by SQL). */
  endpoint(node: string): Endpoint;
  record(observation: Observation): void;
  /** The drill's clock (ms since the run started). */
  now(): number;
  redact(text: string): string;
  log(line: string): void;
  /** Where the repository is, for the setup event: "docker volume …". */
  repository: string;
}

/** How often the archive's lag behind the primary is read. */
const SAMPLE_EVERY_MS = 1000;
/** pgbackrest check waits for a WAL switch to be archived; a backup of a drill's database takes seconds. */
const COMMAND_TIMEOUT_MS = 300_000;

type Untimed<E> = Omit<E, "t" | "kind">;

/**
 * pgBackRest's WARN lines in a command's output, without its process prefix ("P00   WARN: "), each
 * once: by default it says a warning on stdout and on stderr, which the exec's output both holds.
 */
export function backupWarnings(output: string): string[] {
  const lines = output.split("\n").map((line) => /\bWARN:\s*(.+)$/.exec(line)?.[1]?.trim());
  return [...new Set(lines.filter((line): line is string => line !== undefined && line !== ""))];
}

export class BackupKeeper {
  private readonly site: BackupSite;
  private readonly options: BackupOptions;
  private sampler: PollLoop | null = null;
  private lastSampleKey = "";
  private disaster: Untimed<DisasterEvent> & { t: number } = null as never;
  private disastered = false;
  private readonly sizes = new Map<string, number>();

  constructor(site: BackupSite, options: BackupOptions) {
    this.site = site;
    this.options = options;
  }

  /** Once the primary accepts connections: the stanza, the setup event, and the archive samples from now on. */
  async start(maxLifetimeMs: number): Promise<void> {
    const node = this.site.primary();
    const version = await this.run(node, ["pgbackrest", "version"]);
    await this.run(node, ["pgbackrest", `--stanza=${STANZA}`, "stanza-create"]);
    const seeded = this.options.seed === undefined ? null : await this.seed(node, sizeBytes(this.options.seed));
    this.site.record({
      kind: "backup",
      subject: "setup",
      tool: "pgbackrest",
      version: version.trim(),
      stanza: STANZA,
      repository: this.site.repository,
      retentionFull: this.options.retention.full,
      archiveTimeoutMs: archiveTimeoutSeconds(this.options) * 1000,
      ...(seeded ? { seedBytes: seeded.bytes, seedMs: seeded.ms } : {}),
    });
    this.site.log(`backups: ${version.trim()}, stanza ${STANZA} on ${this.site.repository}, WAL archived from the start`);
    this.sampler = new PollLoop({
      poll: () => this.sample(),
      everyMs: SAMPLE_EVERY_MS,
      maxLifetimeMs,
      log: this.site.log,
      what: "backups: sampling the WAL archive",
    });
    this.sampler.start();
  }

  /**
   * Writes about `bytes` of random text to the primary (pgdrill.seed), so a restore copies and a
   * replay reads what a database of that size makes them. Hex text compresses about as real rows do.
   */
  private async seed(node: string, bytes: number): Promise<{ bytes: number; ms: number }> {
    const started = this.site.now();
    const session = await Session.connect(this.site.endpoint(node), { connectTimeoutMs: 5000, applicationName: "pgdrill-seed" });
    try {
      await session.query("CREATE SCHEMA IF NOT EXISTS pgdrill", [], 10_000);
      await session.query("CREATE TABLE pgdrill.seed (id bigint PRIMARY KEY, body text NOT NULL)", [], 10_000);
      // ~1 KiB a row (32 md5 digests), in batches so no statement runs for minutes.
      const rows = Math.max(1, Math.round(bytes / 1100));
      for (let from = 1; from <= rows; from += 100_000) {
        const to = Math.min(rows, from + 99_999);
        await session.query(
          // The digest reads the inner i (and the outer g): an aggregate over outer columns alone would be the outer query's.
          `INSERT INTO pgdrill.seed
             SELECT g, (SELECT string_agg(md5(random()::text || g::text || i::text), '') FROM generate_series(1, 32) AS i)
               FROM generate_series($1::bigint, $2::bigint) AS g`,
          [from, to],
          600_000,
        );
      }
      const size = await session.query<{ bytes: string }>("SELECT pg_total_relation_size('pgdrill.seed')::text AS bytes", [], 10_000);
      const ms = Math.round(this.site.now() - started);
      this.site.log(`backups: seeded ${Math.round(Number(size.rows[0]?.bytes ?? 0) / 1024 ** 2)} MB in pgdrill.seed in ${ms} ms`);
      return { bytes: Number(size.rows[0]?.bytes ?? 0), ms };
    } finally {
      await session.close();
    }
  }

  async stop(): Promise<void> {
    await this.sampler?.stop();
  }

  /** `pgbackrest check`, a backup, and `verify` when asked; each recorded. Rejects when the backup failed. */
  async backup(type: BackupType, verify: boolean): Promise<string> {
    const node = this.site.primary();
    const checked = await this.checkOrVerify("check", node);
    const startedAt = this.site.now();
    let label: string | undefined;
    let warnings: string[] = [];
    try {
      const said = await this.run(node, ["pgbackrest", `--stanza=${STANZA}`, `--type=${type}`, "backup"]);
      warnings = backupWarnings(this.site.redact(said));
      for (const warning of warnings) this.site.log(`backups: pgBackRest warned during the ${type} backup: ${warning}`);
      const info = parseInfo(await this.run(node, ["pgbackrest", `--stanza=${STANZA}`, "--output=json", "info"]));
      const newest: InfoBackup | undefined = info.backup[info.backup.length - 1];
      label = newest?.label;
      if (newest) this.sizes.set(newest.label, newest.info.size);
      this.site.record({
        kind: "backup",
        subject: "backup",
        ok: true,
        node,
        backupType: type,
        startedAt,
        durationMs: Math.round(this.site.now() - startedAt),
        ...(newest
          ? {
              label: newest.label,
              sizeBytes: newest.info.size,
              repoSizeBytes: newest.info.repository.size,
              ...(newest.archive?.start ? { walStart: newest.archive.start } : {}),
              ...(newest.archive?.stop ? { walStop: newest.archive.stop } : {}),
            }
          : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      });
    } catch (error) {
      const message = this.site.redact(errorMessage(error));
      this.site.record({
        kind: "backup",
        subject: "backup",
        ok: false,
        node,
        backupType: type,
        startedAt,
        durationMs: Math.round(this.site.now() - startedAt),
        error: message,
      });
      throw new HarnessError(`the ${type} backup on ${node} failed: ${message}`, { cause: error });
    }
    const verified = verify ? await this.checkOrVerify("verify", node) : null;
    const said = (ok: boolean | null, what: string) => (ok === null ? "" : `, ${what} ${ok ? "ok" : "FAILED"}`);
    const warned = warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}: ${warnings.join("; ")}` : "";
    return `${type} backup ${label ?? "?"} on ${node}${said(checked, "check")}${said(verified, "verify")}${warned}`;
  }

  /** The database size of a backup this keeper took, by its label; undefined for one it does not know. */
  backupSize(label: string): number | undefined {
    return this.sizes.get(label);
  }

  /**
   * Before a restore replaces a primary that still runs: it stops taking writes (every new
   * transaction read-only, so a write after this fails and is never acknowledged), then `pgbackrest
   * check` switches its WAL and waits until the segment is archived. Everything it acknowledged is
   * then in the archive, which a restore to latest or to just before a DROP needs. The setting goes
   * with the old node: restored nodes come from the backup's configuration.
   */
  async sealAndArchive(): Promise<string> {
    const node = this.site.primary();
    const session = await Session.connect(this.site.endpoint(node), { connectTimeoutMs: 2000, applicationName: "pgdrill-restore" }).catch(
      () => null,
    );
    if (!session) return `${node} was gone: nothing more to archive`;
    try {
      await session.query("ALTER SYSTEM SET default_transaction_read_only = on", [], 5000);
      await session.query("SELECT pg_reload_conf()", [], 5000);
      // Sessions read the reload between statements; a transaction already under way still commits, before the switch.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } catch (error) {
      return `${node} could not be made read-only (${errorMessage(error)}): writes after this may be lost`;
    } finally {
      await session.close().catch(() => undefined);
    }
    try {
      await this.run(node, ["pgbackrest", `--stanza=${STANZA}`, "check"]);
      return `${node} made read-only and its last WAL archived first`;
    } catch (error) {
      return `${node} made read-only, but its last WAL could not be archived: ${this.site.redact(errorMessage(error))}`;
    }
  }

  /** Records a disaster and remembers it: a restore "before the disaster" stops there. */
  disasterStruck(disaster: DisasterKind, nodes: string[], detail: string, xid?: string): void {
    const event = { subject: "disaster" as const, disaster, nodes, detail, ...(xid ? { xid } : {}) };
    this.disaster = { ...event, t: this.site.now() };
    this.disastered = true;
    this.site.record({ kind: "backup", ...event });
    // Nothing left to sample once the data is gone; a restore starts the samples again.
    this.lastSampleKey = "";
  }

  /**
   * Where a restore stops, for what the scenario asked: a drop or truncate is undone by stopping just
   * before its transaction; data destroyed outright (or a corrupted file, which no WAL record
   * describes) is restored to the end of the archive.
   */
  recoveryTarget(to: RestoreTo): RecoveryTarget {
    if (to === "latest") return { type: "latest" };
    if (typeof to === "object" && "time" in to) {
      const epochMs = Date.parse(to.time);
      if (Number.isNaN(epochMs)) throw new HarnessError(`the restore's time "${to.time}" is not an ISO 8601 time`);
      return { type: "time", time: recoveryTime(epochMs), at: this.drillTimeOf(epochMs) };
    }
    if (!this.disastered) throw new HarnessError('a restore "before the disaster" needs a disaster fault earlier in the schedule');
    if (to === "before-disaster") {
      return this.disaster.xid ? { type: "xid", xid: this.disaster.xid, exclusive: true } : { type: "latest" };
    }
    const at = this.disaster.t - to.beforeDisasterMs;
    return { type: "time", time: recoveryTime(this.wallTimeOf(at)), at };
  }

  restorePhase(phase: Untimed<RestorePhaseEvent>): void {
    this.site.record({ kind: "backup", ...phase });
  }

  /** A wall-clock moment (epoch ms) on the drill's clock: both read this machine's clocks. */
  drillTimeOf(epochMs: number): number {
    return epochMs - (Date.now() - this.site.now());
  }

  private wallTimeOf(drillMs: number): number {
    return Date.now() - (this.site.now() - drillMs);
  }

  private async checkOrVerify(what: "check" | "verify", node: string): Promise<boolean> {
    const started = this.site.now();
    try {
      await this.run(node, ["pgbackrest", `--stanza=${STANZA}`, what]);
      this.site.record({ kind: "backup", subject: what, ok: true, node, durationMs: Math.round(this.site.now() - started) });
      return true;
    } catch (error) {
      const message = this.site.redact(errorMessage(error));
      this.site.record({
        kind: "backup",
        subject: what,
        ok: false,
        node,
        durationMs: Math.round(this.site.now() - started),
        error: message,
      });
      this.site.log(`backups: pgbackrest ${what} on ${node} failed: ${message}`);
      return false;
    }
  }

  /** Runs a pgBackRest command; rejects with what it printed when it fails. */
  private async run(node: string, argv: string[]): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${argv.slice(0, 3).join(" ")} took over ${COMMAND_TIMEOUT_MS / 1000} s`)),
        COMMAND_TIMEOUT_MS,
      );
    });
    try {
      const result = await Promise.race([this.site.exec(node, argv), timeout]);
      if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${result.exitCode}: ${result.output.trim().slice(-800)}`);
      return result.output;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One reading of the primary's WAL position against the archive's; recorded when either moved. */
  private async sample(): Promise<void> {
    const node = this.site.primary();
    const session = await Session.connect(this.site.endpoint(node), { connectTimeoutMs: 1000, applicationName: "pgdrill-backup" }).catch(
      () => null,
    );
    // A primary that does not answer (killed, destroyed, restoring) has nothing to say.
    if (!session) return;
    try {
      const result = await session.query<{ lsn: string | null; wal: string | null; archived_ms: number | null; failed: string }>(
        `SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn, last_archived_wal AS wal,
                (extract(epoch FROM last_archived_time) * 1000)::float8 AS archived_ms, failed_count::text AS failed
           FROM pg_stat_archiver`,
        [],
        1000,
      );
      const row = result.rows[0];
      if (!row?.lsn) return;
      const archived = row.wal ? archivedUpTo(row.wal) : null;
      const current = lsnBytes(row.lsn);
      const key = `${row.lsn} ${row.wal ?? ""} ${row.failed}`;
      if (key === this.lastSampleKey || this.sampler?.stopped) return;
      this.lastSampleKey = key;
      this.site.record({
        kind: "backup",
        subject: "archive",
        node,
        currentLsn: row.lsn,
        archivedLsn: archived === null ? null : formatLsn(archived),
        lagBytes: archived === null ? null : Math.max(0, current - archived),
        lastArchivedWal: row.wal,
        lastArchivedAt: row.archived_ms === null ? null : Math.round(this.drillTimeOf(row.archived_ms)),
        failedCount: Number(row.failed),
      });
    } catch {
      // A primary lost mid-query: the next poll says whether it is back.
    } finally {
      await session.close().catch(() => undefined);
    }
  }
}
