/** What the started monitoring stack's containers are told: prometheus.yml, alertmanager.yml, each exporter's data source. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  alertmanagerConfig,
  dataSourceName,
  prometheusConfig,
  promDuration,
  timingProblem,
} from "../../harness/monitoring/stack-config.ts";
import type { MonitoringSite } from "../../harness/targets/types.ts";

const site: MonitoringSite = {
  network: "pgdrill-run1",
  nodes: [
    { node: "pg1", container: "c1", host: "pg1", port: 5432, user: "postgres", password: "p/w@1" },
    { node: "pg2", container: "c2", host: "pg2", port: 5432, user: "postgres", password: "p/w@1", sslmode: "require" },
  ],
  scrape: [
    { job: "patroni", node: "pg1", address: "pg1:8008" },
    { job: "patroni", node: "pg2", address: "pg2:8008" },
  ],
};
const timings = { scrapeIntervalMs: 15_000, scrapeTimeoutMs: 10_000, evaluationIntervalMs: 1500, groupWaitMs: 30_000 };

describe("the monitoring stack's configuration", () => {
  it("scrapes each node's exporter (in its container, or its own) and the site's other endpoints, labelled by node", () => {
    const onNode = parse(prometheusConfig(site, "on-node", timings));
    expect(onNode.global).toEqual({ scrape_interval: "15s", scrape_timeout: "10s", evaluation_interval: "1500ms" });
    expect(onNode.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["alertmanager:9093"]);
    expect(onNode.rule_files).toHaveLength(1);
    expect(onNode.scrape_configs.map((job: { job_name: string }) => job.job_name)).toEqual(["postgres", "patroni"]);
    expect(onNode.scrape_configs[0].static_configs).toEqual([
      { targets: ["pg1:9187"], labels: { node: "pg1", instance: "pg1" } },
      { targets: ["pg2:9187"], labels: { node: "pg2", instance: "pg2" } },
    ]);
    expect(onNode.scrape_configs[1].static_configs[1]).toEqual({ targets: ["pg2:8008"], labels: { node: "pg2", instance: "pg2" } });
    const separate = parse(prometheusConfig(site, "separate", timings));
    expect(separate.scrape_configs[0].static_configs[0].targets).toEqual(["exporter-pg1:9187"]);
  });

  it("routes every alert to a receiver that sends nothing, after the scenario's group_wait", () => {
    const config = parse(alertmanagerConfig({ groupWaitMs: 90_000 }));
    expect(config.route).toMatchObject({ receiver: "null", group_wait: "1m30s" });
    expect(config.receivers).toEqual([{ name: "null" }]);
  });

  it("gives each exporter a data source with the password encoded and TLS as the node needs", () => {
    expect(dataSourceName(site.nodes[0]!, "on-node")).toBe("postgresql://postgres:p%2Fw%401@127.0.0.1:5432/postgres?sslmode=disable");
    expect(dataSourceName(site.nodes[1]!, "separate")).toBe("postgresql://postgres:p%2Fw%401@pg2:5432/postgres?sslmode=require");
  });

  it("writes durations as Prometheus reads them", () => {
    expect([250, 1000, 60_000, 61_000, 3_600_000, 3_660_500].map(promDuration)).toEqual(["250ms", "1s", "1m", "1m1s", "1h", "3660500ms"]);
    expect(() => promDuration(0)).toThrow(RangeError);
  });

  it("refuses a scrape timeout longer than the interval, naming the field", () => {
    expect(timingProblem(timings)).toBeNull();
    expect(timingProblem({ ...timings, scrapeTimeoutMs: 20_000 })).toMatchObject({
      field: "monitoring.start.scrapeTimeout",
      problem: "20s is longer than monitoring.start.scrapeInterval (15s)",
    });
    expect(timingProblem({ ...timings, groupWaitMs: 0 })).toMatchObject({ field: "monitoring.start.groupWait" });
    // Other options beside the timings are not timings.
    expect(timingProblem({ ...timings, ...{ runId: "r1" } })).toBeNull();
  });
});
