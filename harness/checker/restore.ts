/**
 * Did the restore bring the data back, and how fast: the History's `backup` events (targets/shared/
 * records them) against the writes probe and its final read.
 *
 * - The disaster is the first `disaster` event; the restore, the first that started at or after it.
 *   Its phases are that restore's until the next one starts.
 * - RTO: the disaster → the first acknowledged write on the restored primary, or → `ready` without a
 *   writes probe. The first such write is the first acknowledged after every write refused between
 *   the restore's start and `ready`: a TRUNCATE leaves the damaged primary taking writes until the
 *   restore stops it, and those are not the restored primary's.
 * - RPO, judged at the reference moment (a time target's `at`, else the disaster): acknowledged writes
 *   completed before it and missing from the final read are lost; writes sent after it and before
 *   the restore began that are present are after the target (not for `latest`); writes on either
 *   side of it are ambiguous and counted in neither.
 * - A `latest` restore that lost writes to WAL not yet archived is said plainly, not invalid: the
 *   archive's lag is what such a restore costs, and the gate decides how much is too much.
 */
import { formatBytes } from "../bytes.ts";
import { formatMs } from "../duration.ts";
import type { HistoryContext } from "../history/context.ts";
import type {
  ArchiveSampleEvent,
  BackupCheckEvent,
  BackupEvent,
  BackupTakenEvent,
  DisasterEvent,
  FinalReadEvent,
  RecoveryTarget,
  RestorePhaseEvent,
} from "../history/events.ts";
import { rangesContain } from "../history/events.ts";
import type { Operation } from "../history/operations.ts";
import { DISASTER_WORDS, rtoBreakdown, targetWords } from "../result-restore.ts";
import type { BackupCheckStatus, Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { finalReadsByProbe } from "./writes.ts";

export type RestoreCheckMetrics = Metrics["restore"];

const emptyRestore = (): RestoreCheckMetrics => ({
  observed: false,
  disasterAtMs: null,
  disaster: null,
  disasterNodes: [],
  disasterXid: null,
  outcome: "not-run",
  node: null,
  label: null,
  target: null,
  error: null,
  referenceAtMs: null,
  startedAtMs: null,
  readyAtMs: null,
  writableAtMs: null,
  rtoMs: null,
  waitMs: null,
  restoreMs: null,
  replayMs: null,
  otherMs: null,
  clientsMs: null,
  replicaMs: null,
  restoredSizeBytes: null,
  acknowledgedBefore: null,
  lostAcknowledged: null,
  lostIds: [],
  presentAfterTarget: null,
  presentIds: [],
  ambiguous: 0,
  rpoMs: null,
  backups: 0,
  backupAgeMs: null,
  backupSizeBytes: null,
  backup: null,
  archiveLagBytes: null,
  archive: null,
  checkFailures: 0,
  checks: { check: "not-run", verify: "not-run", errors: [] },
});

export const restoreChecker = defineChecker<RestoreCheckMetrics>({
  empty: emptyRestore,
  start(context) {
    const drill = readDrill(context);
    const writes = drill ? new WritesAgainstTarget(drill, finalReadsByProbe(context)) : null;
    return {
      operation: (operation) => writes?.operation(operation),
      finish: () =>
        drill && writes ? judge(drill, writes) : { valid: "unknown", metrics: emptyRestore(), reason: "no backups in this run" },
    };
  },
});

/** The restore drill as the context tells it. */
interface Drill {
  disaster: DisasterEvent | null;
  started: RestorePhaseEvent | null;
  phases: { [P in RestorePhaseEvent["phase"]]?: RestorePhaseEvent };
  target: RecoveryTarget | null;
  /** Where the RPO is judged; null when there is neither a disaster nor a restore. */
  referenceAt: number | null;
  /** What came before this counts as "before the disaster": the disaster, else the restore's start, else the end. */
  cut: number;
  backupEvents: BackupEvent[];
}

const isBackup = (event: { kind: string }): event is BackupEvent => event.kind === "backup";

function readDrill(context: HistoryContext): Drill | null {
  const events = context.events.filter(isBackup);
  if (events.length === 0) return null;
  const disaster = events.find((event): event is DisasterEvent => event.subject === "disaster") ?? null;
  const restores = events.filter((event): event is RestorePhaseEvent => event.subject === "restore");
  const after = restores.filter((event) => disaster === null || event.t >= disaster.t);
  const startIndex = after.findIndex((event) => event.phase === "started");
  const started = after[startIndex] ?? null;
  // That restore's phases, until another starts; without a start, a failure recorded after the disaster still counts.
  const next = after.findIndex((event, index) => index > startIndex && event.phase === "started");
  const own = started ? after.slice(startIndex + 1, next === -1 ? undefined : next) : after.filter((event) => event.phase === "failed");
  const phases: Drill["phases"] = {};
  for (const event of own) phases[event.phase] ??= event;
  const target = started ? (started.target ?? { type: "latest" }) : null;
  const referenceAt = target?.type === "time" ? target.at : (disaster?.t ?? started?.t ?? null);
  const cut = disaster?.t ?? started?.t ?? Number.POSITIVE_INFINITY;
  return { disaster, started, phases, target, referenceAt, cut, backupEvents: events };
}

/** Each write against the restore: the first acknowledged on the restored primary, and the RPO's counts. */
class WritesAgainstTarget {
  /** Some writes probe was seen; the RPO needs a final read of each. */
  seen = false;
  readonly unreadable = new Set<string>();
  acknowledgedBefore = 0;
  readonly lost: Array<{ id: number; completeT: number }> = [];
  readonly present: number[] = [];
  ambiguous = 0;
  /** Acknowledged writes sent before `ready` that completed after the restore began: the restored primary's only after the last refusal. */
  private readonly early: Array<{ invokeT: number; completeT: number }> = [];
  private lastRefusedInvoke = Number.NEGATIVE_INFINITY;
  private firstLateAck = Number.POSITIVE_INFINITY;

  private readonly drill: Drill;
  private readonly reads: ReadonlyMap<string, FinalReadEvent>;

  constructor(drill: Drill, reads: ReadonlyMap<string, FinalReadEvent>) {
    this.drill = drill;
    this.reads = reads;
  }

  operation(operation: Operation): void {
    if (operation.type !== "write" || typeof operation.value !== "number") return;
    this.seen = true;
    const { started, phases, referenceAt, target } = this.drill;
    const ready = phases.ready?.t ?? null;
    const ok = operation.outcome === "ok" && operation.completeT !== null;
    if (started && ready !== null) {
      if (!ok && operation.invokeT >= started.t && operation.invokeT <= ready)
        this.lastRefusedInvoke = Math.max(this.lastRefusedInvoke, operation.invokeT);
      if (ok && operation.invokeT > ready) this.firstLateAck = Math.min(this.firstLateAck, operation.completeT!);
      else if (ok && operation.completeT! >= started.t) this.early.push({ invokeT: operation.invokeT, completeT: operation.completeT! });
    }
    // The final read says what the restore kept only when a restore ran.
    if (!started || referenceAt === null) return;
    const read = this.reads.get(operation.probe);
    if (!read?.ok) {
      this.unreadable.add(operation.probe);
      return;
    }
    const present = rangesContain(read.ranges, operation.value);
    if (operation.completeT !== null && operation.invokeT < referenceAt && operation.completeT >= referenceAt) this.ambiguous += 1;
    else if (ok && operation.completeT! < referenceAt) {
      this.acknowledgedBefore += 1;
      if (!present) this.lost.push({ id: operation.value, completeT: operation.completeT! });
    } else if (target?.type !== "latest" && operation.invokeT >= referenceAt && operation.invokeT < started.t && present)
      this.present.push(operation.value);
  }

  /** The first acknowledged write on the restored primary; null when none (or no `ready`). */
  firstAck(): number | null {
    const first = this.early.reduce(
      (soonest, write) => (write.invokeT > this.lastRefusedInvoke ? Math.min(soonest, write.completeT) : soonest),
      this.firstLateAck,
    );
    return Number.isFinite(first) ? first : null;
  }
}

function judge(drill: Drill, writes: WritesAgainstTarget): CheckerOutput<RestoreCheckMetrics> {
  const metrics = { ...emptyRestore(), observed: true, ...standing(drill) };
  const { disaster, started, phases, target } = drill;
  if (disaster) {
    Object.assign(metrics, { disasterAtMs: disaster.t, disaster: disaster.disaster, disasterNodes: disaster.nodes });
    metrics.disasterXid = disaster.xid ?? null;
  }
  const failed = phases.failed && (!phases.ready || phases.failed.t < phases.ready.t) ? phases.failed : undefined;
  metrics.outcome = failed ? "failed" : phases.ready ? "ready" : started ? "unfinished" : "not-run";
  metrics.node = started?.node ?? failed?.node ?? null;
  // The backup set restored: known once pgBackRest chose it (a time target picks its own), so `restored` says it.
  metrics.label = phases.restored?.label ?? started?.label ?? null;
  metrics.target = target;
  metrics.error = failed?.error ?? null;
  metrics.referenceAtMs = drill.referenceAt;
  metrics.startedAtMs = started?.t ?? null;
  metrics.restoredSizeBytes = phases.restored?.sizeBytes ?? null;
  if (metrics.outcome === "ready") timeRecovery(metrics, drill, writes);
  // The final read is the restored primary's only when the restore finished.
  const restored = metrics.outcome === "ready";
  if (restored && writes.seen && writes.unreadable.size === 0) {
    metrics.acknowledgedBefore = writes.acknowledgedBefore;
    metrics.lostAcknowledged = writes.lost.length;
    metrics.lostIds = writes.lost.map((write) => write.id).sort((a, b) => a - b);
    metrics.presentAfterTarget = writes.present.length;
    metrics.presentIds = [...writes.present].sort((a, b) => a - b);
    const earliest = writes.lost.reduce((first, write) => Math.min(first, write.completeT), Number.POSITIVE_INFINITY);
    metrics.rpoMs = writes.lost.length === 0 ? 0 : drill.referenceAt! - earliest;
  }
  if (restored) metrics.ambiguous = writes.ambiguous;
  return verdict(metrics, writes);
}

/** The RTO and its phases, for a restore whose primary came out of recovery. */
function timeRecovery(metrics: RestoreCheckMetrics, drill: Drill, writes: WritesAgainstTarget): void {
  const { disaster, started, phases } = drill;
  const ready = phases.ready!;
  const firstAck = writes.seen ? writes.firstAck() : null;
  metrics.readyAtMs = ready.t;
  metrics.writableAtMs = firstAck;
  metrics.restoreMs = phases.restored?.durationMs ?? null;
  metrics.replayMs = ready.durationMs ?? null;
  if (started) metrics.otherMs = Math.max(0, ready.t - started.t - (metrics.restoreMs ?? 0) - (metrics.replayMs ?? 0));
  metrics.clientsMs = firstAck === null ? null : Math.max(0, firstAck - ready.t);
  const replica = phases.replica && phases.replica.t >= ready.t ? phases.replica : undefined;
  metrics.replicaMs = replica ? replica.t - ready.t : null;
  if (!disaster || !started) return;
  metrics.waitMs = started.t - disaster.t;
  // Without a writes probe the restore's own word ends it; with one, a client's acknowledged write.
  const end = writes.seen ? firstAck : ready.t;
  metrics.rtoMs = end === null ? null : end - disaster.t;
}

/** The backups, archive and checks as they stood at the disaster (before `cut`). */
function standing(drill: Drill): Partial<RestoreCheckMetrics> {
  const before = drill.backupEvents.filter((event) => event.t <= drill.cut);
  const backups = before.filter((event): event is BackupTakenEvent => event.subject === "backup" && event.ok);
  const latest = backups.at(-1);
  const checks = before.filter((event): event is BackupCheckEvent => event.subject === "check" || event.subject === "verify");
  const failures = checks.filter((event) => !event.ok);
  const status = (subject: "check" | "verify"): BackupCheckStatus => {
    const runs = checks.filter((event) => event.subject === subject);
    return runs.length === 0 ? "not-run" : runs.some((event) => !event.ok) ? "failed" : "ok";
  };
  const atDisaster = drill.disaster ? drill.disaster.t : null;
  const sample =
    atDisaster === null
      ? undefined
      : before.filter((event): event is ArchiveSampleEvent => event.subject === "archive" && event.t <= atDisaster).at(-1);
  return {
    backups: backups.length,
    backupAgeMs: latest && atDisaster !== null ? atDisaster - latest.t : null,
    backupSizeBytes: latest?.sizeBytes ?? null,
    backup: latest
      ? {
          label: latest.label ?? null,
          type: latest.backupType,
          atMs: latest.t,
          durationMs: latest.durationMs,
          repoSizeBytes: latest.repoSizeBytes ?? null,
        }
      : null,
    archiveLagBytes: sample?.lagBytes ?? null,
    archive: sample
      ? {
          atMs: sample.t,
          node: sample.node,
          ageMs: sample.lastArchivedAt === null ? null : atDisaster! - sample.lastArchivedAt,
          lastArchivedWal: sample.lastArchivedWal,
          failedCount: sample.failedCount,
        }
      : null,
    checkFailures: failures.length,
    checks: {
      check: status("check"),
      verify: status("verify"),
      errors: failures.map((event) => `${event.subject}: ${event.error ?? "failed"}`),
    },
  };
}

const plural = (count: number) => (count === 1 ? "" : "s");

/** Valid, invalid or unknown, and what happened in plain words. */
function verdict(metrics: RestoreCheckMetrics, writes: WritesAgainstTarget): CheckerOutput<RestoreCheckMetrics> {
  const checks = metrics.checkFailures > 0 ? [`before the disaster: ${metrics.checks.errors.join("; ")}`] : [];
  const what = metrics.disaster ? `${DISASTER_WORDS[metrics.disaster]} at ${formatMs(metrics.disasterAtMs)}` : null;
  const say = (valid: CheckerOutput<RestoreCheckMetrics>["valid"], ...parts: string[]) => ({
    valid,
    metrics,
    reason: [...parts, ...checks].join("; "),
  });
  switch (metrics.outcome) {
    case "not-run":
      if (what) return say(false, `${what} and no restore began`);
      return say(true, `no disaster or restore: ${metrics.backups} backup${plural(metrics.backups)} taken`);
    case "failed":
      return say(false, `the restore of ${metrics.node ?? "?"} failed: ${metrics.error ?? "no error recorded"}`);
    case "unfinished":
      return say(false, `the restore began at ${formatMs(metrics.startedAtMs)} and its primary never left recovery`);
    case "ready":
      break;
  }
  if (writes.seen && metrics.writableAtMs === null) return say(false, `the restored primary was ready but took no write by the end`);
  const restored = `restored to ${targetWords(metrics)}`;
  const rto = rtoWords(metrics, writes.seen);
  if (!writes.seen) return say(true, `${restored}; no writes probe, so the RPO was not measured; ${rto}`);
  if (metrics.lostAcknowledged === null) {
    const unread = [...writes.unreadable].map((probe) => `"${probe}"`).join(", ");
    return say("unknown", `${restored}; no final read of ${unread} after it, so the RPO cannot be said; ${rto}`);
  }
  const lost = metrics.lostAcknowledged;
  const after = metrics.presentAfterTarget ?? 0;
  const latest = metrics.target?.type === "latest";
  if (latest && lost > 0) {
    const archive = metrics.archive;
    const lag = `${formatBytes(metrics.archiveLagBytes)}${archive?.ageMs != null ? `, ${formatMs(archive.ageMs)}` : ""}`;
    const unarchived =
      `${lost} acknowledged write${plural(lost)} of the last ${formatMs(metrics.rpoMs)} before the disaster ` +
      `${lost === 1 ? "was" : "were"} ` +
      `not archived (archive lag at ` +
      `the disaster: ${archive ? lag : "not sampled"})`;
    return say(true, `${restored}: ${unarchived}; ${rto}`);
  }
  const kept =
    lost === 0
      ? `all ${metrics.acknowledgedBefore} acknowledged writes before it present`
      : `${lost} of ${metrics.acknowledgedBefore} acknowledged writes before it missing`;
  const later = latest ? "" : after === 0 ? ", none after" : `, and ${after} write${plural(after)} sent after it present`;
  return say(lost > 0 || after > 0 ? false : true, `${restored}: ${kept}${later}; ${rto}`);
}

/** "RTO 9.80 s = 2.00 s wait + 3.10 s restore + 4.20 s replay + 0.50 s clients". */
function rtoWords(metrics: RestoreCheckMetrics, withWrites: boolean): string {
  const breakdown = rtoBreakdown(metrics);
  if (breakdown === null) return "RTO not measured (no disaster recorded)";
  return withWrites ? `RTO ${breakdown}` : `RTO (to ready: no writes probe) ${breakdown}`;
}
