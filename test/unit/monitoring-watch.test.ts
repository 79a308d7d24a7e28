import { afterEach, describe, expect, it, vi } from "vitest";
import { AlertmanagerApi, PrometheusApi } from "../../harness/monitoring/api.ts";
import { selectorsOf } from "../../harness/scenario/alert-rules.ts";
import { alertChanges, alertKey, AlertWatch, type ActiveAlert, type AlertingObservation } from "../../harness/monitoring/watch.ts";
import { fakeApi, recorded, vectorAnswer, type FakeApi, type Route } from "../fixtures/monitoring/fake-api.ts";

// Prometheus 2.42's and Alertmanager 0.25's own answers (test/fixtures/monitoring/capture.sh): the rule
// AlwaysOn (`vector(1)`, for 2s) pending, then firing, then resolved once its expression was changed.
const PENDING = "prometheus-rules-pending.json";
const FIRING = "prometheus-rules-firing.json";
const RESOLVED = "prometheus-rules-resolved.json";
const ALWAYS_ON = { alertname: "AlwaysOn", severity: "critical" };
const PROMETHEUS_UP = { alertname: "PrometheusUp", instance: "127.0.0.1:33803", job: "prometheus", severity: "info" };

const servers: FakeApi[] = [];
const watches: AlertWatch[] = [];
afterEach(async () => {
  await Promise.all(watches.splice(0).map((watch) => watch.stop()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The series each query returns, changed by a test between polls. */
type Series = Record<string, number>;

async function prometheusServing(rules: string, series: Series): Promise<FakeApi> {
  const server = await fakeApi({
    "/api/v1/rules": rules,
    "/api/v1/query": (_req, res, url) => {
      const count = series[url.searchParams.get("query")!];
      if (count === undefined) res.writeHead(400).end(recorded("prometheus-query-bad.json"));
      else res.writeHead(200).end(JSON.stringify(vectorAnswer(count)));
    },
  });
  servers.push(server);
  return server;
}

async function serve(routes: Record<string, Route>): Promise<FakeApi> {
  const server = await fakeApi(routes);
  servers.push(server);
  return server;
}

function watching(prometheus: FakeApi, alertmanager: FakeApi | null = null, extra: { everyMs?: number; maxLifetimeMs?: number } = {}) {
  const events: AlertingObservation[] = [];
  const lines: string[] = [];
  const watch = new AlertWatch({
    prometheus: new PrometheusApi({ url: prometheus.url }, { timeoutMs: 1000 }),
    alertmanager: alertmanager ? new AlertmanagerApi({ url: alertmanager.url }, { timeoutMs: 1000 }) : null,
    record: (event) => events.push(event),
    log: (line) => lines.push(line),
    selectorsOf,
    ...extra,
  });
  watches.push(watch);
  return { watch, events, lines, of: (subject: AlertingObservation["subject"]) => events.filter((event) => event.subject === subject) };
}

/** Every rule's queries in the recorded answers, and how many series each returns at first. */
const SERIES: Series = {
  "vector(1)": 1,
  'up{job="prometheus"} == 1': 1,
  'up{job="prometheus"}': 1,
  "pg_up == 0": 0,
  pg_up: 0,
  'label_replace(vector(1), "a", "1", "", "") or label_replace(vector(2), "b", "1", "", "")': 2,
  "vector(1) > 1": 0,
};

describe("AlertWatch, on Prometheus's rules API", () => {
  it("records an alert pending, then firing, then resolved once it is gone, each once", async () => {
    const prometheus = await prometheusServing(PENDING, SERIES);
    const { watch, of } = watching(prometheus);
    await watch.poll();
    await watch.poll();
    prometheus.routes.set("/api/v1/rules", FIRING);
    await watch.poll();
    await watch.poll();
    prometheus.routes.set("/api/v1/rules", RESOLVED);
    await watch.poll();
    const activeAt = "2026-12-07T19:15:16.103704037Z";
    expect(of("alert")).toEqual([
      { kind: "alerting", subject: "alert", from: "prometheus", alert: "AlwaysOn", labels: ALWAYS_ON, state: "pending", activeAt },
      { kind: "alerting", subject: "alert", from: "prometheus", alert: "AlwaysOn", labels: ALWAYS_ON, state: "firing", activeAt },
      // The resolved fixture has PrometheusUp firing (its first scrape came late), and AlwaysOn gone.
      {
        kind: "alerting",
        subject: "alert",
        from: "prometheus",
        alert: "PrometheusUp",
        labels: PROMETHEUS_UP,
        state: "firing",
        activeAt: "2026-12-07T19:15:21.103704037Z",
      },
      { kind: "alerting", subject: "alert", from: "prometheus", alert: "AlwaysOn", labels: ALWAYS_ON, state: "resolved", activeAt },
    ]);
    expect(of("reachable")).toEqual([{ kind: "alerting", subject: "reachable", from: "prometheus", reachable: true }]);
  });

  it("records each rule's series (its expression's and each selector's) at the first poll, then only when they change", async () => {
    const series = { ...SERIES };
    const prometheus = await prometheusServing(FIRING, series);
    const { watch, of } = watching(prometheus);
    await watch.poll();
    expect(of("sample")).toEqual([
      { kind: "alerting", subject: "sample", alert: "AlwaysOn", exprSeries: 1, selectorSeries: {} },
      { kind: "alerting", subject: "sample", alert: "PrometheusUp", exprSeries: 1, selectorSeries: { 'up{job="prometheus"}': 1 } },
      { kind: "alerting", subject: "sample", alert: "PostgresDown", exprSeries: 0, selectorSeries: { pg_up: 0 } },
      { kind: "alerting", subject: "sample", alert: "Clash", exprSeries: 2, selectorSeries: {} },
    ]);
    await watch.poll();
    expect(of("sample")).toHaveLength(4);
    // The target's series vanish: the rule reading them returns nothing, and the selector too.
    series['up{job="prometheus"} == 1'] = 0;
    series['up{job="prometheus"}'] = 0;
    await watch.poll();
    expect(of("sample").slice(4)).toEqual([
      { kind: "alerting", subject: "sample", alert: "PrometheusUp", exprSeries: 0, selectorSeries: { 'up{job="prometheus"}': 0 } },
    ]);
    // One query for each expression and each selector, every poll; the rules API once.
    const perPoll = prometheus.requests.filter((request) => request.path === "/api/v1/query").length / 3;
    expect(perPoll).toBe(6);
    expect(prometheus.requests.filter((request) => request.path === "/api/v1/rules")).toHaveLength(3);
  });

  it("keeps a rule's last sample when one of its queries fails, and says so once", async () => {
    const series = { ...SERIES };
    const prometheus = await prometheusServing(FIRING, series);
    const { watch, of, lines } = watching(prometheus);
    await watch.poll();
    delete series["pg_up"];
    series["pg_up == 0"] = 3;
    await watch.poll();
    await watch.poll();
    expect(of("sample").filter((sample) => sample.alert === "PostgresDown")).toHaveLength(1);
    expect(lines).toEqual([
      expect.stringMatching(/^monitoring: a rule's series could not be counted: .*GET \/api\/v1\/query: answered 400/),
    ]);
    series["pg_up"] = 3;
    await watch.poll();
    expect(
      of("sample")
        .filter((sample) => sample.alert === "PostgresDown")
        .at(-1),
    ).toMatchObject({ exprSeries: 3, selectorSeries: { pg_up: 3 } });
  });

  it("records Prometheus unreachable on change, and takes no alert as resolved while it cannot read it", async () => {
    const prometheus = await prometheusServing(FIRING, SERIES);
    const { watch, events } = watching(prometheus);
    await watch.poll();
    prometheus.routes.set("/api/v1/rules", (_req, res) => res.writeHead(503).end("Service Unavailable"));
    await watch.poll();
    await watch.poll();
    prometheus.routes.set("/api/v1/rules", FIRING);
    await watch.poll();
    const after = events.slice(events.findIndex((event) => event.subject === "sample" && event.alert === "Clash") + 1);
    expect(after).toEqual([
      {
        kind: "alerting",
        subject: "reachable",
        from: "prometheus",
        reachable: false,
        error: `Prometheus at ${prometheus.url}: GET /api/v1/rules: answered 503 (Service Unavailable)`,
      },
      { kind: "alerting", subject: "reachable", from: "prometheus", reachable: true },
    ]);
  });
});

describe("AlertWatch, on Alertmanager's alerts", () => {
  it("records each alert it holds as firing (silenced or not), from alertmanager, and resolved once it is gone", async () => {
    const prometheus = await prometheusServing(FIRING, SERIES);
    const alertmanager = await serve({ "/api/v2/alerts": "alertmanager-alerts.json" });
    const { watch, of } = watching(prometheus, alertmanager);
    await watch.poll();
    alertmanager.routes.set("/api/v2/alerts", (_req, res) => res.writeHead(200).end("[]"));
    await watch.poll();
    const fromAlertmanager = of("alert").filter((event) => event.from === "alertmanager");
    expect(fromAlertmanager.map((event) => [event.alert, event.state, event.labels])).toEqual([
      ["AlwaysOn", "firing", ALWAYS_ON],
      ["PrometheusUp", "firing", PROMETHEUS_UP],
      ["AlwaysOn", "resolved", ALWAYS_ON],
      ["PrometheusUp", "resolved", PROMETHEUS_UP],
    ]);
    expect(of("reachable")).toEqual([
      { kind: "alerting", subject: "reachable", from: "prometheus", reachable: true },
      { kind: "alerting", subject: "reachable", from: "alertmanager", reachable: true },
    ]);
  });

  it("records Alertmanager unreachable apart from Prometheus", async () => {
    const prometheus = await prometheusServing(FIRING, SERIES);
    const alertmanager = await serve({ "/api/v2/alerts": "alertmanager-alerts.json" });
    const { watch, of } = watching(prometheus, alertmanager);
    await watch.poll();
    await alertmanager.close();
    await watch.poll();
    expect(of("reachable").map((event) => [event.from, event.reachable])).toEqual([
      ["prometheus", true],
      ["alertmanager", true],
      ["alertmanager", false],
    ]);
    expect(of("alert").filter((event) => event.state === "resolved")).toEqual([]);
  });
});

describe("AlertWatch's loop", () => {
  it("polls every everyMs until stop(), and records nothing after it", async () => {
    const prometheus = await prometheusServing(PENDING, SERIES);
    const { watch, events } = watching(prometheus, null, { everyMs: 20 });
    watch.start();
    await watch.waitUntil(() => (watch.picture.polls >= 3 ? true : `${watch.picture.polls} polls`), 5000, "three polls");
    prometheus.routes.set("/api/v1/rules", FIRING);
    await watch.stop();
    const recorded = events.length;
    const polls = watch.picture.polls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(watch.picture.polls).toBe(polls);
    expect(events.length).toBe(recorded);
  });

  it("ends by itself after maxLifetimeMs, and says so", async () => {
    const prometheus = await prometheusServing(PENDING, SERIES);
    const { watch, lines } = watching(prometheus, null, { everyMs: 10, maxLifetimeMs: 100 });
    watch.start();
    await vi.waitFor(() => expect(lines).toContain("monitoring: watching the alerts: stopped after 0 s (its limit)"), { timeout: 3000 });
    expect(watch.picture.polls).toBeLessThanOrEqual(10);
  });
});

describe("alertChanges", () => {
  const alert = (name: string, labels: Record<string, string>, state: ActiveAlert["state"]): [string, ActiveAlert] => [
    alertKey(name, labels),
    { alert: name, labels, state },
  ];

  it("knows an alert by its rule and its whole label set, in any order", () => {
    expect(alertKey("A", { job: "pg", instance: "n1" })).toBe(alertKey("A", { instance: "n1", job: "pg" }));
    expect(alertKey("A", { instance: "n1" })).not.toBe(alertKey("A", { instance: "n2" }));
    expect(alertKey("A", { instance: "n1" })).not.toBe(alertKey("B", { instance: "n1" }));
  });

  it("gives new and changed alerts in order, then those gone as resolved; an unchanged one not at all", () => {
    const before = new Map([alert("Down", { instance: "n1" }, "pending"), alert("Down", { instance: "n2" }, "firing")]);
    const after = new Map([
      alert("Down", { instance: "n2" }, "firing"),
      alert("Down", { instance: "n1" }, "firing"),
      alert("Lag", { instance: "n2" }, "pending"),
    ]);
    expect(alertChanges(before, after, "prometheus").map((event) => [event.alert, event.labels, event.state])).toEqual([
      ["Down", { instance: "n1" }, "firing"],
      ["Lag", { instance: "n2" }, "pending"],
    ]);
    expect(alertChanges(after, new Map([alert("Lag", { instance: "n2" }, "pending")]), "alertmanager")).toEqual([
      { kind: "alerting", subject: "alert", from: "alertmanager", alert: "Down", labels: { instance: "n2" }, state: "resolved" },
      { kind: "alerting", subject: "alert", from: "alertmanager", alert: "Down", labels: { instance: "n1" }, state: "resolved" },
    ]);
  });
});
