/**
 * The shipped patroni scenarios, run for real: etcd, three (or two) Patroni nodes and HAProxy in
 * containers from pgdrill's image. Patroni decides every failover here: the History holds no
 * promote of pgdrill's, and the new leader shows in the `ha` events. Each test asserts what its
 * drill must show, and that nothing is left in Docker.
 */
import { describe, expect, it } from "vitest";
import type { ActionEvent, CompleteEvent, HistoryEvent } from "../../harness/history/events.ts";
import type { HaEvent } from "../../harness/targets/patroni/events.ts";
import { runDrill, type DrillOutcome } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

/** The shipped driver scenarios' client paths: select1 and writes per driver, in this order. */
const DRIVER_PAIRS = ["node-postgres", "libpq", "pgjdbc", "psycopg"].flatMap((driver) => [driver, driver]);

async function drill(name: string): Promise<DrillOutcome & { events: HistoryEvent[] }> {
  const { scenario, source } = await loadScenario(name);
  const outcome = await runDrill(scenario, { source, outDir: tempRunDir(name) });
  return { ...outcome, events: readEvents(outcome.runDir) };
}

/** The leader key's holders as pgdrill saw them from the first one on (the cluster starts with none), consecutive repeats dropped. */
function leaders(events: readonly HistoryEvent[]): Array<string | null> {
  const seen = events.filter((event): event is HaEvent => event.kind === "ha" && event.subject === "leader").map((event) => event.leader ?? null);
  const from = seen.findIndex((leader) => leader !== null);
  return seen.slice(Math.max(0, from)).filter((leader, i, list) => i === 0 || leader !== list[i - 1]);
}

/** pgdrill promoted nothing: any change of primary was Patroni's. */
function promotedByPgdrill(events: readonly HistoryEvent[]): boolean {
  return events.some((event) => event.kind === "action" && (event as ActionEvent).action === "promote");
}

describe("shipped patroni scenarios", { timeout: 240_000 }, () => {
  it("patroni-kill-primary-fast: Patroni elects a new leader once the old one's key expires (about ttl), and clients follow through HAProxy", async () => {
    const { result, events } = await drill("patroni-kill-primary-fast");
    expect(result.verdict).toBe("pass");
    expect(promotedByPgdrill(events)).toBe(false);
    const chain = leaders(events);
    expect(chain[0]).toBe("pg1");
    // The key expired, then another member took it: seen as a gap (null) when a poll fell between.
    expect(["pg2", "pg3"]).toContain(chain.at(-1));
    const { failover, anatomy, writes } = result.metrics;
    expect(failover).toMatchObject({ happened: true, originalPrimary: "pg1" });
    expect(anatomy).toMatchObject({ observed: true, mechanism: "ha-manager" });
    expect(anatomy.detectedBy).toMatch(/^patroni leader pg1 → (none|pg2|pg3)$/);
    // The key was last renewed at most loop_wait (2 s) before the kill and lives ttl (10 s).
    expect(anatomy.detectedAfterMs!).toBeGreaterThan(10_000 - 2_000 - 1_000);
    expect(anatomy.detectedAfterMs!).toBeLessThan(10_000 + 1_000);
    expect(anatomy.promotionMs!).toBeLessThan(5_000);
    // HAProxy moves the clients after its checks: inter 1 s, rise 1.
    for (const client of anatomy.clients) expect(client.recoveryMs!).toBeLessThan(5_000);
    expect(writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-kill-primary: with Patroni's defaults (ttl 30) the failover takes a key's lifetime, under the 60 s gate", async () => {
    const { result, events } = await drill("patroni-kill-primary");
    expect(result.verdict).toBe("pass");
    expect(promotedByPgdrill(events)).toBe(false);
    const { failover, anatomy } = result.metrics;
    expect(failover.happened).toBe(true);
    expect(anatomy.mechanism).toBe("ha-manager");
    expect(anatomy.detectedAfterMs!).toBeGreaterThan(30_000 - 10_000 - 1_000);
    expect(anatomy.detectedAfterMs!).toBeLessThan(30_000 + 1_000);
    expect(failover.latencyMs!).toBeLessThan(60_000);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-partition-primary-from-dcs: the primary cut from etcd demotes itself before another node is promoted: no split brain", async () => {
    const { result, events } = await drill("patroni-partition-primary-from-dcs");
    expect(result.metrics.splitBrain).toMatchObject({ detected: false, overlapMs: 0 });
    expect(result.verdict).toBe("pass");
    expect(promotedByPgdrill(events)).toBe(false);
    // The old primary stopped being one while cut off: the role probe saw it in recovery or gone.
    const changes = result.metrics.roles.changes;
    const cutAt = events.find((event) => event.kind === "fault" && event.phase === "inject")!.t;
    expect(changes.some((change) => change.node === "pg1" && change.t > cutAt && change.role !== "primary")).toBe(true);
    expect(leaders(events).slice(1)).not.toEqual([]);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-dcs-down: without failsafe_mode, losing etcd's quorum stops writes though PostgreSQL is fine; they come back with etcd", async () => {
    const { result } = await drill("patroni-dcs-down");
    expect(result.verdict).toBe("pass");
    const { downtime, recovery, writes, failover } = result.metrics;
    // Writes stop within about ttl of the outage and stay stopped until etcd is back (20 s).
    expect(downtime.totalMs).toBeGreaterThan(5_000);
    // The leader demoted itself; with etcd back it was promoted again (a recovery, not a failover),
    // or another member won the new leader race (a failover to it).
    if (failover.happened === false) expect(failover.evidence).toMatch(/promoted again|the same node/);
    else expect(failover).toMatchObject({ happened: true, originalPrimary: "pg1", newPrimary: expect.stringMatching(/^pg[23]$/) });
    expect(recovery.latencyMs).not.toBeNull();
    expect(writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-dcs-down-failsafe: with failsafe_mode the primary keeps writing through the same etcd outage", async () => {
    const { result } = await drill("patroni-dcs-down-failsafe");
    expect(result.verdict).toBe("pass");
    expect(result.metrics.availability.ratio!).toBeGreaterThanOrEqual(0.9);
    expect(result.metrics.failover.happened).toBe(false);
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-switchover: Patroni hands the leader key over; nothing acknowledged is lost and the pause is short", async () => {
    const { result, events } = await drill("patroni-switchover");
    expect(result.verdict).toBe("pass");
    expect(events.some((event) => event.kind === "action" && event.action === "switchover" && event.phase === "end" && event.ok === true)).toBe(true);
    expect(result.metrics.failover.happened).toBe(true);
    expect(result.metrics.anatomy).toMatchObject({ mechanism: "switchover", detectedAfterMs: 0 });
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    expect(result.metrics.downtime.totalMs).toBeLessThan(10_000);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-async-lag-loss: the report says which happened, a failover with its loss counted or none", async () => {
    const { result, events } = await drill("patroni-async-lag-loss");
    expect(promotedByPgdrill(events)).toBe(false);
    const { failover, writes } = result.metrics;
    expect(writes.lostAcknowledged).not.toBeNull();
    expect(failover.happened === true || failover.happened === false || result.metrics.recovery.latencyMs === null).toBe(true);
    if (failover.happened === true) {
      // The replica took over without what it never received while cut off: lost, and listed.
      expect(writes.lostIds.length).toBe(writes.lostAcknowledged);
      expect(leaders(events).at(-1)).not.toBe(leaders(events)[0]);
    }
    expect(result.metrics.splitBrain.overlapMs).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-sync-strict: the synchronous replica takes over and no acknowledged write is lost", async () => {
    const { result, events } = await drill("patroni-sync-strict");
    expect(result.verdict).toBe("pass");
    expect(promotedByPgdrill(events)).toBe(false);
    expect(result.metrics.failover.happened).toBe(true);
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    expect(result.metrics.writes.acknowledged).toBeGreaterThan(50);
    expect(await leftovers(result.runId)).toEqual([]);
  });
  it("patroni-kill-primary-drivers: every client stack follows Patroni's failover through HAProxy, side by side", async () => {
    const { result, events } = await drill("patroni-kill-primary-drivers");
    expect(result.verdict).toBe("pass");
    expect(promotedByPgdrill(events)).toBe(false);
    expect(result.metrics.failover).toMatchObject({ happened: true, originalPrimary: "pg1" });
    const { clients, writes } = result.metrics;
    expect(clients.probes.map((client) => client.driver)).toEqual(DRIVER_PAIRS);
    // Each stack was down through the failover and back within the gate; through one HAProxy they fare alike.
    for (const client of clients.probes) {
      expect(client.downtimeMs, client.probe).toBeGreaterThan(1000);
      expect(client.recoveredAfterMs, client.probe).not.toBeNull();
    }
    expect(clients.downtimeSpreadMs!).toBeLessThan(5000);
    expect(writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("patroni-kill-primary-multihost: with no proxy, each driver's multi-host list finds the new leader itself", async () => {
    const { result, events } = await drill("patroni-kill-primary-multihost");
    expect(result.verdict).toBe("pass");
    expect(result.metrics.failover.happened).toBe(true);
    const newLeader = result.metrics.failover.newPrimary;
    expect(["pg2", "pg3"]).toContain(newLeader);
    expect(result.metrics.clients.probes.map((client) => client.driver)).toEqual(DRIVER_PAIRS);
    const all = events.filter((event): event is CompleteEvent => event.kind === "complete");
    const completes = all.filter((event) => event.type !== "role");
    // The new leader's server, as the role probe read it on that node.
    const leaderServer = all.find(
      (event) => event.type === "role" && event.node === newLeader && typeof event.value === "object" && event.value.server,
    )?.value;
    expect(typeof leaderServer === "object" && leaderServer.server).toBeTruthy();
    // node-postgres says why it passed hosts over: the dead leader, and the replicas in recovery.
    const passedOver = completes.filter((event) => event.probe === "select1" && event.outcome === "fail").flatMap((event) => event.skipped ?? []);
    expect(passedOver.some((reason) => /in recovery/.test(reason))).toBe(true);
    // Every stack ends on the new leader: the server of its last ok operation is the new leader's.
    for (const client of result.metrics.clients.probes) {
      const last = completes.filter((event) => event.probe === client.probe && event.outcome === "ok").at(-1);
      expect(last?.server, client.probe).toBe(typeof leaderServer === "object" ? leaderServer.server : "?");
      expect(client.recoveredAfterMs, client.probe).not.toBeNull();
    }
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });
});
