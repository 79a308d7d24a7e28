import { describe, expect, it } from "vitest";
import { restoreChecker } from "../../harness/checker/restore.ts";
import { history } from "../fixtures/histories/builder.ts";
import { backupEvent, idAt, restoreDrill } from "../fixtures/histories/restore.ts";

const MB = 1024 * 1024;
const beforeDrop = { type: "xid", xid: "1234", exclusive: true } as const;
const check = (events: Parameters<typeof restoreChecker.check>[0]) => restoreChecker.check(events);

describe("restore checker: RTO and RPO of a restore drill", () => {
  it("a PITR to just before a DROP: every acknowledged write before it back, none after, the RTO split into its phases", () => {
    const { valid, metrics, reason } = check(restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true }).events);
    expect(valid).toBe(true);
    expect(reason).toBe(
      "restored to just before the DROP (xid 1234): all 40 acknowledged writes before it present, none after; " +
        "RTO 9.80 s = 2.00 s wait + 3.10 s restore + 4.20 s replay + 500.0 ms clients",
    );
    expect(metrics).toMatchObject({
      observed: true,
      disasterAtMs: 5000,
      disaster: "drop-table",
      disasterNodes: ["primary"],
      disasterXid: "1234",
      outcome: "ready",
      node: "primary",
      label: "20261207-221500F",
      target: beforeDrop,
      error: null,
      referenceAtMs: 5000,
      startedAtMs: 7000,
      readyAtMs: 14_300,
      writableAtMs: 14_800,
      rtoMs: 9800,
      waitMs: 2000,
      restoreMs: 3100,
      replayMs: 4200,
      otherMs: 0,
      clientsMs: 500,
      replicaMs: 1700,
      restoredSizeBytes: 31 * MB,
      acknowledgedBefore: 40,
      lostAcknowledged: 0,
      lostIds: [],
      presentAfterTarget: 0,
      ambiguous: 0,
      rpoMs: 0,
      backups: 1,
      backupAgeMs: 4000,
      backupSizeBytes: 31 * MB,
      backup: { label: "20261207-221500F", type: "full", atMs: 1000, durationMs: 500, repoSizeBytes: 4 * MB },
      archiveLagBytes: 3 * MB,
      archive: { atMs: 4800, node: "primary", ageMs: 2000, lastArchivedWal: "000000010000000000000004", failedCount: 0 },
      checkFailures: 0,
      checks: { check: "ok", verify: "not-run", errors: [] },
    });
  });

  it("latest after the data was destroyed: the unarchived writes are lost, said plainly, and the check stays valid", () => {
    const drill = restoreDrill({ disaster: "destroy-data", target: { type: "latest" }, keptBefore: (id) => id <= 30 });
    const { valid, metrics, reason } = check(drill.events);
    expect(valid).toBe(true);
    // Write 31 was sent at 4.0 s and acknowledged at 4.005 s: the last 995 ms before the disaster were not archived.
    expect(metrics).toMatchObject({ lostAcknowledged: 10, lostIds: [31, 32, 33, 34, 35, 36, 37, 38, 39, 40], rpoMs: 995 });
    expect(metrics.presentAfterTarget).toBe(0);
    expect(reason).toBe(
      "restored to the latest archived WAL: 10 acknowledged writes of the last 995.0 ms before the disaster were not archived " +
        "(archive lag at the disaster: 3.0 MB, 2.00 s); RTO 9.80 s = 2.00 s wait + 3.10 s restore + 4.20 s replay + 500.0 ms clients",
    );
  });

  it("a time target with writes sent after it present is invalid; a write on either side of it is counted in neither", () => {
    // A TRUNCATE at 5 s leaves the primary taking writes until the restore stops it at 7.3 s; the target is 4.502 s.
    const target = { type: "time", time: "2025-01-01T00:00:04.502Z", at: 4502 } as const;
    const drill = restoreDrill({ disaster: "truncate-table", target, writesAfterDisaster: true, keptBefore: (id) => id <= idAt(4700) });
    const { valid, metrics, reason } = check(drill.events);
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({ referenceAtMs: 4502, acknowledgedBefore: 35, lostAcknowledged: 0, ambiguous: 1 });
    expect(metrics).toMatchObject({ presentAfterTarget: 2, presentIds: [idAt(4600), idAt(4700)] });
    // The damaged primary's writes acknowledged after the restore began (7.0–7.2 s) are not the restored primary's.
    expect(metrics).toMatchObject({ writableAtMs: 14_800, rtoMs: 9800 });
    expect(reason).toBe(
      "restored to 498.0 ms before the TRUNCATE (2025-01-01T00:00:04.502Z): all 35 acknowledged writes before it present, and 2 " +
        "writes sent after it present; RTO 9.80 s = 2.00 s wait + 3.10 s restore + 4.20 s replay + 500.0 ms clients",
    );
  });

  it("a PITR that lost an acknowledged write before its target is invalid", () => {
    const drill = restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: (id) => id !== 12 });
    const { valid, metrics, reason } = check(drill.events);
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({ lostAcknowledged: 1, lostIds: [12], rpoMs: 5000 - 2105 });
    expect(reason).toMatch(
      /^restored to just before the DROP \(xid 1234\): 1 of 40 acknowledged writes before it missing, none after; RTO/,
    );
  });

  it("a failed restore is invalid, never writable, with the tool's error", () => {
    const { valid, metrics, reason } = check(
      restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, failed: true }).events,
    );
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({ outcome: "failed", error: "pgbackrest restore: unable to find backup", rtoMs: null, readyAtMs: null });
    expect(reason).toBe("the restore of primary failed: pgbackrest restore: unable to find backup");
  });

  it("without a writes probe, the RTO ends when the restored primary left recovery and the RPO is not measured", () => {
    const drill = restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, noWrites: true });
    const { valid, metrics, reason } = check(drill.events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ rtoMs: 9300, clientsMs: null, writableAtMs: null, lostAcknowledged: null, rpoMs: null });
    expect(reason).toBe(
      "restored to just before the DROP (xid 1234); no writes probe, so the RPO was not measured; RTO (to ready: no writes probe) " +
        "9.30 s = 2.00 s wait + 3.10 s restore + 4.20 s replay",
    );
  });

  it("cannot say the RPO without the final read, yet still times the recovery", () => {
    const drill = restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, noFinalRead: true });
    const { valid, metrics, reason } = check(drill.events);
    expect(valid).toBe("unknown");
    expect(metrics).toMatchObject({ rtoMs: 9800, lostAcknowledged: null, presentAfterTarget: null, rpoMs: null });
    expect(reason).toMatch(/no final read of "writes" after it, so the RPO cannot be said/);
  });

  it("names the checks that failed before the disaster, and counts them", () => {
    const drill = restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, checkFailed: true });
    const { valid, metrics, reason } = check(drill.events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({
      checkFailures: 1,
      checks: { check: "failed", verify: "ok", errors: ["check: ERROR: [082]: WAL segment was not archived"] },
    });
    expect(reason).toMatch(/; before the disaster: check: ERROR: \[082\]: WAL segment was not archived$/);
  });

  it("a disaster nobody restored from is invalid; backups alone are valid; no backup events at all is unknown", () => {
    const dropped = history().start().write(1, 100, "ok");
    backupEvent(dropped, 500, "disaster", { disaster: "drop-table", nodes: ["primary"], xid: "9", detail: "DROP TABLE" });
    expect(check(dropped.end(1000).events)).toMatchObject({
      valid: false,
      reason: "the writes table dropped at 500.0 ms and no restore began",
      metrics: { outcome: "not-run", rtoMs: null, lostAcknowledged: null },
    });
    const backedUp = history().start();
    backupEvent(backedUp, 500, "backup", { ok: true, node: "primary", backupType: "full", startedAt: 100, durationMs: 400 });
    expect(check(backedUp.end(1000).events)).toMatchObject({ valid: true, reason: "no disaster or restore: 1 backup taken" });
    expect(check(history().start().write(1, 100, "ok").end(1000).events)).toMatchObject({
      valid: "unknown",
      reason: "no backups in this run",
      metrics: { observed: false },
    });
  });
});
