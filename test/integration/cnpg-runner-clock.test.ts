/**
 * The in-cluster probe runner for real, as far as this machine allows (no Kubernetes here): the
 * runner's entry point (`pgdrill probe-runner`) runs as its own process against a real PostgreSQL
 * container pair; the drill's side reaches it exactly as it would in a cluster, through the API
 * server's pod log stream and pod proxy, here served by a stand-in API server that forwards to the
 * process. Checked: the History comes back merged (probe operations, final reads, clock estimates),
 * and the clock offset estimate against the truth, which one kernel's CLOCK_MONOTONIC gives (the
 * runner reports its own at its t = 0).
 */
import { spawn } from "node:child_process";
import { readFileSync, mkdtempSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { HistoryWriter } from "../../harness/history/writer.ts";
import { monotonicClock } from "../../harness/clock.ts";
import { containerPair } from "../../harness/targets/container-pair/pair.ts";
import { loadKube } from "../../harness/targets/cnpg/kube.ts";
import { parseRunnerLine, RUNNER_PROTOCOL, type HelloLine } from "../../harness/runner/protocol.ts";
import type { RunnerConfig } from "../../harness/targets/cnpg/runner/protocol.ts";
import { RunnerSession } from "../../harness/targets/cnpg/runner/remote.ts";
import { kubeRunnerTransport } from "../../harness/targets/cnpg/runner/transport.ts";

const NS = "drill";
const POD = "pg-pgdrill-runner";

/** A stand-in API server for the two calls the drill makes to its runner: the log stream and the pod proxy. */
async function apiFront(stdout: { text: string; ended: boolean; listeners: Set<() => void> }, runnerPort: () => number) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://front");
    if (url.pathname === `/api/v1/namespaces/${NS}/pods/${POD}/log` && url.searchParams.get("follow") === "true") {
      res.writeHead(200, { "content-type": "text/plain" });
      let sent = 0;
      const push = () => {
        if (stdout.text.length > sent) res.write(stdout.text.slice(sent));
        sent = stdout.text.length;
        if (stdout.ended) res.end();
      };
      stdout.listeners.add(push);
      res.on("close", () => stdout.listeners.delete(push));
      push();
      return;
    }
    const proxy = new RegExp(`^/api/v1/namespaces/${NS}/pods/${POD}:8080/proxy(/.*)$`).exec(url.pathname);
    if (proxy) {
      const upstream = request({ host: "127.0.0.1", port: runnerPort(), path: proxy[1], method: req.method, headers: { "content-type": "application/json" } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("the cnpg probe runner", { timeout: 180_000 }, () => {
  it("runs pgdrill's probes in its own process, and its History comes back on the drill's clock within the bound it states", async () => {
    await using pair = await containerPair({ kind: "container-pair", replication: "async", startupTimeout: "60s" }).start({ runId: "runnerclock", scenario: "runner-clock", log: () => undefined });
    const rw = pair.endpoint("rw");
    const config: RunnerConfig = {
      protocol: RUNNER_PROTOCOL,
      cluster: "pg",
      nodes: pair.nodes.map((name) => ({ name, host: pair.endpoint(name).host, port: pair.endpoint(name).port })),
      rw: { host: rw.host, port: rw.port },
      ro: { host: rw.host, port: rw.port },
      user: rw.user,
      database: rw.database,
      passwordEnv: "PGPASSWORD",
      probes: [
        { kind: "select1", every: "50ms", timeout: "1s", connectTimeout: "1s", connection: "fresh", endpoint: "rw" },
        { kind: "writes", every: "50ms", timeout: "1s", connectTimeout: "1s", connection: "held", endpoint: "rw" },
        { kind: "role", every: "200ms", timeout: "500ms", connectTimeout: "500ms" },
      ] as RunnerConfig["probes"],
      maxRunMs: 60_000,
      lifetimeMs: 90_000,
      controlPort: 0,
    };
    const stdout = { text: "", ended: false, listeners: new Set<() => void>() };
    const child = spawn("bash", ["fixtures/with-node.sh", "node", "bin/pgdrill.js", "probe-runner"], {
      env: { ...process.env, PGDRILL_RUNNER_CONFIG: JSON.stringify(config), PGPASSWORD: rw.password },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout.text += chunk;
      for (const push of stdout.listeners) push();
    });
    child.stdout.on("end", () => {
      stdout.ended = true;
      for (const push of stdout.listeners) push();
    });
    const hello = async (): Promise<HelloLine> => {
      for (let i = 0; i < 300; i += 1) {
        const line = stdout.text.split("\n").map(parseRunnerLine).find((candidate) => candidate?.type === "hello");
        if (line && line.type === "hello") return line;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the runner never said hello: ${stdout.text}`);
    };
    const greeting = await hello();
    const front = await apiFront(stdout, () => greeting.controlPort);
    try {
      const kubeconfig = [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: front, cluster: {server: "${front.url}", insecure-skip-tls-verify: true}}]`,
        "users: [{name: front, user: {token: front-token}}]",
        "contexts: [{name: front, context: {cluster: front, user: front}}]",
        "current-context: front",
      ].join("\n");
      const transport = kubeRunnerTransport(loadKube({ yaml: kubeconfig }), NS, POD, "runner", 8080);
      const dir = mkdtempSync(join(tmpdir(), "pgdrill-runner-clock-"));
      const history = HistoryWriter.open(join(dir, "history.jsonl"));
      const clock = monotonicClock();
      // The drill's t = 0 on CLOCK_MONOTONIC: the truth the estimate is checked against.
      const drillZeroNs = process.hrtime.bigint() - BigInt(Math.round(clock.now() * 1e6));
      const session = new RunnerSession({ transport, log: () => undefined, resyncEveryMs: 1000, relabel: (node) => (node === "pg-rw" ? "primary" : node) });
      const context = { history, clock, until: clock.now() + 4000, signal: new AbortController().signal };
      await session.attach(context);
      await session.run(context);
      await session.finalRead();
      await session.close();
      history.close();
      expect(await exited).toBe(0);

      const truth = Number(BigInt(greeting.monotonicNs) - drillZeroNs) / 1e6;
      const errors = session.estimates.map((estimate) => ({ error: Math.abs(estimate.offsetMs - truth), bound: estimate.uncertaintyMs, rtt: estimate.rttMs }));
      console.log(`clock alignment: true offset ${truth.toFixed(3)} ms; estimates ${JSON.stringify(session.estimates.map((e) => ({ offsetMs: e.offsetMs, uncertaintyMs: e.uncertaintyMs })))}; |error| ${errors.map((e) => e.error.toFixed(3)).join(", ")} ms`);
      expect(session.estimates.length).toBeGreaterThanOrEqual(3);
      for (const { error, bound } of errors) expect(error).toBeLessThanOrEqual(bound + 0.002);

      const events = readFileSync(join(dir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
      const completes = events.filter((event) => event.kind === "complete");
      expect(completes.filter((event) => event.probe === "select1" && event.outcome === "ok").length).toBeGreaterThan(40);
      expect(completes.filter((event) => event.probe === "writes" && event.outcome === "ok").length).toBeGreaterThan(40);
      // The role probe asked each node directly; select1 went through "rw", relabelled with the node it routed to.
      expect(new Set(completes.filter((event) => event.probe === "role").map((event) => event.node))).toEqual(new Set(pair.nodes));
      expect(new Set(completes.filter((event) => event.probe === "select1").map((event) => event.node))).toEqual(new Set(["primary"]));
      const finalRead = events.find((event) => event.kind === "final-read");
      expect(finalRead).toMatchObject({ probe: "writes", ok: true });
      expect(events.filter((event) => event.kind === "log" && /probe runner clock/.test(event.message)).length).toBe(session.estimates.length);
      // On the drill's clock: every operation inside the drill's window, none twice.
      const window = context.until + 2000;
      for (const event of completes) expect(event.t).toBeGreaterThan(0), expect(event.t).toBeLessThan(window);
      const keys = completes.map((event) => `${event.probe}/${event.worker}/${event.op}`);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      child.kill("SIGTERM");
      front.server.closeAllConnections();
      front.server.close();
    }
  });
});
