/**
 * The restore's section of the report model, and its key-metrics rows: metrics.restore
 * (checker/restore.ts) in words, once, so report.md, report.html and junit.xml say the same thing.
 * Wording only: every figure and judgement is the checker's, its sentence included.
 */
import { formatBytes } from "../bytes.ts";
import { DISASTER_WORDS, rtoBreakdown, targetWords, type BackupCheckStatus, type RestoreMetrics } from "../result-restore.ts";
import type { RunResult } from "../result.ts";
import { formatMs } from "./format.ts";
import type { AlertCase, RestoreSection, Row } from "./types.ts";

/** Null when the run took no backups (or its result.json predates the restore's check). */
export function restoreSection(result: RunResult): RestoreSection | null {
  const restore = (result.metrics as Partial<RunResult["metrics"]>).restore;
  if (!restore?.observed) return null;
  const check = result.checks.restore;
  const rows: Row[] = [
    ...(restore.disasterAtMs === null ? [] : [{ label: "disaster", value: disasterText(restore) }]),
    // The RTO and RPO are key metrics (restoreKeyRows), and the summary says them too.
    { label: "restore", value: restoreText(restore) },
    ...(restore.acknowledgedBefore === null ? [] : [{ label: "writes around the target", value: aroundText(restore) }]),
    { label: "backup", value: backupText(restore) },
    ...(restore.archive === null ? [] : [{ label: "WAL archive at the disaster", value: archiveText(restore) }]),
    { label: "pgbackrest check, verify", value: checksText(restore) },
    ...(restore.replicaMs === null ? [] : [{ label: "standby", value: `streaming again ${formatMs(restore.replicaMs)} after ready` }]),
  ];
  return { summary: check?.reason ?? "", valid: check?.valid ?? "unknown", rows, cases: cases(restore) };
}

/** The RTO and RPO rows of the key metrics, when a restore ran. */
export function restoreKeyRows(result: RunResult): Row[] {
  const restore = (result.metrics as Partial<RunResult["metrics"]>).restore;
  return restore?.observed && ran(restore) ? keyRows(restore) : [];
}

const ran = (restore: RestoreMetrics) => restore.outcome !== "not-run";
const plural = (count: number) => (count === 1 ? "" : "s");

function keyRows(restore: RestoreMetrics): Row[] {
  return [
    { label: "restore RTO", value: rtoText(restore) },
    { label: "restore RPO", value: rpoText(restore) },
  ];
}

function disasterText(restore: RestoreMetrics): string {
  const what = restore.disaster ? DISASTER_WORDS[restore.disaster] : "disaster";
  const xid = restore.disasterXid ? ` (xid ${restore.disasterXid})` : "";
  return `${what} at ${formatMs(restore.disasterAtMs)}${xid} on ${restore.disasterNodes.join(", ") || "?"}`;
}

function restoreText(restore: RestoreMetrics): Row["value"] {
  const from = restore.label ? `from backup ${restore.label}` : "from the latest backup";
  const to = `to ${targetWords(restore)}`;
  switch (restore.outcome) {
    case "not-run":
      return restore.disasterAtMs === null ? "none in this run" : [{ text: "none began after the disaster", bad: true }];
    case "failed":
      return [{ text: `failed: ${restore.error ?? "no error recorded"}`, strong: true, bad: true }, ` (${restore.node ?? "?"}, ${to})`];
    case "unfinished":
      return [{ text: `began at ${formatMs(restore.startedAtMs)}, never left recovery`, bad: true }, ` (${to})`];
    case "ready": {
      const size = restore.restoredSizeBytes === null ? "" : `, ${formatBytes(restore.restoredSizeBytes)} copied`;
      return `${restore.node ?? "?"} ready at ${formatMs(restore.readyAtMs)}, ${from}${size}, ${to}`;
    }
  }
}

function rtoText(restore: RestoreMetrics): Row["value"] {
  const breakdown = rtoBreakdown(restore);
  if (breakdown !== null) {
    const [total, phases] = breakdown.split(" = ");
    return [{ text: total!, strong: true }, ` = ${phases} (disaster → ${restore.writableAtMs === null ? "ready" : "first write"})`];
  }
  if (restore.outcome === "ready" && restore.disasterAtMs !== null) return [{ text: "never writable: no write after ready", bad: true }];
  if (restore.outcome !== "ready") return [{ text: `never writable: the restore ${restore.outcome}`, bad: true }];
  return "n/a (no disaster to time it from)";
}

function rpoText(restore: RestoreMetrics): Row["value"] {
  if (restore.outcome !== "ready") return `n/a (the restore ${restore.outcome})`;
  if (restore.lostAcknowledged === null || restore.rpoMs === null) return "n/a (no writes probe, or no final read after the restore)";
  const lost = restore.lostAcknowledged;
  const latest = restore.target?.type === "latest";
  const bad = lost > 0 && !latest;
  const words =
    lost === 0 ? "no acknowledged write lost" : `${lost} acknowledged write${plural(lost)} lost${latest ? " (not archived)" : ""}`;
  return [{ text: formatMs(restore.rpoMs), strong: true, bad }, `: ${words}`];
}

function aroundText(restore: RestoreMetrics): Row["value"] {
  const before = `${restore.acknowledgedBefore} acknowledged before it, ${restore.lostAcknowledged} of them missing`;
  const after = restore.presentAfterTarget ?? 0;
  const afterText =
    restore.target?.type === "latest"
      ? []
      : after > 0
        ? ["; ", { text: `${after} sent after it present`, strong: true, bad: true }]
        : ["; none sent after it present"];
  const ambiguous = restore.ambiguous > 0 ? [`; ${restore.ambiguous} on either side of it (not counted)`] : [];
  return [`${before}`, ...afterText, ...ambiguous];
}

function backupText(restore: RestoreMetrics): string {
  const backup = restore.backup;
  if (!backup) return restore.disasterAtMs === null ? "none worked" : "none worked before the disaster";
  const repo = backup.repoSizeBytes === null ? "" : `, ${formatBytes(backup.repoSizeBytes)} in the repository`;
  const age = restore.backupAgeMs === null ? "" : `, ${formatMs(restore.backupAgeMs)} old at the disaster`;
  const count = restore.backups > 1 ? ` (latest of ${restore.backups})` : "";
  const size = `${formatBytes(restore.backupSizeBytes)}${repo}`;
  return `${backup.label ?? "unlabelled"}: ${backup.type}, ${size}, took ${formatMs(backup.durationMs)}${age}${count}`;
}

function archiveText(restore: RestoreMetrics): string {
  const archive = restore.archive!;
  const age = archive.ageMs === null ? "nothing archived yet" : `last segment archived ${formatMs(archive.ageMs)} before`;
  const failed = archive.failedCount > 0 ? `, ${archive.failedCount} archive_command failures` : "";
  const wal = archive.lastArchivedWal ? ` (${archive.lastArchivedWal})` : "";
  return `${formatBytes(restore.archiveLagBytes)} not archived yet; ${age}${wal}${failed}`;
}

const STATUS: Record<BackupCheckStatus, string> = { ok: "ok", failed: "failed", "not-run": "not run" };

function checksText(restore: RestoreMetrics): Row["value"] {
  const both = `check ${STATUS[restore.checks.check]} · verify ${STATUS[restore.checks.verify]}`;
  if (restore.checkFailures === 0) return both;
  return [{ text: both, bad: true }, ` (${restore.checks.errors.join("; ")})`];
}

/** What a restore must do, each judged as the check does: writable again, nothing acknowledged lost, nothing after its target back. */
function cases(restore: RestoreMetrics): AlertCase[] {
  const found: AlertCase[] = [];
  if (restore.checks.check !== "not-run" || restore.checks.verify !== "not-run") {
    const failed = restore.checkFailures > 0;
    found.push({
      name: "restore: pgbackrest check and verify passed before the disaster",
      outcome: failed ? "fail" : "pass",
      message: failed ? restore.checks.errors.join("; ") : null,
    });
  }
  if (restore.disasterAtMs === null && !ran(restore)) return found;
  const writable = restore.outcome === "ready" && (restore.rtoMs !== null || restore.disasterAtMs === null);
  const never = restore.outcome === "ready" ? "the restored primary took no write by the end" : `the restore ${restore.outcome}`;
  found.push({
    name: "restore: the restored primary takes writes",
    outcome: writable ? "pass" : "fail",
    message: writable ? null : `${never}${restore.error ? `: ${restore.error}` : ""}`,
  });
  if (!ran(restore)) return found;
  const kept = "restore: acknowledged writes before the target are back";
  if (restore.lostAcknowledged === null)
    found.push({ name: kept, outcome: "skipped", message: "no writes probe, or no final read after the restore" });
  else if (restore.target?.type === "latest")
    found.push({
      name: kept,
      outcome: "skipped",
      message:
        restore.lostAcknowledged === 0
          ? "latest: every acknowledged write is back"
          : `latest: ${restore.lostAcknowledged} acknowledged write${plural(restore.lostAcknowledged)} ` +
            `of the last ${formatMs(restore.rpoMs)} ` +
            `${restore.lostAcknowledged === 1 ? "was" : "were"} not archived ` +
            "(gate restore.lostAcknowledged or restore.rpoMs to judge it)",
    });
  else
    found.push({
      name: kept,
      outcome: restore.lostAcknowledged === 0 ? "pass" : "fail",
      message:
        restore.lostAcknowledged === 0 ? null : `${restore.lostAcknowledged} missing: ids ${restore.lostIds.slice(0, 20).join(", ")}`,
    });
  if (restore.target?.type !== "latest" && restore.presentAfterTarget !== null) {
    const after = restore.presentAfterTarget;
    found.push({
      name: "restore: no write sent after the target is back",
      outcome: after === 0 ? "pass" : "fail",
      message: after === 0 ? null : `${after} present: ids ${restore.presentIds.slice(0, 20).join(", ")}`,
    });
  }
  return found;
}
