/**
 * The History's `backup` events (restore drills): what the target's backups, disasters and restores
 * did, recorded by targets/shared/backup-keeper.ts and read by checker/restore.ts. Part of the
 * History's vocabulary (events.ts re-exports them); a module of its own to keep events.ts readable.
 */

/**
 * What a drill's backups and restores did (targets/shared/pgbackrest.ts records them), by subject:
 * - `setup`: once, when the target started with backups on: the tool, stanza, repository, retention
 *   and archive_timeout;
 * - `check`, `verify`: `pgbackrest check` (archiving works end to end) and `pgbackrest verify`
 *   (the repository's files are sound), with their outcome;
 * - `backup`: one backup taken, with its type, label, sizes and the drill times it ran between;
 * - `archive`: the primary's WAL position against what was archived, sampled while it answers (on
 *   change), so the lag at the moment of a disaster can be read;
 * - `disaster`: a fault destroyed or damaged data, exactly when (`t`) and how;
 * - `restore`: one phase of a restore, from `started` to `ready` (the restored primary left recovery
 *   and takes writes) and `replica` (a standby streams from it again), or `failed`.
 */
export type BackupEvent = BackupSetupEvent | BackupCheckEvent | BackupTakenEvent | ArchiveSampleEvent | DisasterEvent | RestorePhaseEvent;

interface BackupEventBase {
  kind: "backup";
  t: number;
}

export interface BackupSetupEvent extends BackupEventBase {
  subject: "setup";
  tool: "pgbackrest";
  /** `pgbackrest version`'s answer, e.g. "pgBackRest 2.45". */
  version: string;
  stanza: string;
  /** Where the repository is, e.g. "docker volume pgdrill-r123-backup". */
  repository: string;
  retentionFull: number;
  /** PostgreSQL's archive_timeout in ms; 0: off (a segment is archived only when full or switched). */
  archiveTimeoutMs: number;
  /** The target's `backup.seed`: bytes written before the drill (table pgdrill.seed), and how long that took. */
  seedBytes?: number;
  seedMs?: number;
}

export interface BackupCheckEvent extends BackupEventBase {
  subject: "check" | "verify";
  ok: boolean;
  durationMs: number;
  /** The node it ran on. */
  node: string;
  /** What the tool said when it failed (trimmed, secrets masked). */
  error?: string;
}

export interface BackupTakenEvent extends BackupEventBase {
  subject: "backup";
  ok: boolean;
  node: string;
  backupType: "full" | "diff" | "incr";
  /** pgBackRest's label, e.g. "20261207-221500F"; absent when it failed. */
  label?: string;
  /** Drill time the backup command started; `t` is when it finished. */
  startedAt: number;
  durationMs: number;
  /** The database's size as backed up, and what the repository stores for it (compressed, deduplicated). */
  sizeBytes?: number;
  repoSizeBytes?: number;
  /** The WAL the backup needs to be consistent: first and last segment. */
  walStart?: string;
  walStop?: string;
  /**
   * pgBackRest's warnings about a backup that succeeded: e.g. "invalid page checksums found in file
   * …", a data file corrupted on disk and now in the backup too.
   */
  warnings?: string[];
  error?: string;
}

export interface ArchiveSampleEvent extends BackupEventBase {
  subject: "archive";
  node: string;
  /** pg_current_wal_lsn() on the primary. */
  currentLsn: string;
  /** The end of the newest archived segment; null: nothing archived yet. */
  archivedLsn: string | null;
  /** currentLsn − archivedLsn: the WAL a lost primary takes with it; null when nothing was archived. */
  lagBytes: number | null;
  lastArchivedWal: string | null;
  /** Drill time PostgreSQL archived it (pg_stat_archiver.last_archived_time); null: never. */
  lastArchivedAt: number | null;
  failedCount: number;
}

export type DisasterKind = "destroy-data" | "drop-table" | "truncate-table" | "corrupt-file";

export interface DisasterEvent extends BackupEventBase {
  subject: "disaster";
  disaster: DisasterKind;
  /** The nodes whose data it touched. */
  nodes: string[];
  /** drop-table, truncate-table: the transaction that did it, which "just before the disaster" restores up to (exclusive). */
  xid?: string;
  detail: string;
}

/** Where a restore stops replaying WAL. */
export type RecoveryTarget =
  | { type: "latest" }
  | { type: "xid"; xid: string; exclusive: boolean }
  /** `at`: the same moment in drill time; `time`: as given to PostgreSQL, ISO 8601. */
  | { type: "time"; time: string; at: number };

export interface RestorePhaseEvent extends BackupEventBase {
  subject: "restore";
  phase: "started" | "restored" | "ready" | "replica" | "failed";
  /** The node being restored (or, for `replica`, the one that streams again). */
  node: string;
  /** `started`: where recovery stops, and the backup it restores from (pgBackRest's label; latest when absent). */
  target?: RecoveryTarget;
  label?: string;
  /** `restored`: how long copying the backup took, and its size. `ready`: how long WAL replay and promotion took. */
  durationMs?: number;
  sizeBytes?: number;
  detail?: string;
  error?: string;
}
