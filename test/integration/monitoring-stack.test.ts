/**
 * The monitoring stack pgdrill starts beside a real container pair: Prometheus, Alertmanager and a
 * postgres_exporter per node, loaded with the seed guide's rules. On-node, the exporter dies with its
 * node's container, so the node's `up` goes 0 and its `pg_up` vanishes (PostgresDown cannot fire);
 * separate, the exporter lives on and says `pg_up` 0. Teardown leaves nothing.
 */
import { execFileSync } from "node:child_process";
import { getContainerRuntimeClient } from "testcontainers";
import { afterAll, describe, expect, it } from "vitest";
import { SEED_GUIDE_RULES } from "../../harness/scenario/alert-rules.ts";
import { startMonitoringStack, type StartedMonitoringStack } from "../../harness/monitoring/stack.ts";
import { containerPair } from "../../harness/targets/container-pair/pair.ts";
import { dockerClient } from "../../harness/targets/shared/docker.ts";
import { LOCAL_IMAGE } from "../../harness/targets/shared/image.ts";
import type { MonitoringSite, StartedTopology } from "../../harness/targets/types.ts";
import { eventually, leftovers } from "./helpers.ts";

const startups: number[] = [];

async function startPair(runId: string): Promise<StartedTopology> {
  return containerPair({ kind: "container-pair", replication: "async", startupTimeout: "60s" }).start({
    runId,
    scenario: "monitoring-stack",
    log: () => undefined,
  });
}

async function startStack(
  runId: string,
  pair: StartedTopology,
  exporter: "on-node" | "separate",
  scrapeMs = 1000,
): Promise<StartedMonitoringStack> {
  const t0 = Date.now();
  const stack = await startMonitoringStack({
    runId,
    scenarioName: "monitoring-stack",
    site: pair.monitoringSite!,
    image: LOCAL_IMAGE,
    rulesText: SEED_GUIDE_RULES,
    scrapeIntervalMs: scrapeMs,
    scrapeTimeoutMs: scrapeMs,
    evaluationIntervalMs: 1000,
    groupWaitMs: 1000,
    exporter,
    log: () => undefined,
  });
  startups.push(Date.now() - t0);
  expect(stack.startupMs).toBeLessThanOrEqual(Date.now() - t0);
  return stack;
}

/** An instant query's series, by their `node` label: the sample's value. */
async function query(stack: StartedMonitoringStack, expr: string): Promise<Map<string, string>> {
  const response = await fetch(`${stack.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return new Map(body.data.result.map((series) => [series.metric.node ?? "", series.value[1]]));
}

async function alertsNamed(stack: StartedMonitoringStack, name: string): Promise<Array<{ labels: Record<string, string>; state: string }>> {
  const body = (await (await fetch(`${stack.prometheusUrl}/api/v1/alerts`)).json()) as {
    data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
  };
  return body.data.alerts.filter((alert) => alert.labels.alertname === name);
}

/** How many postgres_exporter processes run in the node's container (by /proc: the official images have no ps). */
async function exportersIn(site: MonitoringSite, node: string): Promise<number> {
  const client = await getContainerRuntimeClient();
  const container = client.container.getById(site.nodes.find((entry) => entry.node === node)!.container);
  const script = "cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^prometheus-pos' || true";
  return Number((await client.container.exec(container, ["sh", "-c", script], { log: false })).output.trim());
}

describe("the started monitoring stack", { timeout: 300_000 }, () => {
  afterAll(() => {
    console.log(`monitoring stack start-up (ms, every target scraped with pg_up 1): ${startups.join(", ")}`);
  });

  it("on-node: scrapes both nodes; a killed node takes its exporter with it (up 0, pg_up gone); teardown leaves nothing", async () => {
    const runId = `monstack${Date.now().toString(36)}`;
    const pair = await startPair(runId);
    const site = pair.monitoringSite!;
    let stack: StartedMonitoringStack | null = null;
    try {
      stack = await startStack(runId, pair, "on-node");
      expect(await query(stack, "pg_up")).toEqual(
        new Map([
          ["primary", "1"],
          ["standby", "1"],
        ]),
      );
      expect(await query(stack, 'up{job="postgres"}')).toEqual(
        new Map([
          ["primary", "1"],
          ["standby", "1"],
        ]),
      );
      const rules = (await (await fetch(`${stack.prometheusUrl}/api/v1/rules`)).json()) as {
        data: { groups: Array<{ rules: Array<{ name: string }> }> };
      };
      expect(rules.data.groups.flatMap((group) => group.rules.map((rule) => rule.name))).toEqual([
        "PostgresDown",
        "PostgresReplicationLag",
        "PostgresHighConnections",
      ]);
      expect((await fetch(`${stack.alertmanagerUrl}/-/ready`)).status).toBe(200);

      // The exporter alone killed while its node runs: supervise() starts it again, as systemd would.
      expect(await exportersIn(site, "standby")).toBe(1);
      const docker = await dockerClient();
      const standby = docker.getContainer(site.nodes.find((node) => node.node === "standby")!.container);
      const kill = await standby.exec({ Cmd: ["sh", "-c", "kill $(cat /tmp/pgdrill-exporter.pid)"] });
      await kill.start({ Detach: true });
      const running = stack;
      expect(await eventually(async () => (await running.supervise!(), (await exportersIn(site, "standby")) === 1), 10_000)).toBe(true);
      expect(await eventually(async () => (await query(running, "pg_up")).get("standby") === "1", 10_000)).toBe(true);

      // The node's container killed: its exporter went with it.
      await standby.kill({ signal: "SIGKILL" });
      expect(await eventually(async () => (await query(running, 'up{job="postgres"}')).get("standby") === "0", 10_000)).toBe(true);
      expect(await eventually(async () => !(await query(running, "pg_up")).has("standby"), 10_000)).toBe(true);
      expect((await query(running, "pg_up")).get("primary")).toBe("1");
      // Supervising a dead node does nothing; with no pg_up series, PostgresDown has nothing to go pending on.
      await running.supervise!();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await alertsNamed(running, "PostgresDown")).toEqual([]);

      const removed = await stack.teardown();
      expect(removed.sort()).toEqual([`container pgdrill-${runId}-alertmanager`, `container pgdrill-${runId}-prometheus`]);
      expect(await stack.teardown()).toEqual([]);
      // The exporter on the live node was stopped too; the pair's own containers are untouched.
      expect(await exportersIn(site, "primary")).toBe(0);
      expect((await leftovers(runId)).sort()).toEqual([
        `container /pgdrill-${runId}-primary`,
        `container /pgdrill-${runId}-standby`,
        `network pgdrill-${runId}`,
      ]);

      // A second start beside the same pair (the primary alone is up): teardown left it ready for another, as a shared cluster needs.
      for (let round = 0; round < 1; round += 1) {
        const again = await startMonitoringStack({
          runId,
          scenarioName: "monitoring-stack",
          site: { ...site, nodes: site.nodes.filter((node) => node.node === "primary") },
          image: LOCAL_IMAGE,
          rulesText: SEED_GUIDE_RULES,
          scrapeIntervalMs: 1000,
          scrapeTimeoutMs: 1000,
          evaluationIntervalMs: 1000,
          groupWaitMs: 1000,
          exporter: "on-node",
          log: () => undefined,
        });
        startups.push(again.startupMs);
        expect(await query(again, "pg_up")).toEqual(new Map([["primary", "1"]]));
        await again.teardown();
      }
    } finally {
      await stack?.teardown();
      await pair.teardown();
    }
    expect(await leftovers(runId)).toEqual([]);
  });

  it("separate: the exporter outlives its node and says pg_up 0, and PostgresDown goes pending", async () => {
    const runId = `monstacksep${Date.now().toString(36)}`;
    const pair = await startPair(runId);
    let stack: StartedMonitoringStack | null = null;
    try {
      // postgres_exporter takes about 1 s to give up on a host that is gone: a 1 s scrape timeout would cut its answer
      // off, and pg_up would vanish as on-node. 2 s lets it say pg_up 0.
      stack = await startStack(runId, pair, "separate", 2000);
      const running = stack;
      expect(await query(stack, "pg_up")).toEqual(
        new Map([
          ["primary", "1"],
          ["standby", "1"],
        ]),
      );
      const docker = await dockerClient();
      await docker.getContainer(pair.monitoringSite!.nodes.find((node) => node.node === "standby")!.container).kill({ signal: "SIGKILL" });
      expect(await eventually(async () => (await query(running, "pg_up")).get("standby") === "0", 15_000)).toBe(true);
      expect((await query(running, 'up{job="postgres"}')).get("standby")).toBe("1");
      expect(
        await eventually(async () => (await alertsNamed(running, "PostgresDown")).some((alert) => alert.state === "pending"), 10_000),
      ).toBe(true);
      expect((await alertsNamed(running, "PostgresDown")).map((alert) => alert.labels.instance)).toEqual(["standby"]);
      const removed = await stack.teardown();
      expect(removed).toHaveLength(4);
    } finally {
      await stack?.teardown();
      await pair.teardown();
    }
    expect(await leftovers(runId)).toEqual([]);
  });

  it("refuses rules Prometheus cannot load, saying what it printed; on-node copies the exporter into a node image without one", async () => {
    // A node image without postgres_exporter, as the official postgres images are.
    const image = "pgdrill/postgres:test-no-exporter";
    const builder = `pgdrill-test-no-exporter-${process.pid}`;
    execFileSync("docker", ["run", "--user", "root", "--name", builder, LOCAL_IMAGE, "rm", "/usr/bin/prometheus-postgres-exporter"]);
    execFileSync("docker", ["commit", builder, image]);
    execFileSync("docker", ["rm", builder]);
    const runId = `monstackcopy${Date.now().toString(36)}`;
    let pair: StartedTopology | null = null;
    try {
      pair = await containerPair({ kind: "container-pair", replication: "async", startupTimeout: "60s", image }).start({
        runId,
        scenario: "monitoring-stack",
        log: () => undefined,
      });
      const options = {
        runId,
        scenarioName: "monitoring-stack",
        site: pair.monitoringSite!,
        image: LOCAL_IMAGE,
        scrapeIntervalMs: 1000,
        scrapeTimeoutMs: 1000,
        evaluationIntervalMs: 1000,
        groupWaitMs: 1000,
        log: () => undefined,
      };
      const refused = startMonitoringStack({
        ...options,
        rulesText: "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: up ==\n",
        exporter: "separate",
      });
      await expect(refused).rejects.toThrow(
        /Prometheus exited with code \d+ before it was ready \(its configuration or the rules in monitoring\.start\.rules/,
      );
      await expect(refused).rejects.toThrow(/Prometheus exited[^]*it printed:[^]*rules\.yml/);
      // What the failed start made is gone: the pair alone remains.
      expect((await leftovers(runId)).filter((name) => /prometheus|alertmanager|exporter/.test(name))).toEqual([]);

      const stack = await startMonitoringStack({ ...options, rulesText: SEED_GUIDE_RULES, exporter: "on-node" });
      startups.push(stack.startupMs);
      try {
        expect(await query(stack, "pg_up")).toEqual(
          new Map([
            ["primary", "1"],
            ["standby", "1"],
          ]),
        );
        expect(await exportersIn(pair.monitoringSite!, "standby")).toBe(1);
      } finally {
        await stack.teardown();
      }
    } finally {
      await pair?.teardown();
      execFileSync("docker", ["rmi", "-f", image]);
    }
    expect(await leftovers(runId)).toEqual([]);
  });
});
