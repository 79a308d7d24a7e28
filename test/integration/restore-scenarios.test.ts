/**
 * Restore drills, run for real with pgBackRest 2.45 from pgdrill's image: the shipped scenarios
 * (every node's data destroyed then restored to latest; a DROP TABLE undone by a restore to just
 * before its transaction; a Patroni cluster restored through its custom bootstrap) and a corrupted
 * data file. What each must show, from the History and the restore checker: the backup taken and
 * checked before the disaster, the disaster at its exact time, the restore's phases in order,
 * every acknowledged write before the recovery target back and none after it, what was lost to the
 * unarchived WAL said against the archive's lag, and nothing left in Docker (the repository
 * volume included). The drills run side by side: each mostly waits on its schedule.
 */
import { describe, expect, it } from "vitest";
import type { BackupEvent, HistoryEvent, RestorePhaseEvent } from "../../harness/history/events.ts";
import { runDrill, type DrillOutcome } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import type { Scenario } from "../../harness/scenario/schema.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

interface Drill extends DrillOutcome {
  events: HistoryEvent[];
}

async function drill(name: string, change?: (scenario: Scenario) => Scenario): Promise<Drill> {
  const { scenario, source } = await loadScenario(name);
  const outcome = await runDrill(change ? change(scenario) : scenario, { source, outDir: tempRunDir(name), log: () => undefined });
  return { ...outcome, events: readEvents(outcome.runDir) };
}

function backups(events: readonly HistoryEvent[]): BackupEvent[] {
  return events.filter((event): event is BackupEvent => event.kind === "backup");
}

function phase(events: readonly HistoryEvent[], name: RestorePhaseEvent["phase"]): RestorePhaseEvent | undefined {
  return backups(events).find((event): event is RestorePhaseEvent => event.subject === "restore" && event.phase === name);
}

/** The backup, check and verify before the disaster; the disaster; the restore's phases in time order. */
function expectRestoredInOrder(events: readonly HistoryEvent[], disaster: string): void {
  const all = backups(events);
  const struck = all.find((event) => event.subject === "disaster");
  expect(struck).toMatchObject({ disaster });
  const before = all.filter((event) => event.t < struck!.t);
  expect(before.find((event) => event.subject === "setup")).toMatchObject({
    tool: "pgbackrest",
    version: expect.stringMatching(/^pgBackRest 2\./),
  });
  expect(before.find((event) => event.subject === "check")).toMatchObject({ ok: true });
  expect(before.find((event) => event.subject === "verify")).toMatchObject({ ok: true });
  const taken = before.find((event) => event.subject === "backup");
  expect(taken).toMatchObject({ ok: true, backupType: "full", label: expect.stringMatching(/^\d{8}-\d{6}F$/) });
  expect(taken!.subject === "backup" && taken!.sizeBytes! > 1_000_000).toBe(true);
  expect(phase(events, "failed")).toBeUndefined();
  const order = (["started", "restored", "ready", "replica"] as const).map((name) => phase(events, name)?.t ?? Number.NaN);
  expect(order[0]).toBeGreaterThan(struck!.t);
  for (let i = 1; i < order.length; i++) expect(order[i], `phase ${i} after phase ${i - 1}`).toBeGreaterThan(order[i - 1]!);
}

describe("restore drills", { timeout: 400_000 }, () => {
  it("pair-restore-latest loses only what was not archived; pair-pitr-before-drop brings back every write before the DROP and none after; a corrupted file is restored; patroni-restore-cluster bootstraps a cluster from the backup", async () => {
    const [latest, pitr, corrupt, patroni] = await Promise.all([
      drill("pair-restore-latest"),
      drill("pair-pitr-before-drop"),
      drill("pair-pitr-before-drop", (scenario) => ({
        ...scenario,
        name: "pair-restore-corrupt-file",
        schedule: scenario.schedule.map((step) =>
          "fault" in step ? { ...step, fault: { kind: "corrupt-file" as const, node: "primary" } } : step,
        ),
        gate: {},
      })),
      drill("patroni-restore-cluster"),
    ]);

    // Every node's data gone: restored to the end of the archive; what the last unarchived segment held is lost, and said.
    {
      const { result, events } = latest;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      expectRestoredInOrder(events, "destroy-data");
      expect(phase(events, "started")!.target).toEqual({ type: "latest" });
      const restore = result.metrics.restore;
      expect(restore.rtoMs!).toBeGreaterThan(0);
      expect(restore.rtoMs!).toBeLessThan(60_000);
      // archive_timeout 5 s bounds the loss: never more than that plus archiving's own time.
      expect(restore.rpoMs!).toBeLessThan(8_000);
      expect(restore.presentAfterTarget).toBe(0);
      // The writes checker counts the same loss: the restore checker does not hide it.
      expect(result.metrics.writes.lostAcknowledged).toBe(restore.lostAcknowledged);
      expect(restore.archive).not.toBeNull();
    }

    // A DROP on a live primary: its last WAL archived first, then restored to just before the DROP's xid.
    {
      const { result, events } = pitr;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      expectRestoredInOrder(events, "drop-table");
      const struck = backups(events).find((event) => event.subject === "disaster")!;
      expect(struck.subject === "disaster" && struck.xid).toMatch(/^\d+$/);
      expect(phase(events, "started")!.target).toEqual({
        type: "xid",
        xid: struck.subject === "disaster" ? struck.xid : "",
        exclusive: true,
      });
      expect(result.metrics.restore).toMatchObject({ lostAcknowledged: 0, presentAfterTarget: 0 });
      expect(result.metrics.writes.lostAcknowledged).toBe(0);
      expect(result.metrics.writes.acknowledged).toBeGreaterThan(200);
    }

    // A corrupted page on the primary's disk: no WAL record describes it, so the restore brings the good copy back.
    {
      const { result, events } = corrupt;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      expectRestoredInOrder(events, "corrupt-file");
      expect(result.metrics.writes.lostAcknowledged).toBe(0);
    }

    // Patroni: the members gone, the cluster bootstrapped from the backup by Patroni itself, HAProxy routing to the new leader.
    {
      const { result, events } = patroni;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      expectRestoredInOrder(events, "destroy-data");
      expect(result.metrics.restore.rtoMs!).toBeLessThan(90_000);
      expect(result.metrics.restore.presentAfterTarget).toBe(0);
    }

    for (const run of [latest, pitr, corrupt, patroni]) expect(await leftovers(run.result.runId)).toEqual([]);
  });
});
