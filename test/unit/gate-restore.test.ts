import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { runChecks } from "../../harness/checker/index.ts";
import { evaluateGate, parseGate } from "../../harness/gate/gate.ts";
import { GATE_METRICS, isGateMetric } from "../../harness/gate/metrics.ts";
import { history } from "../fixtures/histories/builder.ts";
import { restoreDrill } from "../fixtures/histories/restore.ts";

const MB = 1024 * 1024;
const beforeDrop = { type: "xid", xid: "1234", exclusive: true } as const;
const RESTORE_METRICS = [
  "restore.rtoMs",
  "restore.restoreMs",
  "restore.replayMs",
  "restore.rpoMs",
  "restore.lostAcknowledged",
  "restore.presentAfterTarget",
  "restore.backupAgeMs",
  "restore.backupSizeBytes",
  "restore.archiveLagBytes",
  "restore.checkFailures",
] as const;
const everyRestoreGate = parseGate(Object.fromEntries(RESTORE_METRICS.map((metric) => [metric, ">= 0"])));
const actuals = (metrics: ReturnType<typeof runChecks>["metrics"]) =>
  Object.fromEntries(evaluateGate(everyRestoreGate, metrics).map((gate) => [gate.metric, gate.actual]));

describe("gates on a restore drill: restore.*", () => {
  it("names every figure, each with a description", () => {
    for (const metric of RESTORE_METRICS) {
      expect(isGateMetric(metric), metric).toBe(true);
      expect(GATE_METRICS[metric].length, metric).toBeGreaterThan(20);
    }
  });

  it("reads each figure from metrics.restore", () => {
    const events = restoreDrill({
      disaster: "destroy-data",
      target: { type: "latest" },
      keptBefore: (id) => id <= 30,
      checkFailed: true,
    }).events;
    expect(actuals(runChecks(events).metrics)).toEqual({
      "restore.rtoMs": 9800,
      "restore.restoreMs": 3100,
      "restore.replayMs": 4200,
      "restore.rpoMs": 995,
      "restore.lostAcknowledged": 10,
      "restore.presentAfterTarget": 0,
      "restore.backupAgeMs": 4000,
      "restore.backupSizeBytes": 31 * MB,
      "restore.archiveLagBytes": 3 * MB,
      "restore.checkFailures": 1,
    });
  });

  it("never passes a figure not measured, and says why", () => {
    const failed = runChecks(restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, failed: true }).events);
    const notes = Object.fromEntries(evaluateGate(everyRestoreGate, failed.metrics).map((gate) => [gate.metric, [gate.pass, gate.note]]));
    expect(notes["restore.rtoMs"]).toEqual([false, "the restore failed: pgbackrest restore: unable to find backup"]);
    expect(notes["restore.lostAcknowledged"]).toEqual([false, "the restore failed: pgbackrest restore: unable to find backup"]);
    // What stood before the disaster is measured whatever the restore did.
    expect(notes["restore.backupAgeMs"]).toEqual([true, undefined]);

    const noBackups = runChecks(history().start().write(1, 100, "ok").end(1000).events);
    const [rto] = evaluateGate(parseGate({ "restore.rtoMs": "< 60000" }), noBackups.metrics);
    expect(rto).toMatchObject({ actual: null, pass: false, note: "no backups in this run" });

    const noWrites = runChecks(restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, noWrites: true }).events);
    const [rpo] = evaluateGate(parseGate({ "restore.rpoMs": "< 1000" }), noWrites.metrics);
    expect(rpo).toMatchObject({ actual: null, pass: false, note: "no writes probe, or no final read of it after the restore" });
  });

  it("implies restore.presentAfterTarget == 0 for a point-in-time restore with a writes probe, unless the gate names it", () => {
    const pitr = restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true }).events;
    expect(analyzeHistory(pitr, { gate: {} }).gates).toEqual([
      { metric: "restore.presentAfterTarget", operator: "==", threshold: 0, expected: "== 0", actual: 0, pass: true },
    ]);
    const named = analyzeHistory(pitr, { gate: { "restore.presentAfterTarget": "<= 3" } }).gates;
    expect(named.map((gate) => gate.expected)).toEqual(["<= 3"]);
    // Latest has no target before the end; without writes there is nothing to count.
    const latest = restoreDrill({ disaster: "destroy-data", target: { type: "latest" }, keptBefore: () => true }).events;
    expect(analyzeHistory(latest, { gate: {} }).gates).toEqual([]);
    const noWrites = restoreDrill({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, noWrites: true }).events;
    expect(analyzeHistory(noWrites, { gate: {} }).gates).toEqual([]);
  });
});
