/**
 * libpq's multi-host rules in pgdrill's node-postgres sessions, against a real container pair:
 * target_session_attrs lands where libpq lands (psql, the real libpq, is asked the same), hosts
 * passed over are named with why, a dead first host is skipped; and a drill whose probes list
 * every node (no proxy) follows the failover to the promoted standby by itself.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoint, TargetSessionAttrs } from "../../harness/connection/endpoint.ts";
import { HostsError } from "../../harness/connection/hosts.ts";
import { Session } from "../../harness/connection/session.ts";
import type { CompleteEvent } from "../../harness/history/events.ts";
import { everyNodeEndpoint } from "../../harness/probe/every-node.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { scenario as scenarioSchema } from "../../harness/scenario/schema.ts";
import { containerPair } from "../../harness/targets/container-pair/pair.ts";
import { endpointTopology } from "../../harness/targets/endpoint/endpoint.ts";
import { endpointTarget } from "../../harness/targets/endpoint/plugin.ts";
import type { StartedTopology } from "../../harness/targets/types.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const OPTIONS = { connectTimeoutMs: 2000, applicationName: "pgdrill-test" };

describe("multi-host endpoints on a container pair", { timeout: 120_000 }, () => {
  const runId = `multihost${Date.now().toString(36)}`;
  let pair: StartedTopology;
  let primary: Endpoint;
  let standby: Endpoint;
  beforeAll(async () => {
    pair = await containerPair({ kind: "container-pair", replication: "async", startupTimeout: "60s" }).start({
      runId,
      scenario: "multi-host-test",
      log: () => undefined,
    });
    primary = pair.endpoint("primary");
    standby = pair.endpoint("standby");
  });
  afterAll(async () => {
    await pair?.teardown();
    expect(await leftovers(runId)).toEqual([]);
  });

  const listing = (hosts: Endpoint[], attrs: TargetSessionAttrs): Endpoint => ({
    ...hosts[0]!,
    node: "?",
    hosts: hosts.map(({ host, port, node }) => ({ host, port, node })),
    targetSessionAttrs: attrs,
  });
  const where = (endpoint: Endpoint) => `${endpoint.host}:${endpoint.port}`;

  async function land(endpoint: Endpoint): Promise<{ node: string; dialed?: string; skipped: readonly string[]; recovery: boolean }> {
    const session = await Session.connect(endpoint, OPTIONS);
    try {
      const { recovery } = (await session.query<{ recovery: boolean }>("SELECT pg_is_in_recovery() AS recovery", [], 5000)).rows[0]!;
      return { node: session.endpoint.node, dialed: session.dialed, skipped: session.skipped, recovery };
    } finally {
      await session.close();
    }
  }

  /** What the real libpq (psql) lands on for the same list: is it in recovery? */
  function libpqInRecovery(hosts: Endpoint[], attrs: TargetSessionAttrs): boolean {
    const conninfo =
      `host=${hosts.map((h) => h.host).join(",")} port=${hosts.map((h) => h.port).join(",")} ` +
      `user=postgres dbname=postgres target_session_attrs=${attrs} connect_timeout=2`;
    const run = spawnSync("psql", ["-w", "-X", "-tAc", "SELECT pg_is_in_recovery()", conninfo], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin", PGPASSWORD: primary.password, HOME: "/nonexistent" },
    });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.trim() === "t";
  }

  it("read-write over standby,primary lands on the primary, the standby passed over as in recovery — as libpq does", async () => {
    const landed = await land(listing([standby, primary], "read-write"));
    expect(landed).toMatchObject({ node: "primary", dialed: where(primary), recovery: false });
    expect(landed.skipped).toEqual([`${where(standby)}: in recovery (in_hot_standby=on)`]);
    expect(libpqInRecovery([standby, primary], "read-write")).toBe(false);
  });

  it("read-only and prefer-standby over primary,standby land on the standby — as libpq does", async () => {
    const readOnly = await land(listing([primary, standby], "read-only"));
    expect(readOnly).toMatchObject({ node: "standby", dialed: where(standby), recovery: true });
    expect(readOnly.skipped).toEqual([`${where(primary)}: read-write (not read-only)`]);
    expect(libpqInRecovery([primary, standby], "read-only")).toBe(true);
    const preferStandby = await land(listing([primary, standby], "prefer-standby"));
    expect(preferStandby).toMatchObject({ node: "standby", recovery: true });
    expect(libpqInRecovery([primary, standby], "prefer-standby")).toBe(true);
  });

  it("prefer-standby with no standby settles on the primary in its second pass", async () => {
    const landed = await land(listing([primary], "prefer-standby"));
    expect(landed).toMatchObject({ node: "primary", recovery: false });
    expect(landed.skipped).toEqual([`${where(primary)}: not in recovery (in_hot_standby=off)`]);
  });

  it("skips a dead first host as refused, and says what happened at each host when none fits", async () => {
    const dead: Endpoint = { ...primary, node: "dead", port: 1 };
    const landed = await land(listing([dead, primary], "any"));
    expect(landed).toMatchObject({ node: "primary", dialed: where(primary) });
    expect(landed.skipped).toEqual([`${where(dead)}: connection refused`]);
    const error = await Session.connect(listing([dead, standby], "primary"), OPTIONS).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostsError);
    expect((error as HostsError).message).toBe(
      `no host fits target_session_attrs=primary: ${where(dead)}: connection refused; ${where(standby)}: in recovery (in_hot_standby=on)`,
    );
    expect((error as HostsError).message).not.toContain(primary.password);
  });

  it("the endpoint target takes a multi-host URL listing the standby first, and its start-up line names every host", async () => {
    const url =
      `postgresql://postgres:${encodeURIComponent(primary.password)}@${where(standby)},${where(primary)}/postgres` +
      "?target_session_attrs=read-write";
    const logs: string[] = [];
    const spec = endpointTarget.parse({ kind: "endpoint", url, readReplicaUrl: false });
    const started = await endpointTopology(spec).start({ runId: `${runId}e`, scenario: "multi-host-test", log: (line) => logs.push(line) });
    try {
      expect(started.endpoint("rw").hosts).toHaveLength(2);
    } finally {
      await started.teardown();
    }
    const named =
      `endpoint primary (target.url): postgres@${where(standby)},${where(primary)} [target_session_attrs=read-write]/postgres → ` +
      `${where(primary)} (passed over ${where(standby)}: in recovery (in_hot_standby=on)) → server `;
    expect(logs[0]!.startsWith(named), logs[0]).toBe(true);
    expect(logs[0]).toMatch(/, primary$/);
    expect(logs.join("\n")).not.toContain(primary.password);
  });

  it("every-node lists the target's nodes in order, each with its node name", () => {
    const endpoint = everyNodeEndpoint(pair, "read-write");
    expect(endpoint.hosts).toEqual([
      { host: primary.host, port: primary.port, node: "primary" },
      { host: standby.host, port: standby.port, node: "standby" },
    ]);
    expect(endpoint).toMatchObject({ node: "primary", targetSessionAttrs: "read-write" });
  });
});

describe("a drill whose probes list every node (no proxy)", { timeout: 120_000 }, () => {
  it("follows the kill and promotion to the standby, naming the dead primary it passed over", async () => {
    const scenario = scenarioSchema.parse({
      name: "every-node-kill-primary",
      target: { kind: "container-pair" },
      probes: [
        { kind: "select1", every: "100ms", timeout: "500ms", endpoint: "every-node" },
        { kind: "writes", every: "100ms", timeout: "500ms", endpoint: "every-node", connection: "fresh" },
      ],
      steadyState: { window: "1s" },
      schedule: [
        { at: "1.5s", fault: { kind: "kill", node: "primary" } },
        { at: "1.5s", action: { kind: "promote", node: "standby", after: "500ms" } },
      ],
      duration: "7s",
    });
    const outcome = await runDrill(scenario, { source: "test", outDir: tempRunDir(scenario.name) });
    expect(await leftovers(outcome.result.runId)).toEqual([]);
    const completes = readEvents(outcome.runDir).filter((event): event is CompleteEvent => event.kind === "complete");
    const ok = completes.filter((event) => event.outcome === "ok");
    // Before the kill on the primary, after the promotion on the standby: each labelled by the host that answered.
    expect(new Set(ok.filter((event) => event.probe === "writes").map((event) => event.node))).toEqual(new Set(["primary", "standby"]));
    const afterPromotion = ok.filter((event) => event.node === "standby");
    expect(afterPromotion.length).toBeGreaterThan(10);
    expect(afterPromotion.every((event) => event.dialed !== undefined && event.skipped?.[0]?.match(/: connection refused|: timed out/))).toBe(true);
    // While no node was writable, the operation's failure says what happened at each host.
    const between = completes.filter((event) => event.outcome === "fail" && event.skipped?.length === 2);
    expect(between.length).toBeGreaterThan(0);
    expect(between[0]!.error).toMatch(/^no host fits target_session_attrs=read-write: /);
    expect(outcome.result.metrics.writes.lostAcknowledged).toBe(0);
  });
});
