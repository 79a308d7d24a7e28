/**
 * Real client stacks as probes (docs/drivers.md): the container pair's kill-primary drilled through
 * node-postgres and each driver agent at once, select1 and writes each, on real PostgreSQL. Per
 * driver: its operations were ok before the fault, failed during it, were ok again after the
 * promotion, and its writes were read back from the final primary (lost-write accounting).
 * The agents are built before (fixtures/setup.sh --with-drivers), so no build is timed here.
 */
import { describe, expect, it } from "vitest";
import type { CompleteEvent, FinalReadEvent } from "../../harness/history/events.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const DRIVERS = ["node-postgres", "libpq", "pgjdbc", "psycopg"] as const;

describe("driver agents", { timeout: 240_000 }, () => {
  it("pair kill-primary through every driver at once: ok before, failing during, ok after, writes read back", async () => {
    // The shipped scenario, as a user runs it.
    const { scenario, source } = await loadScenario("pair-kill-primary-drivers");
    const { runDir, result } = await runDrill(scenario, { source, outDir: tempRunDir("drivers") });
    const events = readEvents(runDir);
    const start = events.find((event) => event.kind === "run-start")!;
    expect(start.kind === "run-start" && start.probes?.map((probe) => [probe.name, probe.driver])).toEqual([
      ...DRIVERS.flatMap((driver) => [
        [driver === "node-postgres" ? "select1" : `select1-${driver}`, driver],
        [driver === "node-postgres" ? "writes" : `writes-${driver}`, driver],
      ]),
      ["role", undefined],
    ]);
    const killAt = events.find((event) => event.kind === "fault" && event.fault === "kill")!.t;
    const end = events.find((event) => event.kind === "phase" && event.phase === "healing")!.t;
    const completes = events.filter((event): event is CompleteEvent => event.kind === "complete");
    for (const driver of DRIVERS) {
      for (const kind of ["select1", "writes"]) {
        const probe = driver === "node-postgres" ? kind : `${kind}-${driver}`;
        const ops = completes.filter((event) => event.probe === probe);
        const invokedAt = (event: CompleteEvent) => event.t - event.latencyMs;
        const before = ops.filter((event) => event.t < killAt);
        const during = ops.filter((event) => invokedAt(event) >= killAt && invokedAt(event) < killAt + 1000);
        const after = ops.filter((event) => invokedAt(event) > end - 3000);
        expect(before.length, `${probe} before`).toBeGreaterThan(10);
        expect(before.every((event) => event.outcome === "ok"), `${probe} before: ${JSON.stringify(before.find((e) => e.outcome !== "ok"))}`).toBe(true);
        expect(during.some((event) => event.outcome !== "ok"), `${probe} during`).toBe(true);
        expect(after.length, `${probe} after`).toBeGreaterThan(5);
        expect(after.every((event) => event.outcome === "ok"), `${probe} after: ${JSON.stringify(after.find((e) => e.outcome !== "ok"))}`).toBe(true);
        // Every operation on the drill's clock, inside the drill, with the node and server it reached.
        expect(ops.every((event) => event.t > 0 && event.t <= end + 5000 && event.node !== undefined)).toBe(true);
        expect(ops.filter((event) => event.outcome === "ok").every((event) => typeof event.server === "string")).toBe(true);
        if (kind === "writes") {
          const read = events.find((event): event is FinalReadEvent => event.kind === "final-read" && event.probe === probe);
          expect(read, `${probe} final read`).toMatchObject({ ok: true, node: "standby" });
          const acknowledged = ops.filter((event) => event.outcome === "ok").length;
          // Async replication: only writes of the crash instant may be missing; the accounting has them.
          expect(read!.count).toBeGreaterThanOrEqual(acknowledged - 3);
        }
      }
    }
    // A failed libpq operation says why, with the deadline flag or SQLSTATE where it had one.
    expect(completes.some((event) => event.probe === "writes-libpq" && event.outcome !== "ok" && event.error)).toBe(true);
    expect(result.metrics.writes.lostAcknowledged).not.toBeNull();
    // Clients compared: one row per client path, in the scenario's order, each with its driver; the shipped gate holds.
    expect(result.metrics.clients.probes.map((client) => [client.probe, client.driver])).toEqual(
      start.kind === "run-start" ? start.probes!.filter((probe) => probe.type !== "role").map((probe) => [probe.name, probe.driver]) : [],
    );
    expect(result.metrics.clients.worstRecoveredAfterMs!).toBeLessThan(30_000);
    expect(result.verdict).toBe("pass");
    expect(await leftovers(start.kind === "run-start" ? start.runId : "")).toEqual([]);
  });
});
