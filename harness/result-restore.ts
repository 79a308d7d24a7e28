/**
 * result.json's `restore` section (checker/restore.ts fills it): a restore drill's RTO and RPO, and
 * the backups, archive and checks it stood on. In a module of its own beside result.ts, which
 * holds every other section; result.ts names it in CoreMetrics. `rtoBreakdown` words its RTO once,
 * for the checker's note and the reports alike.
 *
 * Times are ms since the run started (`…AtMs`) or durations (`…Ms`). The disaster is the History's
 * first `backup` event of subject `disaster`; the restore is the first that started at or after it
 * (the first of the run when there was no disaster).
 */
import { formatMs } from "./duration.ts";
import type { DisasterKind, RecoveryTarget } from "./history/events.ts";

/** Whether `pgbackrest check` (or `verify`) passed before the disaster: failed when any run failed, ok when all passed. */
export type BackupCheckStatus = "ok" | "failed" | "not-run";

/** The backup a restore stands on: the latest that worked before the disaster. */
export interface RestoreBackup {
  /** pgBackRest's label, e.g. "20261207-221500F"; null when it did not say. */
  label: string | null;
  type: "full" | "diff" | "incr";
  /** When it finished (ms since run start), and how long it took. */
  atMs: number;
  durationMs: number;
  /** What the repository stores for it (compressed, deduplicated); null when not recorded. The database's size is `backupSizeBytes`. */
  repoSizeBytes: number | null;
}

/** The WAL archive as last sampled at or before the disaster. */
export interface RestoreArchive {
  /** When that sample was taken, and on which node. */
  atMs: number;
  node: string;
  /** The disaster − when PostgreSQL last archived a segment (ms): how old the newest archived WAL was; null when nothing was archived. */
  ageMs: number | null;
  lastArchivedWal: string | null;
  /** pg_stat_archiver's failed_count: archive_command failures since the node started. */
  failedCount: number;
}

export interface RestoreMetrics {
  /** The History has `backup` events; false leaves the rest empty (no backups in this run). */
  observed: boolean;
  /** The first disaster: when, what, the nodes it touched, and the transaction of a DROP or TRUNCATE; null, [] without one. */
  disasterAtMs: number | null;
  disaster: DisasterKind | null;
  disasterNodes: string[];
  disasterXid: string | null;
  /**
   * ready: the restored primary left recovery; failed: the restore said so (`error`); unfinished: it started and neither happened
   * before the end; not-run: no restore began.
   */
  outcome: "ready" | "failed" | "unfinished" | "not-run";
  /** The node restored, the backup it restored from (pgBackRest's label; null: the latest), where recovery stopped, and its error. */
  node: string | null;
  label: string | null;
  target: RecoveryTarget | null;
  error: string | null;
  /**
   * The moment the RPO is judged at: a time target's own `at`; else the disaster (the restore's start when there was none). Writes
   * acknowledged before it must be present after the restore; writes sent after it, before the restore, must not (not for `latest`).
   */
  referenceAtMs: number | null;
  /** The restore began, its primary was out of recovery (`ready`), and the first acknowledged write on it (ms since run start). */
  startedAtMs: number | null;
  readyAtMs: number | null;
  writableAtMs: number | null;
  /**
   * Recovery time: the disaster → the first acknowledged write on the restored primary (without a writes probe: → `ready`); null when
   * it never took writes again (or no disaster). The phases below add up to it, each from where the one before ended, none below 0
   * (the restore's own poll may see `ready` a moment after a client's write did).
   */
  rtoMs: number | null;
  /** The disaster → the restore began: in a drill, the schedule's wait; in life, noticing and deciding. */
  waitMs: number | null;
  /** Copying the backup into the fresh node (`restored`'s durationMs). */
  restoreMs: number | null;
  /** WAL replay up to the target, and promotion (`ready`'s durationMs). */
  replayMs: number | null;
  /** The rest of started → ready, not below 0: removing the old nodes, starting the new ones. */
  otherMs: number | null;
  /** Ready → the first acknowledged write: clients finding the restored primary; null without a writes probe. */
  clientsMs: number | null;
  /** Ready → a standby streamed from the restored primary again; null when none did. */
  replicaMs: number | null;
  /** The restored database's size as copied (`restored`'s sizeBytes). */
  restoredSizeBytes: number | null;
  /**
   * Writes acknowledged (completed ok) before `referenceAtMs`, and those of them missing from the final read: for a PITR these must be
   * 0; for `latest` they are the writes whose WAL was not archived yet. Null without a writes probe, a final read or a restore.
   */
  acknowledgedBefore: number | null;
  lostAcknowledged: number | null;
  lostIds: number[];
  /**
   * Writes sent after `referenceAtMs` and before the restore began that are present in the final read: after the recovery target, so
   * they must not be (0 for `latest`, which has no target before the end). Null as `lostAcknowledged`.
   */
  presentAfterTarget: number | null;
  presentIds: number[];
  /** Writes sent before `referenceAtMs` that completed after it: on either side of the target, counted in neither. */
  ambiguous: number;
  /** Recovery point: `referenceAtMs` − the completion of the earliest lost acknowledged write; 0 when none was lost; null as above. */
  rpoMs: number | null;
  /** Backups that worked, taken before the disaster (in the run, without one). */
  backups: number;
  /** The latest of them: the disaster − when it finished, and the database's size it holds; null without one. */
  backupAgeMs: number | null;
  backupSizeBytes: number | null;
  backup: RestoreBackup | null;
  /** The WAL the primary had written and the archive did not hold yet, at the disaster (its last sample's lag); null when not sampled. */
  archiveLagBytes: number | null;
  archive: RestoreArchive | null;
  /** `pgbackrest check` and `verify` runs that failed before the disaster, together; and each one's status, with their errors. */
  checkFailures: number;
  checks: { check: BackupCheckStatus; verify: BackupCheckStatus; errors: string[] };
}

/** The RTO and its phases: "9.80 s = 2.00 s wait + 3.10 s restore + 4.20 s replay + 0.50 s clients"; null when not measured. */
export function rtoBreakdown(restore: RestoreMetrics): string | null {
  if (restore.rtoMs === null) return null;
  const phases = [
    [restore.waitMs, "wait"],
    [restore.restoreMs, "restore"],
    [restore.replayMs, "replay"],
    [restore.otherMs, "other"],
    [restore.clientsMs, "clients"],
  ] as const;
  // "other" is what the restore's own timings leave over: said only when there is some.
  const said = phases.filter(([ms, name]) => ms !== null && (name !== "other" || ms >= 1)).map(([ms, name]) => `${formatMs(ms)} ${name}`);
  return `${formatMs(restore.rtoMs)} = ${said.join(" + ")}`;
}

/** A disaster in a few words, for a sentence: "the writes table dropped at 5.00 s". */
export const DISASTER_WORDS: Record<DisasterKind, string> = {
  "destroy-data": "every node's data destroyed",
  "drop-table": "the writes table dropped",
  "truncate-table": "the writes table truncated",
  "corrupt-file": "a data file corrupted",
};

/** What "just before" names, per disaster. */
const DISASTER_NOUNS: Record<DisasterKind, string> = {
  "destroy-data": "the data was destroyed",
  "drop-table": "the DROP",
  "truncate-table": "the TRUNCATE",
  "corrupt-file": "the corruption",
};

/** Where the restore stopped: "just before the DROP (xid 1234)", "the latest archived WAL", "498.0 ms before the TRUNCATE (…)". */
export function targetWords(restore: Pick<RestoreMetrics, "target" | "disaster" | "disasterXid" | "disasterAtMs">): string {
  const target = restore.target ?? { type: "latest" };
  const noun = restore.disaster ? DISASTER_NOUNS[restore.disaster] : "the disaster";
  switch (target.type) {
    case "latest":
      return "the latest archived WAL";
    case "xid":
      return target.xid === restore.disasterXid && target.exclusive
        ? `just before ${noun} (xid ${target.xid})`
        : `xid ${target.xid}${target.exclusive ? " (exclusive)" : ""}`;
    case "time": {
      const from = restore.disasterAtMs;
      return from !== null && from >= target.at ? `${formatMs(from - target.at)} before ${noun} (${target.time})` : target.time;
    }
  }
}
