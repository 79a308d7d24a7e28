/**
 * The monitoring clients, the preflight and the watch against a real Prometheus 2.42 and Alertmanager
 * 0.25: Debian bookworm's `prometheus` and `prometheus-alertmanager` packages, run here as child
 * processes on free loopback ports (no Docker, no systemd). Prometheus asks for basic auth, evaluates
 * every second, and has a rule that goes pending at once and fires 2 s later; the test then changes
 * the rule and reloads Prometheus, and the alert resolves.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AlertmanagerApi, PrometheusApi, type ApiEndpoint } from "../../harness/monitoring/api.ts";
import { preflight } from "../../harness/monitoring/preflight.ts";
import { metricsOf, selectorsOf } from "../../harness/scenario/alert-rules.ts";
import { firingWindow } from "../../harness/scenario/alert-timing.ts";
import { AlertWatch, type AlertingObservation } from "../../harness/monitoring/watch.ts";
import { pause, selectOne } from "../../harness/index.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { leftovers, tempRunDir } from "./helpers.ts";
import { freePort } from "./local-postgres.ts";

const BINARIES = ["prometheus", "prometheus-alertmanager"];
const missing = BINARIES.filter((binary) => spawnSync("sh", ["-c", `command -v ${binary}`]).status !== 0);
const SKIPPED =
  missing.length > 0 ? ` (skipped: ${missing.join(", ")} not installed: apt-get install prometheus prometheus-alertmanager)` : "";

const USER = "drill";
const PASSWORD = "drill-pass";
/** bcrypt of PASSWORD (cost 4), as Prometheus's web config wants it. */
const PASSWORD_HASH = "$2b$04$yqtinPUeyOcT4BvQEglW6.Tg3W7GmJhtZfua38yhgVoHzjs8a20Fy";

const rules = (alwaysOn: string) => `groups:
  - name: drill
    rules:
      - alert: AlwaysOn
        expr: ${alwaysOn}
        for: 2s
        labels: { severity: critical }
      - alert: PostgresDown
        expr: pg_up == 0
        for: 1m
        labels: { severity: critical }
`;

describe.skipIf(missing.length > 0)(`real Prometheus 2.42 and Alertmanager 0.25${SKIPPED}`, { timeout: 60_000 }, () => {
  let dir = "";
  const children: ChildProcess[] = [];
  let prometheus: ApiEndpoint;
  let alertmanagerUrl = "";

  function start(command: string, args: string[], log: string): void {
    const out = openSync(join(dir, log), "w");
    const child = spawn(command, args, { cwd: dir, stdio: ["ignore", out, out] });
    children.push(child);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pgdrill-monitoring-"));
    const [promPort, amPort] = [await freePort(), await freePort()];
    const promAddress = `127.0.0.1:${promPort}`;
    writeFileSync(join(dir, "web.yml"), `basic_auth_users:\n  ${USER}: ${PASSWORD_HASH}\n`);
    writeFileSync(join(dir, "rules.yml"), rules("vector(1)"));
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global: { scrape_interval: 1s, scrape_timeout: 500ms, evaluation_interval: 1s }
alerting: { alertmanagers: [{ static_configs: [{ targets: ["127.0.0.1:${amPort}"] }] }] }
rule_files: [rules.yml]
scrape_configs:
  - job_name: prometheus
    basic_auth: { username: ${USER}, password: ${PASSWORD} }
    static_configs: [{ targets: ["${promAddress}"] }]
`,
    );
    writeFileSync(join(dir, "alertmanager.yml"), "route: { receiver: blackhole, group_wait: 2s }\nreceivers: [{ name: blackhole }]\n");
    start(
      "prometheus",
      [
        "--config.file=prometheus.yml",
        "--storage.tsdb.path=data",
        `--web.listen-address=${promAddress}`,
        "--web.config.file=web.yml",
        "--web.enable-lifecycle",
        // Its first notification can go before it has found Alertmanager; resend each second, not each minute.
        "--rules.alert.resend-delay=1s",
      ],
      "prometheus.log",
    );
    start(
      "prometheus-alertmanager",
      ["--config.file=alertmanager.yml", "--storage.path=am", `--web.listen-address=127.0.0.1:${amPort}`, "--cluster.listen-address="],
      "alertmanager.log",
    );
    prometheus = { url: `http://${promAddress}`, username: USER, password: PASSWORD };
    alertmanagerUrl = `http://127.0.0.1:${amPort}`;
    const prom = new PrometheusApi(prometheus);
    const am = new AlertmanagerApi({ url: alertmanagerUrl });
    await vi.waitFor(async () => expect([await prom.ready(), await am.ready()]).toEqual([true, true]), { timeout: 20_000, interval: 200 });
  });

  afterAll(async () => {
    // Our own children: ended and waited for, so none is left for an init that does not reap.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 5000).unref();
          }),
      ),
    );
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers in the shapes the clients read", async () => {
    const prom = new PrometheusApi(prometheus);
    const am = new AlertmanagerApi({ url: alertmanagerUrl });
    expect(await prom.globalConfig()).toEqual({ scrapeIntervalMs: 1000, scrapeTimeoutMs: 500, evaluationIntervalMs: 1000 });
    expect(await am.groupWaitMs()).toBe(2000);
    const found = await prom.alertingRules();
    expect(found.map((rule) => [rule.group, rule.name, rule.query, rule.duration, rule.labels])).toEqual([
      ["drill", "AlwaysOn", "vector(1)", 2, { severity: "critical" }],
      ["drill", "PostgresDown", "pg_up == 0", 60, { severity: "critical" }],
    ]);
    await vi.waitFor(async () => expect((await prom.scrapeTargets())[0]?.lastScrape).toBeTruthy(), { timeout: 10_000, interval: 200 });
    await vi.waitFor(async () => expect(await prom.metricNames()).toContain("up"), { timeout: 10_000, interval: 200 });
    expect(await prom.seriesCount('up{job="prometheus"}')).toBe(1);
    expect(await prom.seriesCount("pg_up")).toBe(0);
    await expect(prom.seriesCount("scalar(up)")).rejects.toThrow('"scalar(up)" is a scalar, not a vector of series');
    await expect(prom.seriesCount("up{")).rejects.toThrow(/GET \/api\/v1\/query: answered 400 \(bad_data: .*parse error/);
    expect(Array.isArray(await prom.alerts())).toBe(true);
    expect(Array.isArray(await am.alerts())).toBe(true);
  });

  it("is refused without the right credentials, and says which fields to check", async () => {
    const failure = new PrometheusApi({ ...prometheus, password: "wrong-password" }).alertingRules();
    await expect(failure).rejects.toThrow(
      "GET /api/v1/rules: answered 401 (Unauthorized); " +
        "check monitoring.prometheus.bearerToken or monitoring.prometheus.username and password",
    );
    const refused = await new PrometheusApi({ url: prometheus.url }).alertingRules().catch((error: Error) => error.message);
    expect(refused).toContain("answered 401");
    expect(refused).not.toContain(PASSWORD);
  });

  it("names, before the fault, a rule whose metric no target exposes", async () => {
    const { setup, warnings } = await preflight({
      prometheus: new PrometheusApi(prometheus),
      alertmanager: new AlertmanagerApi({ url: alertmanagerUrl }),
      source: "existing",
      expect: [{ alert: "AlwaysOn", withinMs: 10_000 }],
      mustNotFire: [],
      metricsOf,
      firingWindow,
    });
    expect(warnings).toEqual(["PostgresDown reads pg_up, which no scraped target exposes"]);
    expect(setup).toMatchObject({ scrapeIntervalMs: 1000, evaluationIntervalMs: 1000, groupWaitMs: 2000, prometheus: prometheus.url });
    // Scrape 1 s + its timeout 0.5 s + evaluation 1 s + `for` + evaluation 1 s at the latest.
    expect(setup.rules.map((rule) => [rule.alert, rule.forMs, rule.metrics, rule.missingMetrics, rule.earliestMs, rule.latestMs])).toEqual([
      ["AlwaysOn", 2000, [], [], 2000, 5500],
      ["PostgresDown", 60_000, ["pg_up"], ["pg_up"], 60_000, 63_500],
    ]);
  });

  it("watches the alert go pending, fire in Prometheus and reach Alertmanager, then resolve in both", async () => {
    const events: AlertingObservation[] = [];
    const watch = new AlertWatch({
      prometheus: new PrometheusApi(prometheus),
      alertmanager: new AlertmanagerApi({ url: alertmanagerUrl }),
      record: (event) => events.push(event),
      log: () => undefined,
      selectorsOf,
      everyMs: 200,
    });
    const states = (from: string) =>
      events.filter((event) => event.subject === "alert" && event.alert === "AlwaysOn" && event.from === from).map((event) => event.state);
    const has = (from: string, state: string) => () =>
      states(from).includes(state as never) ? true : `${from}: ${states(from).join(", ")}`;
    try {
      watch.start();
      // The rule has been pending since Prometheus started: the watch sees it pending or, if it began late, firing.
      await watch.waitUntil(has("prometheus", "firing"), 15_000, "AlwaysOn firing in Prometheus");
      await watch.waitUntil(has("alertmanager", "firing"), 15_000, "AlwaysOn in Alertmanager");
      writeFileSync(join(dir, "rules.yml"), rules("vector(1) > 1"));
      const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
      const reload = await fetch(`${prometheus.url}/-/reload`, { method: "POST", headers: { authorization: auth } });
      expect(reload.status).toBe(200);
      await watch.waitUntil(has("prometheus", "resolved"), 15_000, "AlwaysOn resolved in Prometheus");
      await watch.waitUntil(has("alertmanager", "resolved"), 20_000, "AlwaysOn resolved in Alertmanager");
    } finally {
      await watch.stop();
    }
    expect(states("prometheus").slice(-2)).toEqual(["firing", "resolved"]);
    expect(["pending,firing,resolved", "firing,resolved"]).toContain(states("prometheus").join(","));
    expect(states("alertmanager")).toEqual(["firing", "resolved"]);
    const samples = events.filter((event) => event.subject === "sample");
    expect(samples.filter((sample) => sample.alert === "AlwaysOn").map((sample) => sample.exprSeries)).toEqual([1, 0]);
    expect(samples.find((sample) => sample.alert === "PostgresDown")).toMatchObject({ exprSeries: 0, selectorSeries: { pg_up: 0 } });
    // Both are read side by side, so either may be first.
    const reachable = events.filter((event) => event.subject === "reachable").map((event) => `${event.from} ${event.reachable}`);
    expect(reachable.sort()).toEqual(["alertmanager true", "prometheus true"]);
  });
  it("serves a drill as the user's existing Prometheus: URL and password from the environment, its rules judged, a must-not-fire alert that fires deviates the run", async () => {
    writeFileSync(join(dir, "rules.yml"), rules("vector(1)"));
    const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    expect((await fetch(`${prometheus.url}/-/reload`, { method: "POST", headers: { authorization: auth } })).status).toBe(200);
    process.env.PGDRILL_TEST_PROMETHEUS_URL = prometheus.url;
    process.env.PGDRILL_TEST_PROMETHEUS_PASSWORD = PASSWORD;
    const scenario = validateScenario(
      {
        name: "existing-prometheus",
        target: { kind: "container-pair" },
        monitoring: {
          prometheus: { url: "${PGDRILL_TEST_PROMETHEUS_URL}", username: USER, password: "${PGDRILL_TEST_PROMETHEUS_PASSWORD}" },
          alertmanager: { url: alertmanagerUrl },
          poll: "500ms",
          mustNotFire: ["AlwaysOn"],
        },
        probes: [selectOne({ every: "100ms", timeout: "500ms" })],
        steadyState: { window: "2s" },
        schedule: [{ at: "3s", for: "2s", fault: pause("primary") }],
        duration: "8s",
      },
      "monitoring-api.test.ts",
    );
    const lines: string[] = [];
    const { result, runDir } = await runDrill(scenario, {
      source: "monitoring-api.test.ts",
      outDir: tempRunDir("existing-prometheus"),
      log: (line) => lines.push(line),
    });
    // AlwaysOn fires all along: the run deviates through the gate its mustNotFire implies.
    expect(result.verdict).toBe("deviated");
    expect(result.reason).toMatch(/alerts\.failedExpectations == 0 \(actual 1/);
    expect(result.metrics.alerts).toMatchObject({ observed: true, source: "existing", unexpected: ["AlwaysOn"], failedExpectations: 1 });
    expect(result.metrics.alerts.rules.find((rule) => rule.alert === "AlwaysOn")).toMatchObject({ fired: true, firingBeforeFault: true });
    // Its PostgresDown reads pg_up, which nothing it scrapes has: said before the fault, and judged so.
    expect(lines.some((line) => /PostgresDown reads pg_up, which no scraped target exposes/.test(line))).toBe(true);
    expect(result.metrics.alerts.rules.find((rule) => rule.alert === "PostgresDown")!.cannotFire).toMatchObject({
      reason: "metric-missing",
    });
    // The password never reaches the run directory.
    const written = readdirSync(runDir)
      .map((file) => readFileSync(join(runDir, file), "utf8"))
      .join("\n");
    expect(written).not.toContain(PASSWORD);
    expect(await leftovers(result.runId)).toEqual([]);
  }, 120_000);
});
