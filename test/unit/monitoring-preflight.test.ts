import { afterEach, describe, expect, it } from "vitest";
import { AlertmanagerApi, PrometheusApi } from "../../harness/monitoring/api.ts";
import { preflight, type PreflightOptions, type RuleTiming } from "../../harness/monitoring/preflight.ts";
import { metricsOf } from "../../harness/scenario/alert-rules.ts";
import { fakeApi, recorded, recordedJson, type FakeApi, type Route } from "../fixtures/monitoring/fake-api.ts";

// Prometheus 2.42's and Alertmanager 0.25's own answers (test/fixtures/monitoring/capture.sh).
const servers: FakeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function serve(routes: Record<string, Route>): Promise<FakeApi> {
  const server = await fakeApi(routes);
  servers.push(server);
  return server;
}

/** A window that says what it was given, so a test sees which intervals each rule was timed with. */
const timings: RuleTiming[] = [];
const firingWindow = (timing: RuleTiming) => {
  timings.push(timing);
  return {
    earliestMs: timing.forMs,
    latestMs: timing.evaluationIntervalMs === null ? null : timing.forMs + 10 * timing.evaluationIntervalMs,
  };
};

async function ready(): Promise<{ prometheus: FakeApi; alertmanager: FakeApi }> {
  const prometheus = await serve({
    "/api/v1/status/config": "prometheus-status-config.json",
    "/api/v1/rules": "prometheus-rules-firing.json",
    "/api/v1/targets": "prometheus-targets.json",
    "/api/v1/label/__name__/values": "prometheus-metric-names.json",
  });
  const alertmanager = await serve({ "/api/v2/status": "alertmanager-status.json" });
  return { prometheus, alertmanager };
}

function options(prometheus: FakeApi, alertmanager: FakeApi | null, more: Partial<PreflightOptions> = {}): PreflightOptions {
  return {
    prometheus: new PrometheusApi({ url: prometheus.url }),
    alertmanager: alertmanager ? new AlertmanagerApi({ url: alertmanager.url }) : null,
    source: "started",
    expect: [{ alert: "AlwaysOn", withinMs: 60_000 }],
    mustNotFire: ["PrometheusUp"],
    metricsOf,
    firingWindow,
    pollMs: 20,
    ...more,
  };
}

describe("preflight", () => {
  it("gives the setup event: where, the intervals, group_wait, and each rule with its metrics and its firing window", async () => {
    timings.length = 0;
    const { prometheus, alertmanager } = await ready();
    const { setup } = await preflight(options(prometheus, alertmanager));
    expect(setup).toMatchObject({
      kind: "alerting",
      subject: "setup",
      source: "started",
      prometheus: prometheus.url,
      alertmanager: alertmanager.url,
      scrapeIntervalMs: 1000,
      evaluationIntervalMs: 1000,
      groupWaitMs: 1000,
      expect: [{ alert: "AlwaysOn", withinMs: 60_000 }],
      mustNotFire: ["PrometheusUp"],
    });
    expect(setup.rules).toEqual([
      {
        alert: "AlwaysOn",
        group: "drill",
        expr: "vector(1)",
        forMs: 2000,
        labels: { severity: "critical" },
        metrics: [],
        missingMetrics: [],
        earliestMs: 2000,
        latestMs: 12_000,
      },
      expect.objectContaining({ alert: "PrometheusUp", forMs: 0, metrics: ["up"], missingMetrics: [] }),
      expect.objectContaining({ alert: "PostgresDown", forMs: 60_000, metrics: ["pg_up"], missingMetrics: ["pg_up"], latestMs: 70_000 }),
      expect.objectContaining({ alert: "Clash", metrics: [], missingMetrics: [] }),
    ]);
    expect(timings[0]).toEqual({
      forMs: 2000,
      scrapeIntervalMs: 1000,
      scrapeTimeoutMs: 500,
      evaluationIntervalMs: 1000,
      groupWaitMs: 1000,
    });
  });

  it("names, before the fault, each rule reading a metric no target exposes, with the closest that exists", async () => {
    const { prometheus } = await ready();
    // The seed guide's lag rule, where the exporter calls the metric pg_replication_lag.
    const rules = recorded("prometheus-rules-firing.json").replace(
      '"name":"PostgresDown","query":"pg_up == 0"',
      '"name":"PostgresReplicationLag","query":"pg_replication_lag_seconds > 30"',
    );
    const names = recordedJson<{ status: string; data: string[] }>("prometheus-metric-names.json");
    names.data.push("pg_replication_lag");
    prometheus.routes.set("/api/v1/rules", (_req, res) => res.writeHead(200).end(rules));
    prometheus.routes.set("/api/v1/label/__name__/values", { json: names });
    const { warnings, setup } = await preflight(options(prometheus, null));
    expect(warnings).toEqual([
      "PostgresReplicationLag reads pg_replication_lag_seconds, which no scraped target exposes (closest: pg_replication_lag)",
      "Clash fails when Prometheus evaluates it: vector contains metrics with the same labelset after applying alert labels",
    ]);
    expect(setup.alertmanager).toBeNull();
    expect(setup.groupWaitMs).toBeNull();
  });

  it("names an expected or must-not-fire alert that no loaded rule has", async () => {
    const { prometheus, alertmanager } = await ready();
    const { warnings } = await preflight(
      options(prometheus, alertmanager, { expect: [{ alert: "AlwaysOm", withinMs: 1000 }], mustNotFire: ["NoSuchAlertAtAll"] }),
    );
    expect(warnings).toContain("monitoring.expect names AlwaysOm, which no alerting rule Prometheus loaded has (closest: AlwaysOn)");
    expect(warnings).toContain("monitoring.mustNotFire names NoSuchAlertAtAll, which no alerting rule Prometheus loaded has");
  });

  it("waits until every rule was evaluated and every target scraped once", async () => {
    const { prometheus, alertmanager } = await ready();
    prometheus.routes.set("/api/v1/rules", "prometheus-rules-unevaluated.json");
    prometheus.routes.set("/api/v1/targets", "prometheus-targets-unscraped.json");
    const started = Date.now();
    setTimeout(() => prometheus.routes.set("/api/v1/rules", "prometheus-rules-firing.json"), 100);
    setTimeout(() => prometheus.routes.set("/api/v1/targets", "prometheus-targets.json"), 250);
    const { warnings, setup } = await preflight(options(prometheus, alertmanager));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(warnings.filter((line) => line.includes("not within"))).toEqual([]);
    expect(setup.rules.map((rule) => rule.alert)).toEqual(["AlwaysOn", "PrometheusUp", "PostgresDown", "Clash"]);
  });

  it("goes on at the end of its wait, saying what Prometheus had not done yet", async () => {
    const { prometheus, alertmanager } = await ready();
    prometheus.routes.set("/api/v1/rules", "prometheus-rules-unevaluated.json");
    prometheus.routes.set("/api/v1/targets", "prometheus-targets-unscraped.json");
    const { warnings } = await preflight(options(prometheus, alertmanager, { waitMs: 200 }));
    expect(warnings[0]).toMatch(
      new RegExp(
        `^Prometheus at ${prometheus.url}, not within 200ms: not evaluated yet: AlwaysOn, PrometheusUp, PostgresDown, Clash; ` +
          "not scraped yet: prometheus http://127.0.0.1:\\d+/metrics$",
      ),
    );
  });

  it("fails when Prometheus cannot be read at all, saying where", async () => {
    const gone = await serve({});
    await gone.close();
    await expect(preflight(options(gone, null))).rejects.toThrow(`Prometheus at ${gone.url}: GET /api/v1/status/config: ECONNREFUSED`);
  });
});
