/**
 * The shapes of the `backup` events (events.ts's BackupEvent, recorded by targets/shared/): one per
 * subject, as validate.ts checks a kind told apart by `subject`. A module of its own beside
 * validate.ts, which holds the kinds of a few fields each.
 */
import type { BackupEvent, DisasterKind, RecoveryTarget } from "./events.ts";
import { arrayOf, boolean, guard, isRecord, nullable, number, oneOf, optional, string, type Shape, type SubjectShapes } from "./guards.ts";

const recoveryTarget = guard<RecoveryTarget>(
  'a recovery target ({"type": "latest"}, {"type": "xid", "xid": a string, "exclusive": true or false} or {"type": "time", ' +
    '"time": a string, "at": a number})',
  (value) => {
    if (!isRecord(value)) return false;
    if (value.type === "latest") return true;
    if (value.type === "xid") return typeof value.xid === "string" && typeof value.exclusive === "boolean";
    return value.type === "time" && typeof value.time === "string" && typeof value.at === "number";
  },
);

/** `pgbackrest check` and `pgbackrest verify`: one interface, two subjects. */
const checkShape: Shape<Extract<BackupEvent, { subject: "check" | "verify" }>> = {
  subject: oneOf<"check" | "verify">({ check: true, verify: true }),
  ok: boolean,
  durationMs: number,
  node: string,
  error: optional(string),
};

type RestorePhase = Extract<BackupEvent, { subject: "restore" }>["phase"];

/** Every subject of a `backup` event, and what each field of it must be. */
export const BACKUP_SHAPES: SubjectShapes<BackupEvent> = {
  setup: {
    subject: oneOf<"setup">({ setup: true }),
    tool: oneOf<"pgbackrest">({ pgbackrest: true }),
    version: string,
    stanza: string,
    repository: string,
    retentionFull: number,
    archiveTimeoutMs: number,
    seedBytes: optional(number),
    seedMs: optional(number),
  },
  check: checkShape,
  verify: checkShape,
  backup: {
    subject: oneOf<"backup">({ backup: true }),
    ok: boolean,
    node: string,
    backupType: oneOf<"full" | "diff" | "incr">({ full: true, diff: true, incr: true }),
    label: optional(string),
    startedAt: number,
    durationMs: number,
    sizeBytes: optional(number),
    repoSizeBytes: optional(number),
    walStart: optional(string),
    walStop: optional(string),
    warnings: optional(arrayOf(string, "pgBackRest's warnings")),
    error: optional(string),
  },
  archive: {
    subject: oneOf<"archive">({ archive: true }),
    node: string,
    currentLsn: string,
    archivedLsn: nullable(string),
    lagBytes: nullable(number),
    lastArchivedWal: nullable(string),
    lastArchivedAt: nullable(number),
    failedCount: number,
  },
  disaster: {
    subject: oneOf<"disaster">({ disaster: true }),
    disaster: oneOf<DisasterKind>({ "destroy-data": true, "drop-table": true, "truncate-table": true, "corrupt-file": true }),
    nodes: arrayOf(string, "strings"),
    xid: optional(string),
    detail: string,
  },
  restore: {
    subject: oneOf<"restore">({ restore: true }),
    phase: oneOf<RestorePhase>({ started: true, restored: true, ready: true, replica: true, failed: true }),
    node: string,
    target: optional(recoveryTarget),
    label: optional(string),
    durationMs: optional(number),
    sizeBytes: optional(number),
    detail: optional(string),
    error: optional(string),
  },
};
