/**
 * The cnpg probe runner, read as data and fed by hand: its pod (no Kubernetes rights, the app
 * user's secret, bounded), what it dials, its config check, the clock estimate, and a runner's
 * stdout merged into a History on the drill's clock.
 */
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { parseRunnerConfig } from "../../harness/runner/runner.ts";
import { cnpgTarget, probe } from "../../harness/scenario/schema.ts";
import { estimateOffset, pingBurst } from "../../harness/targets/cnpg/runner/clock-sync.ts";
import { RunnerMerge } from "../../harness/targets/cnpg/runner/merge.ts";
import { instanceServices, runnerConfig, runnerPod } from "../../harness/targets/cnpg/runner/pod.ts";
import { parseRunnerLine, RUNNER_TAG } from "../../harness/runner/protocol.ts";

const target = (input: object = {}) => cnpgTarget.parse({ kind: "cnpg", name: "main", ...input });
const probes = [probe.parse({ kind: "select1" }), probe.parse({ kind: "writes" }), probe.parse({ kind: "role" })];
const config = runnerConfig(target(), "drill", probes, { maxRunMs: 120_000, lifetimeMs: 600_000 });

describe("the probe runner's pod", () => {
  it("dials the operator's own Services and each instance through a headless Service, as the app user", () => {
    expect(config.rw).toEqual({ host: "main-rw.drill.svc", port: 5432 });
    expect(config.ro).toEqual({ host: "main-ro.drill.svc", port: 5432 });
    expect(config.nodes).toEqual([1, 2, 3].map((i) => ({ name: `main-${i}`, host: `main-pgdrill-${i}.drill.svc`, port: 5432 })));
    expect(config).toMatchObject({ user: "app", database: "app", passwordEnv: "PGPASSWORD" });
    expect(JSON.stringify(config)).not.toMatch(/password"\s*:/i);
    expect(instanceServices(target(), "drill").map((s) => [s.metadata.name, s.spec])).toEqual(
      [1, 2, 3].map((i) => [`main-pgdrill-${i}`, { clusterIP: "None", publishNotReadyAddresses: true, selector: { "cnpg.io/cluster": "main", "cnpg.io/instanceName": `main-${i}` }, ports: [{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }] }]),
    );
  });

  it("needs no Kubernetes rights: no token mounted, no service account of its own, no Role", () => {
    const pod = runnerPod(target(), "drill", config, { image: "ghcr.io/me/pgdrill-runner:1", runId: "r1" });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.serviceAccountName).toBeUndefined();
    expect(pod.kind).toBe("Pod");
  });

  it("runs locked down and bounded, and takes the password from the Cluster's -app secret", () => {
    const pod = runnerPod(target(), "drill", config, { image: "ghcr.io/me/pgdrill-runner:1", runId: "r1" });
    const container = pod.spec.containers[0]!;
    expect(pod.metadata).toMatchObject({ name: "main-pgdrill-runner", namespace: "drill", labels: { "pgdrill.managed": "true", "pgdrill.run": "r1" } });
    expect(pod.spec).toMatchObject({ restartPolicy: "Never", activeDeadlineSeconds: 660, securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } });
    expect(container).toMatchObject({
      image: "ghcr.io/me/pgdrill-runner:1",
      imagePullPolicy: "IfNotPresent",
      args: ["probe-runner"],
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      resources: { requests: { cpu: "100m", memory: "96Mi" }, limits: { cpu: "1", memory: "256Mi" } },
      ports: [{ name: "control", containerPort: 8080, protocol: "TCP" }],
    });
    expect(container.env).toContainEqual({ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "main-app", key: "password" } } });
    expect(container.env).toContainEqual({ name: "PGDRILL_RUNNER_USER", valueFrom: { secretKeyRef: { name: "main-app", key: "username" } } });
    expect(parseRunnerConfig(String(container.env.find((e) => e.name === "PGDRILL_RUNNER_CONFIG")!.value))).toEqual(config);
    // The image the workflow builds is loaded into kind, never pulled.
    expect(runnerPod(target(), "drill", config, { image: "pgdrill/probe-runner:local", runId: "r1" }).spec.containers[0]!.imagePullPolicy).toBe("Never");
  });

  it("refuses a config with the field that is wrong", () => {
    expect(() => parseRunnerConfig("{")).toThrow(/not JSON/);
    expect(() => parseRunnerConfig(JSON.stringify({ ...config, maxRunMs: -1 }))).toThrow(/maxRunMs/);
    expect(() => parseRunnerConfig(JSON.stringify({ ...config, probes: [{ kind: "nope" }] }))).toThrow(/probes/);
  });
});

describe("the runner's clock on the drill's", () => {
  it("takes the shortest round trip: offset (t0 + t1) / 2 - t_r, within half of it", () => {
    const estimate = estimateOffset([
      { sentAt: 100, runnerT: 10, receivedAt: 110 },
      { sentAt: 200, runnerT: 110.4, receivedAt: 201 },
      { sentAt: 300, runnerT: 205, receivedAt: 330 },
    ]);
    expect(estimate).toEqual({ offsetMs: 90.1, uncertaintyMs: 0.5, rttMs: 1, samples: 3, at: 201 });
    expect(estimateOffset([])).toBeNull();
  });

  it("a true offset stays inside the bound whatever the legs' asymmetry", async () => {
    // Runner clock = drill clock - 1234.5; the request takes 0.1-3 ms, the answer 0.1-3 ms, at random.
    let now = 0;
    const samples = await pingBurst(async () => {
      now += 0.1 + Math.random() * 2.9;
      const runnerT = now - 1234.5;
      now += 0.1 + Math.random() * 2.9;
      return runnerT;
    }, () => now, 20);
    const estimate = estimateOffset(samples)!;
    expect(Math.abs(estimate.offsetMs - 1234.5)).toBeLessThanOrEqual(estimate.uncertaintyMs + 0.001);
  });
});

describe("a runner's stdout merged into the History", () => {
  const line = (seq: number, body: object) => JSON.stringify({ [RUNNER_TAG]: 1, seq, ...body });
  const invoke = (op: number, t: number): HistoryEvent => ({ kind: "invoke", t, probe: "select1", type: "select1", worker: 0, op, node: "main-rw" });
  const complete = (op: number, t: number): HistoryEvent => ({ kind: "complete", t, probe: "select1", type: "select1", worker: 0, op, outcome: "ok", latencyMs: 2, node: "main-rw" });
  const stdout = [
    "(node:1) ExperimentalWarning: something",
    line(1, { type: "hello", t: 0, wallClock: "2025-01-01T00:00:00.000Z", monotonicNs: "1", version: "x", probes: ["select1"], controlPort: 8080 }),
    line(2, { type: "state", t: 5, state: "running" }),
    line(3, { type: "event", event: invoke(0, 10) }),
    line(4, { type: "event", event: complete(0, 12) }),
    line(5, { type: "event", event: invoke(1, 1010) }),
    line(6, { type: "event", event: complete(1, 1012) }),
    line(7, { type: "state", t: 1100, state: "probes-done" }),
  ].join("\n") + "\n";

  it("holds events until the clock is known, shifts them onto the drill's clock, relabels the Service with the routed instance", () => {
    const appended: HistoryEvent[] = [];
    const logs: string[] = [];
    // rw routed to main-1 until drill t 1500, then to main-2.
    const merge = new RunnerMerge({ append: (event) => appended.push(event), log: (l) => logs.push(l), relabel: (node, t) => (node === "main-rw" ? (t < 1500 ? "main-1" : "main-2") : node) });
    // Cut anywhere, as a stream is.
    for (let i = 0; i < stdout.length; i += 37) merge.feed(stdout.slice(i, i + 37));
    expect(appended).toEqual([]);
    expect(merge.hello?.controlPort).toBe(8080);
    merge.setClock({ offsetMs: 500, uncertaintyMs: 0.4, rttMs: 0.8, samples: 10, at: 1 });
    expect(appended.map((event) => [event.kind, event.t, (event as { node?: string }).node])).toEqual([
      ["invoke", 510, "main-1"],
      ["complete", 512, "main-1"],
      ["invoke", 1510, "main-2"],
      // A complete is labelled by its invoke's time, so the pair agrees.
      ["complete", 1512, "main-2"],
    ]);
    expect(merge.sawState("probes-done")).toBe(true);
    expect(logs).toEqual(["probe runner: (node:1) ExperimentalWarning: something"]);
  });

  it("a stream followed again replays from the start: nothing is added twice", () => {
    const appended: HistoryEvent[] = [];
    const merge = new RunnerMerge({ append: (event) => appended.push(event), log: () => undefined });
    merge.setClock({ offsetMs: 0, uncertaintyMs: 0, rttMs: 0, samples: 1, at: 0 });
    merge.feed(stdout.slice(0, stdout.indexOf(line(5, { type: "event", event: invoke(1, 1010) }))));
    merge.end();
    merge.feed(stdout);
    merge.end();
    expect(appended.map((event) => event.t)).toEqual([10, 12, 1010, 1012]);
    expect(merge.replayed).toBe(4);
  });

  it("reads only its own lines", () => {
    expect(parseRunnerLine("not json")).toBeNull();
    expect(parseRunnerLine(JSON.stringify({ seq: 1, type: "hello" }))).toBeNull();
    expect(parseRunnerLine(line(1, { type: "event", event: { kind: "log" } }))).toBeNull();
  });
});
