/**
 * pgaf-kill-primary-drivers, run for real: every client stack dials the URL `pg_autoctl show uri`
 * gives (all nodes, target_session_attrs=read-write) over pg_autoctl's self-signed TLS, with no
 * proxy, while the monitor fails over. Each finds the new primary by itself; during the demote
 * timeout the promoted node answers but read-only, and the stacks that say why (node-postgres,
 * psycopg) say so.
 */
import { describe, expect, it } from "vitest";
import type { CompleteEvent } from "../../harness/history/events.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const DRIVER_PAIRS = ["node-postgres", "libpq", "pgjdbc", "psycopg"].flatMap((driver) => [driver, driver]);

describe("pg_auto_failover through each client stack", { timeout: 240_000 }, () => {
  it("pgaf-kill-primary-drivers: every driver follows the monitor's failover through the multi-host URL, over TLS", async () => {
    const { scenario, source } = await loadScenario("pgaf-kill-primary-drivers");
    const outcome = await runDrill(scenario, { source, outDir: tempRunDir("pgaf-kill-primary-drivers") });
    const { result } = outcome;
    const events = readEvents(outcome.runDir);
    expect(result.verdict).toBe("pass");
    expect(result.metrics.failover).toMatchObject({ happened: true, originalPrimary: "node1", newPrimary: "node2" });
    const { clients, writes, monitor } = result.metrics;
    expect(clients.probes.map((client) => client.driver)).toEqual(DRIVER_PAIRS);
    expect(monitor.newPrimary).toBe("node2");
    for (const client of clients.probes) {
      expect(client.downtimeMs, client.probe).toBeGreaterThan(1000);
      // None came back before the monitor let node2 take writes: the demote timeout holds every stack alike.
      expect(client.recoveredAfterMs!, client.probe).toBeGreaterThanOrEqual(monitor.primaryAfterMs! - 500);
      expect(client.timedOut, client.probe).toBe(0);
    }
    // With no proxy, each stack dials the list itself: they come back within a second of each other.
    expect(clients.downtimeSpreadMs!).toBeLessThan(1000);
    // The promoted node answered read-only while the monitor held its writes, and the stacks that say why said so.
    const failed = events.filter((event): event is CompleteEvent => event.kind === "complete" && event.outcome === "fail");
    const said = (probe: string) => failed.filter((event) => event.probe === probe).map((event) => event.error ?? "");
    expect(said("select1").some((error) => /read-only/.test(error))).toBe(true);
    expect(said("select1-psycopg").some((error) => /session is read-only/.test(error))).toBe(true);
    // Every stack's last operation landed on node2's server.
    const completes = events.filter((event): event is CompleteEvent => event.kind === "complete" && event.type !== "role");
    for (const client of clients.probes) {
      const last = completes.filter((event) => event.probe === client.probe && event.outcome === "ok").at(-1);
      expect(last?.node, client.probe).toBe("node2");
    }
    expect(writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });
});
