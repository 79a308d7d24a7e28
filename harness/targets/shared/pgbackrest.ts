/**
 * pgBackRest as pgdrill's container targets configure it: one stanza, a repository on a Docker
 * volume of the run's own mounted in every PostgreSQL container, and every option given through
 * PGBACKREST_* environment variables, so `docker exec pgbackrest …` and PostgreSQL's own
 * archive_command (which inherits the postmaster's environment) read the same settings with no
 * configuration file to write. Pure functions and parsers, apart from the volume itself; what
 * runs the commands is backup-keeper.ts.
 */
import { z } from "zod";
import { toMs } from "../../duration.ts";
import type { RecoveryTarget } from "../../history/events.ts";
import type { BackupOptions } from "../../scenario/backup.ts";
import type { Docker } from "./docker.ts";

export const STANZA = "pgdrill";
/** Where the repository volume is mounted in every container (the image makes it postgres's own). */
export const REPOSITORY_PATH = "/var/lib/pgbackrest";
/** PostgreSQL's default WAL segment size: what one archived file covers. */
const SEGMENT_BYTES = 16 * 1024 * 1024;

export function backupVolumeName(runId: string): string {
  return `pgdrill-${runId}-backup`;
}

/** The run's repository volume, labelled as the run's containers are, so teardown removes it with them. */
export async function createBackupVolume(docker: Docker, runId: string, labels: Record<string, string>): Promise<string> {
  const name = backupVolumeName(runId);
  await docker.createVolume({ Name: name, Labels: labels });
  return name;
}

/** The environment every PostgreSQL container of a target with backups gets: pgBackRest's whole configuration. */
export function pgbackrestEnvironment(options: BackupOptions, pgdata: string): Record<string, string> {
  return {
    PGBACKREST_STANZA: STANZA,
    PGBACKREST_PG1_PATH: pgdata,
    PGBACKREST_REPO1_PATH: REPOSITORY_PATH,
    PGBACKREST_REPO1_RETENTION_FULL: String(options.retention.full),
    PGBACKREST_COMPRESS_TYPE: options.compress,
    PGBACKREST_PROCESS_MAX: String(options.processMax),
    // A backup starts with an immediate checkpoint: a drill does not wait for the next one.
    PGBACKREST_START_FAST: "y",
    PGBACKREST_LOG_LEVEL_CONSOLE: "warn",
    PGBACKREST_LOG_LEVEL_FILE: "off",
    PGBACKREST_LOCK_PATH: "/tmp/pgbackrest",
  };
}

/** archive_timeout in whole seconds, as PostgreSQL takes it; 0 is off. */
export function archiveTimeoutSeconds(options: BackupOptions): number {
  const ms = toMs(options.archiveTimeout);
  return ms === 0 ? 0 : Math.max(1, Math.round(ms / 1000));
}

/** PostgreSQL settings that archive every WAL segment into the repository, from the first one. */
export function archiveSettings(options: BackupOptions): Record<string, string> {
  return {
    archive_mode: "on",
    archive_command: `pgbackrest --stanza=${STANZA} archive-push %p`,
    archive_timeout: String(archiveTimeoutSeconds(options)),
  };
}

/** `restore_command` for a node that replays from the repository (Patroni's recovery_conf, a standby). */
export const RESTORE_COMMAND = `pgbackrest --stanza=${STANZA} archive-get %f "%p"`;

/** The options of `pgbackrest restore` that stop recovery at `target` and promote the restored node there. */
export function restoreArguments(target: RecoveryTarget): string[] {
  switch (target.type) {
    // The default type replays to the end of the archived WAL and promotes by itself.
    case "latest":
      return ["--type=default"];
    case "xid":
      return ["--type=xid", `--target=${target.xid}`, ...(target.exclusive ? ["--target-exclusive"] : []), "--target-action=promote"];
    case "time":
      return ["--type=time", `--target=${target.time}`, "--target-action=promote"];
  }
}

/** A moment as PostgreSQL's recovery_target_time and pgBackRest's backup selection both read it: "2026-12-07 22:15:00.123+00". */
export function recoveryTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().replace("T", " ").replace("Z", "")}+00`;
}

// ---- WAL positions -------------------------------------------------------------------------

/** An LSN ("16/B374D848") as a byte position. */
export function lsnBytes(lsn: string): number {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(lsn.trim());
  if (!match) throw new Error(`not an LSN: ${JSON.stringify(lsn)}`);
  return parseInt(match[1]!, 16) * 2 ** 32 + parseInt(match[2]!, 16);
}

export function formatLsn(bytes: number): string {
  const high = Math.floor(bytes / 2 ** 32);
  const low = bytes - high * 2 ** 32;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

/**
 * How far the archive reaches, from pg_stat_archiver's last_archived_wal: the end of that segment.
 * A backup history file ("…0006.00000028.backup") is named after the backup's first segment and
 * archived once the backup's last segment was (pg_backup_stop waits for it): at least its own
 * segment's end. A timeline history file says nothing of positions: null, and the caller keeps
 * what it knew.
 */
export function archivedUpTo(walName: string): number | null {
  const match = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.[0-9A-F]{8}\.backup|\.partial)?$/i.exec(walName);
  if (!match) return null;
  return parseInt(match[2]!, 16) * 2 ** 32 + parseInt(match[3]!, 16) * SEGMENT_BYTES + SEGMENT_BYTES;
}

// ---- pgbackrest info --output=json -----------------------------------------------------------

const infoBackup = z.looseObject({
  label: z.string(),
  type: z.enum(["full", "diff", "incr"]),
  timestamp: z.looseObject({ start: z.number(), stop: z.number() }),
  archive: z.looseObject({ start: z.string().nullable(), stop: z.string().nullable() }).optional(),
  info: z.looseObject({
    size: z.number(),
    delta: z.number().optional(),
    repository: z.looseObject({ size: z.number(), delta: z.number().optional() }),
  }),
});

const infoStanza = z.looseObject({
  name: z.string(),
  status: z.looseObject({ code: z.number(), message: z.string() }),
  backup: z.array(infoBackup).default([]),
  archive: z.array(z.looseObject({ min: z.string().nullable().optional(), max: z.string().nullable().optional() })).default([]),
});

export type InfoBackup = z.output<typeof infoBackup>;
export type StanzaInfo = z.output<typeof infoStanza>;

/** The stanza's part of `pgbackrest info --output=json`; a clear error when pgBackRest said something else. */
export function parseInfo(json: string): StanzaInfo {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`pgbackrest info did not print JSON: ${json.slice(0, 200)}`);
  }
  const stanzas = z.array(infoStanza).safeParse(value);
  if (!stanzas.success) throw new Error(`pgbackrest info printed an unexpected shape: ${stanzas.error.issues[0]?.message ?? "?"}`);
  const stanza = stanzas.data.find((candidate) => candidate.name === STANZA);
  if (!stanza) throw new Error(`pgbackrest info knows no stanza "${STANZA}"`);
  return stanza;
}
