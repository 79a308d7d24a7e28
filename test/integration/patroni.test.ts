/**
 * The patroni target for real: three Patroni nodes on one etcd member with HAProxy in front, from
 * pgdrill's local image. It becomes healthy, HAProxy's rw reaches the leader, and when the leader's
 * container is killed Patroni (pgdrill does nothing) elects another leader, which the `ha` events
 * show and HAProxy's rw follows. Short timings (ttl 10, loop_wait 2, retry_timeout 4) keep it quick.
 */
import { describe, expect, it } from "vitest";
import { Session } from "../../harness/connection/session.ts";
import type { EndpointEvent } from "../../harness/history/events.ts";
import type { HaEvent } from "../../harness/targets/patroni/events.ts";
import { patroniTopology } from "../../harness/targets/patroni/patroni.ts";
import { patroniTarget } from "../../harness/targets/patroni/plugin.ts";
import type { Observation, StartedTopology } from "../../harness/targets/types.ts";
import { eventually, leftovers } from "./helpers.ts";

type Seen = (Omit<HaEvent, "t"> | Omit<EndpointEvent, "t">) & { at: number };

/** Which server answers on `endpoint` (its address on the private network) and whether it is in recovery. */
async function ask(topology: StartedTopology, endpoint: string): Promise<{ server: string; recovery: boolean }> {
  const session = await Session.connect(topology.endpoint(endpoint), { connectTimeoutMs: 3000, applicationName: "pgdrill-test" });
  try {
    return (await session.query<{ server: string; recovery: boolean }>("SELECT host(inet_server_addr()) AS server, pg_is_in_recovery() AS recovery", [], 3000)).rows[0]!;
  } finally {
    await session.close();
  }
}

describe("patroni target", { timeout: 180_000 }, () => {
  it("starts healthy, HAProxy's rw reaches the leader, and Patroni elects a new leader when the leader's container is killed", async () => {
    const runId = `patroni${Date.now().toString(36)}`;
    const spec = patroniTarget.parse({ kind: "patroni", nodes: 3, dcs: { members: 1 }, ttl: 10, loop_wait: 2, retry_timeout: 4, haproxy: { inter: "500ms", fall: 2, rise: 1 } });
    const seen: Seen[] = [];
    const t0 = Date.now();
    const logs: string[] = [];
    const cluster = await patroniTopology(spec).start({
      runId,
      scenario: "patroni-test",
      log: (line) => logs.push(line),
      record: (observation: Observation) => seen.push({ ...(observation as unknown as Omit<HaEvent, "t">), at: Date.now() - t0 }),
    });
    try {
      const startupMs = Date.now() - t0;
      expect(logs.join("\n")).toMatch(/patroni: cluster healthy in \d+ ms \(leader pg1/);
      // pg1 bootstraps the cluster; HAProxy's rw sends clients to it, and each node answers directly (the role probe's way).
      expect(await cluster.resolve("primary")).toBe("pg1");
      expect(cluster.rwNode).toBe("pg1");
      const server: Record<string, string> = {};
      for (const node of cluster.nodes) server[node] = (await ask(cluster, node)).server;
      expect(new Set(Object.values(server)).size).toBe(3);
      expect(await ask(cluster, "rw")).toEqual({ server: server["pg1"], recovery: false });
      for (const node of ["pg2", "pg3"]) expect(await ask(cluster, node)).toEqual({ server: server[node], recovery: true });
      expect(["pg2", "pg3"]).toContain(await cluster.resolve("replica"));
      const leaders = () => seen.filter((event): event is Seen & Omit<HaEvent, "t"> => event.kind === "ha" && event.subject === "leader");
      expect(leaders().at(-1)?.leader).toBe("pg1");
      expect(seen.some((event) => event.kind === "endpoint" && event.endpoint === "rw" && event.node === "pg1")).toBe(true);
      expect(seen.some((event) => event.kind === "ha" && event.subject === "member" && event.name === "pg2" && event.role === "replica" && event.timeline === 1)).toBe(true);

      const killedAt = Date.now() - t0;
      await cluster.controls.kill!.kill("pg1");
      // Patroni's leader key expires within ttl; a replica takes it. pgdrill promotes nothing.
      const newLeader = () => leaders().find((event) => event.at >= killedAt && typeof event.leader === "string" && event.leader !== "pg1");
      expect(await eventually(() => newLeader() !== undefined, 40_000)).toBe(true);
      const elected = newLeader()!;
      const winner = elected.leader!;
      expect(["pg2", "pg3"]).toContain(winner);
      expect(await eventually(() => seen.some((event) => event.kind === "endpoint" && event.endpoint === "rw" && event.node === winner && event.at >= killedAt), 15_000)).toBe(true);
      expect(await eventually(() => cluster.rwNode === winner, 5000)).toBe(true);
      expect(await ask(cluster, "rw")).toEqual({ server: server[winner], recovery: false });
      const promoted = seen.find((event) => event.kind === "ha" && event.subject === "member" && event.name === winner && event.role === "primary");
      expect(promoted && "timeline" in promoted ? promoted.timeline : null).toBe(2);
      const rwMoved = seen.find((event) => event.kind === "endpoint" && event.endpoint === "rw" && event.node === winner)!;
      console.log(
        `patroni: healthy in ${startupMs} ms; after the kill: leader key free at +${(leaders().find((event) => event.at >= killedAt && event.leader === null)?.at ?? NaN) - killedAt} ms, ` +
          `${winner} leader at +${elected.at - killedAt} ms, HAProxy rw → ${winner} at +${rwMoved.at - killedAt} ms`,
      );
    } finally {
      await cluster.teardown();
    }
    expect(await leftovers(runId)).toEqual([]);
  });
});
