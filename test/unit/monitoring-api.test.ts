import { afterEach, describe, expect, it } from "vitest";
import { AlertmanagerApi, displayUrl, MonitoringApiError, PrometheusApi } from "../../harness/monitoring/api.ts";
import { redactSecrets } from "../../harness/secrets.ts";
import { fakeApi, recorded, type FakeApi, type Route } from "../fixtures/monitoring/fake-api.ts";

// The answers are Prometheus 2.42's and Alertmanager 0.25's own, recorded by test/fixtures/monitoring/capture.sh.
const servers: FakeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function serve(routes: Record<string, Route>): Promise<FakeApi> {
  const server = await fakeApi(routes);
  servers.push(server);
  return server;
}

describe("PrometheusApi, on Prometheus 2.42's answers", () => {
  it("reads every alerting rule with its alerts, its `for` in seconds, its health and last evaluation, and no recording rule", async () => {
    const server = await serve({ "/api/v1/rules": "prometheus-rules-all.json" });
    const rules = await new PrometheusApi({ url: server.url }).alertingRules();
    expect(server.requests[0]!.query.get("type")).toBe("alert");
    expect(rules.map((rule) => rule.name)).toEqual(["AlwaysOn", "PrometheusUp", "PostgresDown", "Clash"]);
    expect(rules[0]).toEqual({
      group: "drill",
      file: "rules.yml",
      groupIntervalMs: 1000,
      name: "AlwaysOn",
      query: "vector(1)",
      duration: 2,
      labels: { severity: "critical" },
      state: "firing",
      health: "ok",
      lastError: null,
      lastEvaluation: "2026-12-07T19:15:20.107523767Z",
      alerts: [
        {
          labels: { alertname: "AlwaysOn", severity: "critical" },
          state: "firing",
          activeAt: "2026-12-07T19:15:16.103704037Z",
          value: "1e+00",
        },
      ],
    });
    expect(rules[2]).toMatchObject({ name: "PostgresDown", duration: 60, labels: {}, alerts: [] });
    expect(rules[3]).toMatchObject({
      health: "err",
      lastError: "vector contains metrics with the same labelset after applying alert labels",
    });
  });

  it("says a rule not evaluated yet has no last evaluation, and a target not scraped yet no last scrape", async () => {
    const server = await serve({
      "/api/v1/rules": "prometheus-rules-unevaluated.json",
      "/api/v1/targets": "prometheus-targets-unscraped.json",
    });
    const api = new PrometheusApi({ url: server.url });
    const rules = await api.alertingRules();
    expect(rules.map((rule) => [rule.lastEvaluation, rule.health, rule.groupIntervalMs])).toEqual(
      Array(4).fill([null, "unknown", 3_600_000]),
    );
    const [target] = await api.scrapeTargets();
    expect(target).toMatchObject({ pool: "prometheus", health: "unknown", lastScrape: null, lastError: null });
    expect(server.requests.at(-1)!.query.get("state")).toBe("active");
  });

  it("reads a scraped target", async () => {
    const server = await serve({ "/api/v1/targets": "prometheus-targets.json" });
    const [target] = await new PrometheusApi({ url: server.url }).scrapeTargets();
    expect(target).toMatchObject({ pool: "prometheus", health: "up", lastScrape: "2026-12-07T19:15:20.585456982Z" });
  });

  it("reads the active alerts, and the metric names", async () => {
    const server = await serve({
      "/api/v1/alerts": "prometheus-alerts.json",
      "/api/v1/label/__name__/values": "prometheus-metric-names.json",
    });
    const api = new PrometheusApi({ url: server.url });
    expect(await api.alerts()).toEqual([
      {
        labels: { alertname: "AlwaysOn", severity: "critical" },
        state: "firing",
        activeAt: "2026-12-07T19:15:16.103704037Z",
        value: "1e+00",
      },
    ]);
    const names = await api.metricNames();
    expect(names).toContain("up");
    expect(names).toContain("ALERTS");
    expect(names).not.toContain("pg_up");
  });

  it("counts the series an expression returns: a vector's or a matrix's; a scalar or a string is an error", async () => {
    const answers: Record<string, string> = {
      up: "prometheus-query-vector.json",
      "pg_up == 0": "prometheus-query-empty.json",
      "up[3s]": "prometheus-query-matrix.json",
      "scalar(up)": "prometheus-query-scalar.json",
      '"text"': "prometheus-query-string.json",
    };
    const server = await serve({
      "/api/v1/query": (_req, res, url) => res.writeHead(200).end(recorded(answers[url.searchParams.get("query")!]!)),
    });
    const api = new PrometheusApi({ url: server.url });
    expect(await api.seriesCount("up")).toBe(1);
    expect(await api.seriesCount("pg_up == 0")).toBe(0);
    expect(await api.seriesCount("up[3s]")).toBe(1);
    await expect(api.seriesCount("scalar(up)")).rejects.toThrow(
      `Prometheus at ${server.url}: GET /api/v1/query: "scalar(up)" is a scalar, not a vector of series`,
    );
    await expect(api.seriesCount('"text"')).rejects.toThrow('"\\"text\\"" is a string, not a vector of series');
  });

  it("says what Prometheus said of an expression it refused", async () => {
    const server = await serve({ "/api/v1/query": (_req, res) => res.writeHead(400).end(recorded("prometheus-query-bad.json")) });
    const failure = new PrometheusApi({ url: server.url }).seriesCount("up{");
    await expect(failure).rejects.toThrow(
      `Prometheus at ${server.url}: GET /api/v1/query: answered 400 ` +
        '(bad_data: invalid parameter "query": 1:4: parse error: unexpected end of input inside braces)',
    );
  });

  it("reads the global intervals from the loaded configuration, in ms", async () => {
    const server = await serve({ "/api/v1/status/config": "prometheus-status-config.json" });
    const api = new PrometheusApi({ url: server.url });
    expect(await api.globalConfig()).toEqual({ scrapeIntervalMs: 1000, scrapeTimeoutMs: 500, evaluationIntervalMs: 1000 });
    server.routes.set("/api/v1/status/config", "prometheus-status-config-hourly.json");
    expect(await api.globalConfig()).toEqual({ scrapeIntervalMs: 3_600_000, scrapeTimeoutMs: 10_000, evaluationIntervalMs: 3_600_000 });
    // Prometheus fills its defaults in; a server that does not say one leaves it unknown.
    server.routes.set("/api/v1/status/config", { json: { status: "success", data: { yaml: "global:\n  scrape_interval: 1m30s\n" } } });
    expect(await api.globalConfig()).toEqual({ scrapeIntervalMs: 90_000, scrapeTimeoutMs: null, evaluationIntervalMs: null });
    server.routes.set("/api/v1/status/config", { json: { status: "success", data: { yaml: "global:\n  scrape_interval: 1.5m\n" } } });
    await expect(api.globalConfig()).rejects.toThrow('data.yaml global.scrape_interval is "1.5m", not a Prometheus duration');
  });

  it("names the API path and the field of an answer of a shape it did not expect", async () => {
    const server = await serve({
      "/api/v1/rules": (_req, res) =>
        res.writeHead(200).end(recorded("prometheus-rules-firing.json").replace('"duration":2', '"duration":"2"')),
      "/api/v1/alerts": { json: { status: "success", data: { alerts: [{ labels: { alertname: 3 }, state: "firing" }] } } },
      "/api/v1/label/__name__/values": (_req, res) => res.writeHead(200).end("<html>not Prometheus</html>"),
    });
    const api = new PrometheusApi({ url: server.url });
    const failure = await api.alertingRules().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MonitoringApiError);
    expect((failure as MonitoringApiError).path).toBe("/api/v1/rules");
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^Prometheus at ${server.url}: GET /api/v1/rules: unexpected answer: data\\.groups\\[0\\]\\.rules\\[0\\]\\.duration: .*number`,
      ),
    );
    await expect(api.alerts()).rejects.toThrow(/GET \/api\/v1\/alerts: unexpected answer: data\.alerts\[0\]\.labels\.alertname: .*string/);
    await expect(api.metricNames()).rejects.toThrow(
      "GET /api/v1/label/__name__/values: answered 200 with no JSON (<html>not Prometheus</html>)",
    );
  });

  it("answers ready() with true, or with why not", async () => {
    const server = await serve({ "/-/ready": (_req, res) => res.writeHead(200).end("Prometheus Server is Ready.\n") });
    const api = new PrometheusApi({ url: server.url });
    expect(await api.ready()).toBe(true);
    server.routes.set("/-/ready", (_req, res) => res.writeHead(503).end("Service Unavailable"));
    expect(await api.ready()).toBe(`Prometheus at ${server.url}: GET /-/ready: answered 503 (Service Unavailable)`);
    const gone = await serve({});
    await gone.close();
    expect(await new PrometheusApi({ url: gone.url }).ready()).toMatch(
      new RegExp(`^Prometheus at ${gone.url}: GET /-/ready: ECONNREFUSED`),
    );
  });
});

describe("AlertmanagerApi, on Alertmanager 0.25's answers", () => {
  it("reads the alerts it holds, active or silenced", async () => {
    const server = await serve({ "/api/v2/alerts": "alertmanager-alerts.json" });
    const alerts = await new AlertmanagerApi({ url: server.url }).alerts();
    expect(alerts.map((alert) => [alert.labels["alertname"], alert.state])).toEqual([
      ["AlwaysOn", "active"],
      ["PrometheusUp", "suppressed"],
    ]);
    expect(alerts[0]).toMatchObject({ startsAt: "2026-12-07T19:15:18.103Z", endsAt: "2026-12-07T19:15:28.103Z" });
  });

  it("reads the route's group_wait, and Alertmanager's 30 s when the route does not set it", async () => {
    const server = await serve({ "/api/v2/status": "alertmanager-status.json" });
    const api = new AlertmanagerApi({ url: server.url });
    expect(await api.groupWaitMs()).toBe(1000);
    server.routes.set("/api/v2/status", "alertmanager-status-default.json");
    expect(await api.groupWaitMs()).toBe(30_000);
    server.routes.set("/api/v2/status", { json: { config: {} } });
    await expect(api.groupWaitMs()).rejects.toThrow(
      `Alertmanager at ${server.url}: GET /api/v2/status: unexpected answer: config.original: `,
    );
  });

  it("names the field of an alert state it does not know", async () => {
    const server = await serve({
      "/api/v2/alerts": (_req, res) => res.writeHead(200).end(recorded("alertmanager-alerts.json").replace('"suppressed"', '"muted"')),
    });
    await expect(new AlertmanagerApi({ url: server.url }).alerts()).rejects.toThrow(
      /GET \/api\/v2\/alerts: unexpected answer: \[1\]\.status\.state: /,
    );
  });
});

describe("the clients' requests", () => {
  const rules = { "/api/v1/rules": "prometheus-rules-firing.json" } as const;

  it("send a bearer token, or basic auth, and the extra headers", async () => {
    const server = await serve(rules);
    await new PrometheusApi({ url: server.url, bearerToken: "tok-123456", headers: { "X-Scope-OrgID": "drill" } }).alertingRules();
    expect(server.requests[0]!.headers).toMatchObject({ authorization: "Bearer tok-123456", "x-scope-orgid": "drill" });
    await new PrometheusApi({ url: server.url, username: "drill", password: "pw-secret" }).alertingRules();
    expect(server.requests[1]!.headers.authorization).toBe(`Basic ${Buffer.from("drill:pw-secret").toString("base64")}`);
  });

  it("mask the token of an Authorization header they were handed, wherever it shows up later", async () => {
    const server = await serve(rules);
    await new PrometheusApi({ url: server.url, headers: { Authorization: "Bearer header-token-42" } }).alertingRules();
    expect(server.requests[0]!.headers.authorization).toBe("Bearer header-token-42");
    expect(redactSecrets("the proxy echoed header-token-42")).toBe("the proxy echoed ***");
  });

  it("take a URL's credentials as basic auth, and never show them", async () => {
    const server = await serve({});
    const api = new PrometheusApi({ url: `http://drill:s3cr%40t-pw@127.0.0.1:${server.port}/` });
    expect(api.url).toBe(`http://127.0.0.1:${server.port}`);
    const failure = await api.alertingRules().then(
      () => "answered",
      (error: Error) => error.message,
    );
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from("drill:s3cr@t-pw").toString("base64")}`);
    expect(failure).toBe(
      `Prometheus at http://127.0.0.1:${server.port}: GET /api/v1/rules: answered 404 (404 page not found); ` +
        `is http://127.0.0.1:${server.port} Prometheus's own address (with its path prefix, if any)?`,
    );
    expect(displayUrl("https://u:p@prom.example:9090/prefix?token=x")).toBe("https://prom.example:9090/prefix");
  });

  it("say which fields to check when the credentials are refused", async () => {
    const server = await serve({ "/api/v2/alerts": (_req, res) => res.writeHead(401).end("Unauthorized\n") });
    const api = new AlertmanagerApi({ url: server.url, bearerToken: "wrong-token" }, { field: "monitoring.alertmanager" });
    await expect(api.alerts()).rejects.toThrow(
      "answered 401 (Unauthorized); check monitoring.alertmanager.bearerToken or monitoring.alertmanager.username and password",
    );
  });

  it("dial again once when the connection closes under a request (a kept-alive one the server closed as it restarted)", async () => {
    let closes = 1;
    const server = await serve({
      "/api/v1/rules": (req, res) =>
        closes-- > 0 ? req.socket.destroy() : res.writeHead(200).end(recorded("prometheus-rules-firing.json")),
    });
    const api = new PrometheusApi({ url: server.url });
    expect(await api.alertingRules()).toHaveLength(4);
    expect(server.requests).toHaveLength(2);
    closes = 2;
    await expect(api.alertingRules()).rejects.toThrow(`Prometheus at ${server.url}: GET /api/v1/rules: UND_ERR_SOCKET (other side closed)`);
  });

  it("go below a path prefix", async () => {
    const server = await serve({ "/prometheus/api/v1/rules": "prometheus-rules-firing.json" });
    expect(await new PrometheusApi({ url: `${server.url}/prometheus` }).alertingRules()).toHaveLength(4);
  });

  it("give up on an answer that does not come within the timeout", async () => {
    const server = await serve({ "/api/v1/rules": () => undefined });
    const started = Date.now();
    const failure = new PrometheusApi({ url: server.url }, { timeoutMs: 200 }).alertingRules();
    await expect(failure).rejects.toThrow(`Prometheus at ${server.url}: GET /api/v1/rules: no answer within 200 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("give up on a body that stops half-way, within the same timeout", async () => {
    const server = await serve({ "/api/v1/rules": (_req, res) => res.writeHead(200).write('{"status":"success",') });
    await expect(new PrometheusApi({ url: server.url }, { timeoutMs: 200 }).alertingRules()).rejects.toThrow("no answer within 200 ms");
  });

  it("read no more than maxBytes, whether the answer says its length or not", async () => {
    const names = recorded("prometheus-metric-names.json");
    const server = await serve({
      "/api/v1/label/__name__/values": "prometheus-metric-names.json",
      "/chunked/api/v1/label/__name__/values": (_req, res) => {
        res.writeHead(200);
        for (let i = 0; i < names.length; i += 1000) res.write(names.slice(i, i + 1000));
        res.end();
      },
    });
    await expect(new PrometheusApi({ url: server.url }, { maxBytes: 4000 }).metricNames()).rejects.toThrow(
      `the answer is ${names.length} bytes, more than the 4000 read`,
    );
    await expect(new PrometheusApi({ url: `${server.url}/chunked` }, { maxBytes: 4000 }).metricNames()).rejects.toThrow(
      "the answer is longer than the 4000 bytes read",
    );
    expect(await new PrometheusApi({ url: `${server.url}/chunked` }, { maxBytes: names.length }).metricNames()).toContain("up");
  });

  it("refuse a URL that is not http(s), naming the field", () => {
    expect(() => new PrometheusApi({ url: "prom.example:9090" })).toThrow(/^monitoring\.prometheus\.url: prom\.example:9090 must be http/);
    expect(() => new AlertmanagerApi({ url: "not a url" })).toThrow('monitoring.alertmanager.url: "not a url" is not a URL');
  });
});
