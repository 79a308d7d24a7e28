/**
 * Whole drills on the cnpg target with Kubernetes simulated by the FAKE Kubernetes API
 * (test/fake-kube) and the instances backed by real PostgreSQL containers: the target's start-up,
 * watches, faults, switchover, fencing and teardown run for real against the fake API server. In
 * the cluster (the default), the probes run in the probe runner, run by the fake's kubelet from the
 * probe-runner image in Docker (uid 1000, read-only root; `npm test`'s set-up builds it with
 * fixtures/image/build-probe-runner.sh), dialing <cluster>-rw.<ns>.svc through the fake's cluster
 * network, and their History comes back through the fake API server's pod log stream and pod
 * proxy; with access: outside, they run here through the operator's NodePort Services.
 * kind and CloudNativePG themselves run in .github/workflows/cnpg.yml, where the internet is.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import type { KubeEvent } from "../../harness/targets/cnpg/events.ts";
import { Session } from "../../harness/connection/session.ts";
import { runDrill } from "../../harness/run/drill.ts";
import type { ScenarioInput } from "../../harness/scenario/schema.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { containerPair } from "../../harness/targets/container-pair/pair.ts";
import { control, type StartedTopology } from "../../harness/targets/types.ts";
import { DEFAULT_RUNNER_IMAGE } from "../../harness/targets/cnpg/runner/pod.ts";
import { CnpgWorld } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";
import { readEvents, tempRunDir } from "./helpers.ts";

const NS = "pgdrill-fake";
const BACKING: Record<string, string> = { "pg-1": "primary", "pg-2": "standby" };
/** initdb's application user and database, as CloudNativePG creates them (the runner connects as it). */
const APP = { username: "app", password: "app-secret-4821" };

let fake: FakeKubeApi;
let kubeconfig: string;

/** A fresh fake API and a world backed by a fresh container pair: pg-1 is the pair's primary, pg-2 its standby. */
async function withWorld<T>(nodePortBase: number, body: (world: CnpgWorld) => Promise<T>): Promise<T> {
  fake = new FakeKubeApi();
  const server = await fake.listen();
  kubeconfig = `${tempRunDir("kubeconfig")}.yaml`;
  writeFileSync(kubeconfig, fake.kubeconfig(server, "fake-kube"));
  const pair: StartedTopology = await containerPair({ kind: "container-pair", replication: "async", startupTimeout: "60s" }).start({ runId: `cnpgfake${nodePortBase}`, scenario: "cnpg-fake-backing", log: () => undefined });
  const admin = await Session.connect(pair.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "cnpg-fake-initdb" });
  await admin.query(`CREATE ROLE ${APP.username} LOGIN PASSWORD '${APP.password}'`, [], 5000);
  await admin.query(`CREATE DATABASE app OWNER ${APP.username}`, [], 10_000);
  await admin.close();
  const world = new CnpgWorld(fake, {
    app: APP,
    namespace: NS,
    cluster: "pg",
    instances: 2,
    // CloudNativePG's durations compressed tenfold: the primary Lease's 15 s is 1.5 s, a replacement operator's 3.9 s start 0.39 s.
    timeScale: 0.1,
    backing: {
      password: pair.endpoint("primary").password,
      address: (instance) => {
        const endpoint = pair.endpoint(BACKING[instance]!);
        return { host: endpoint.host, port: endpoint.port };
      },
      kill: (instance) => control(pair, "kill", "kill").kill(BACKING[instance]!),
      promote: (instance) => control(pair, "promotion", "promote").promote(BACKING[instance]!),
    },
  });
  world.installOperator();
  try {
    return await body(world);
  } catch (error) {
    if (world.podStderr.length > 0) console.log(`runner stderr:\n${world.podStderr.join("")}`);
    throw error;
  } finally {
    await world.close();
    await pair.teardown();
    await fake.close();
  }
}

/** The target on the fake: its context, 2 instances (the pair's two servers), this namespace. */
function fakeTarget(access: "in-cluster" | "outside") {
  return { kind: "cnpg" as const, context: "fake-kube", kubeconfig, allowContexts: ["fake-kube"], namespace: NS, name: "pg", instances: 2, startupTimeout: "60s", access };
}

/** Nothing of the run is left: its namespace deleted (and with it the runner pod and Services), every runner process and container gone. */
async function expectNothingLeft(world: CnpgWorld, removed: string[]) {
  expect(removed).toContain(`namespace ${NS}`);
  expect(fake.requests.some((r) => r.method === "DELETE" && r.path === `/api/v1/namespaces/${NS}`)).toBe(true);
  expect(world.pod("pg-pgdrill-runner")).toBeUndefined();
  // The namespace's deletion stopped the runner; a container takes the engine a moment to remove.
  for (let i = 0; i < 100 && [...world.processes.values()].some((running) => !running.ended); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect([...world.processes.values()].filter((running) => !running.ended).map((running) => running.name)).toEqual([]);
  for (const running of world.processes.values()) {
    if (running.runtime.how === "image") expect(execFileSync("docker", ["ps", "-aq", "--filter", `name=^/${running.runtime.container}$`], { encoding: "utf8" }).trim()).toBe("");
  }
}

/**
 * The probes ran in the probe-runner image, not in a local process: the fake's kubelet ran the pod
 * from it in Docker, and the runner's own hello, recorded in the History, says Node 24 as uid 1000
 * (the pod's runAsUser; this test runs as another uid, which a local process would report).
 */
function expectRanFromImage(world: CnpgWorld, events: HistoryEvent[]) {
  const kubelet = world.log.filter((line) => line.startsWith(`kubelet: pod ${NS}/pg-pgdrill-runner `));
  console.log(kubelet.join("\n"));
  expect(kubelet, "the image is built by: bash fixtures/image/build-probe-runner.sh (npm test's set-up: fixtures/setup.sh --with-runner-image)").toEqual([
    expect.stringMatching(new RegExp(`^kubelet: pod ${NS}/pg-pgdrill-runner runs image ${DEFAULT_RUNNER_IMAGE} in container pgdrill-fake-${NS}-pg-pgdrill-runner-[0-9a-f]{6} \\(uid 1000, read-only root, /tmp tmpfs, --network host; `)),
  ]);
  expect([...world.processes.values()].map((running) => running.runtime.how)).toEqual(["image"]);
  const said = events.filter((e) => e.kind === "log" && e.message.startsWith("probe runner: pgdrill ")).map((e) => (e.kind === "log" ? e.message : ""));
  expect(said).toEqual([expect.stringMatching(/^probe runner: pgdrill \S+ on node v24\.\d+\.\d+ as uid 1000$/)]);
  expect(process.getuid?.()).not.toBe(1000);
}

function scenario(name: string, _id: number, schedule: unknown[], duration = "9s", access: "in-cluster" | "outside" = "in-cluster") {
  return validateScenario(
    {
      name,
      target: fakeTarget(access),
      probes: [{ kind: "select1", every: "50ms", timeout: "500ms" }, { kind: "writes", every: "50ms", timeout: "500ms" }, { kind: "role" }],
      steadyState: { window: "2s" },
      schedule,
      duration,
      gate: { "failover.latencyMs": "< 30000" },
    },
    "test",
  );
}

/** A shipped scenario as shipped (probes, schedule, gates), in the cluster on the fake's two instances, its duration cut to `duration`; it ran to its end. */
async function runShipped(name: string, duration: string) {
  const source = `scenarios/${name}.ts`;
  const shipped = (await import(`../../${source}`)).default as ScenarioInput;
  const input = { ...shipped, target: fakeTarget("in-cluster"), duration };
  const { result, runDir, removed } = await runDrill(validateScenario(input, source), { source, outDir: tempRunDir(name) });
  expect(result.reason).toBeNull();
  return { result, events: readEvents(runDir), removed };
}

describe("cnpg target against the fake Kubernetes API, real PostgreSQL behind it", { timeout: 180_000 }, () => {
  it("the seed guide's test, probed from inside the cluster: delete the primary pod, watch the operator fail over, clients in the cluster recover through the rw service", async () => {
    await withWorld(31400, async (world) => {
      const { result, runDir, removed } = await runDrill(scenario("cnpg-fake-kill", 31400, [{ at: "3s", fault: { kind: "kill", node: "primary" } }]), { source: "test", outDir: tempRunDir("cnpg-kill") });
      expect(result.reason).toBeNull();

      // What the harness asked Kubernetes for: the Cluster and services created (never applied over), the pod delete with grace 0.
      const creates = fake.requests.filter((r) => r.method === "POST").map((r) => r.path);
      expect(creates).toEqual(expect.arrayContaining([`/apis/postgresql.cnpg.io/v1/namespaces/${NS}/clusters`, `/api/v1/namespaces/${NS}/services`, `/api/v1/namespaces/${NS}/pods`]));
      // The runner's pod and its headless Services, as pgdrill created them.
      const posted = fake.requests.filter((r) => r.method === "POST").map((r) => r.body as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });
      expect(posted.filter((o) => o.kind === "Service").map((o) => [o.metadata.name, o.spec.clusterIP])).toEqual([["pg-pgdrill-1", "None"], ["pg-pgdrill-2", "None"]]);
      expect(posted.find((o) => o.kind === "Pod")).toMatchObject({ metadata: { name: "pg-pgdrill-runner" }, spec: { automountServiceAccountToken: false } });
      // The drill reached it through the API server only: the pod's log stream and the pod proxy.
      expect(fake.requests.some((r) => r.path === `/api/v1/namespaces/${NS}/pods/pg-pgdrill-runner/log` && r.query.follow === "true")).toBe(true);
      const proxied = fake.requests.filter((r) => r.path.startsWith(`/api/v1/namespaces/${NS}/pods/pg-pgdrill-runner:8080/proxy/`)).map((r) => `${r.method} ${r.path.split("/proxy")[1]}`);
      expect(new Set(proxied)).toEqual(new Set(["GET /clock", "POST /run", "POST /final-read", "POST /exit"]));
      expect(fake.requests.filter((r) => r.contentType?.startsWith("application/apply-patch"))).toEqual([]);
      expect(world.deletes).toContainEqual({ namespace: NS, name: "pg-1", grace: 0 });

      // What the History recorded from the watches.
      const events = readEvents(runDir);
      const kube = events.filter((e): e is KubeEvent => e.kind === "k8s");
      const fault = events.find((e) => e.kind === "fault" && e.phase === "inject")!;
      expect(fault).toMatchObject({ label: "kill primary (pod delete, grace 0) (pg-1)", nodes: ["pg-1"], ok: true });
      expect(kube.some((e) => e.subject === "pod" && e.name === "pg-1" && e.role === "deleted" && e.t >= fault.t)).toBe(true);
      expect(kube.some((e) => e.subject === "cluster" && e.targetPrimary === "pending")).toBe(true);
      // The SIGKILL left the primary Lease held: pg-2 waited it out before taking it over.
      // (Before the operator's bootstrap made it, the Lease is absent: a holder of null, the way a watch started that early sees it.)
      const holders = kube.filter((e) => e.subject === "lease").map((e) => e.holder);
      expect(holders.slice(holders.findIndex((h) => h !== null)).filter((h, i, all) => i === 0 || h !== all[i - 1])).toEqual(["pg-1", "pg-2"]);
      expect(result.metrics.operator).toMatchObject({ rwObserved: true, leaseReleased: false });
      expect(result.metrics.operator.leaseAcquiredAfterMs).toBeGreaterThanOrEqual(world.scaled(15));
      // pg-1 came back under its name with no role label, then as a replica.
      expect(kube.filter((e) => e.subject === "pod" && e.name === "pg-1").map((e) => e.role)).toEqual(["primary", "deleted", null, "replica"]);
      // Routing truth from the rw Service's EndpointSlices.
      expect(events.filter((e) => e.kind === "endpoint").map((e) => (e.kind === "endpoint" ? e.node : ""))).toEqual(["pg-1", "pg-2"]);

      // The runner's History came back on the drill's clock: the clock estimates recorded (before, while and after probing),
      // operations through pg-rw labelled with the instance the rw Service routed to, the role probe's own instances.
      const clocks = events.filter((e) => e.kind === "log" && /^probe runner clock \((before the probes|while probing|after the final read)\): drill t = runner t [+−] [\d.]+ ms, ± [\d.]+ ms/.test(e.message));
      expect(clocks.length).toBeGreaterThanOrEqual(3);
      console.log(`in-cluster clock estimates: ${clocks.map((e) => (e.kind === "log" ? e.message.replace(/^probe runner clock /, "") : "")).join(" | ")}`);
      expect(events.some((e) => e.kind === "log" && e.message.startsWith("probes ran in the cluster: pod pgdrill-fake/pg-pgdrill-runner"))).toBe(true);
      const completes = events.filter((e) => e.kind === "complete");
      expect(new Set(completes.filter((e) => e.probe === "writes" && e.outcome === "ok").map((e) => e.node))).toEqual(new Set(["pg-1", "pg-2"]));
      expect(new Set(completes.filter((e) => e.probe === "role").map((e) => e.node))).toEqual(new Set(["pg-1", "pg-2"]));
      expect(completes.every((e) => e.t > 0)).toBe(true);
      expect(events.find((e) => e.kind === "final-read")).toMatchObject({ probe: "writes", ok: true });

      // What clients saw: an outage, then writes on the new primary.
      expect(result.metrics.failover.newPrimary).toBe("pg-2");
      expect(result.metrics.failover.latencyMs).toBeGreaterThan(500);
      expect(result.metrics.failover.latencyMs).toBeLessThan(30_000);
      expect(result.metrics.operator.promotedAfterMs).toBeGreaterThan(0);
      expect(result.metrics.operator.noPrimaryLabelMs).toBeGreaterThan(0);
      expect(result.metrics.writes.acknowledged).toBeGreaterThan(20);
      expect(result.verdict).toBe("pass");

      // Teardown deleted the namespace pgdrill created, and the runner with it.
      expectRanFromImage(world, events);
      await expectNothingLeft(world, removed);
    });
  });

  it("access: outside: fencing, deleting the operator's pod and a planned switchover, probed from here through NodePort Services the operator owns", async () => {
    await withWorld(31420, async (world) => {
      const { result, runDir, removed } = await runDrill(
        scenario(
          "cnpg-fake-switchover",
          31420,
          [
            { at: "2500ms", for: "1s", fault: { kind: "fence", node: "replica" } },
            { at: "3s", fault: { kind: "kill", node: "operator" } },
            { at: "5s", action: { kind: "switchover", to: "replica" } },
          ],
          "9s",
          "outside",
        ),
        { source: "test", outDir: tempRunDir("cnpg-switchover") },
      );
      expect(result.reason).toBeNull();
      // rw and ro are the operator's (managed.services.additional), their NodePorts allocated by the API server; no runner pod.
      const cluster = fake.requests.find((r) => r.method === "POST" && r.path.endsWith("/clusters"))!.body as { spec: { managed: { services: { additional: Array<{ selectorType: string; serviceTemplate: { metadata: { name: string }; spec: { type: string } } }> } } } };
      expect(cluster.spec.managed.services.additional.map((a) => [a.selectorType, a.serviceTemplate.metadata.name, a.serviceTemplate.spec.type])).toEqual([["rw", "pg-pgdrill-rw", "NodePort"], ["ro", "pg-pgdrill-ro", "NodePort"]]);
      expect(world.log).toEqual(expect.arrayContaining(["operator: additional service pg-pgdrill-rw (rw)", "operator: additional service pg-pgdrill-ro (ro)"]));
      expect(fake.requests.some((r) => r.method === "POST" && r.path.endsWith("/pods"))).toBe(false);
      const note = readEvents(runDir).find((e) => e.kind === "log" && e.level === "warn" && e.message.startsWith("probes ran OUTSIDE the cluster"));
      expect(note?.kind === "log" ? note.message : "").toMatch(/through the operator's NodePort Services pg-pgdrill-rw \(127\.0\.0\.1:3\d{4}\) and pg-pgdrill-ro \(127\.0\.0\.1:3\d{4}\)/);
      const patches = fake.requests.filter((r) => r.method === "PATCH" && r.contentType === "application/merge-patch+json");
      const fences = patches.filter((r) => r.path.endsWith("/clusters/pg")).map((r) => (r.body as { metadata: { annotations: Record<string, unknown> } }).metadata.annotations["cnpg.io/fencedInstances"]);
      expect(fences).toEqual(['["pg-2"]', null]);
      const status = patches.find((r) => r.path.endsWith("/clusters/pg/status"))!.body as { metadata: { resourceVersion: string }; status: Record<string, string> };
      // targetPrimary alone, with the operator's timestamp format.
      expect(status.status).toEqual({ targetPrimary: "pg-2", targetPrimaryTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/) });
      expect(status.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(world.deletes.find((d) => d.namespace === "cnpg-system")?.grace).toBe(0);

      const events = readEvents(runDir);
      // The heal undid the instance that was fenced, not whichever is "replica" by then.
      expect(events.filter((e) => e.kind === "fault" && e.id === "f1").map((e) => (e.kind === "fault" ? [e.phase, e.nodes] : []))).toEqual([["inject", ["pg-2"]], ["heal", ["pg-2"]]]);
      expect(events.find((e) => e.kind === "action" && e.phase === "end")).toMatchObject({ action: "switchover", label: "switchover to replica (pg-2)", ok: true });
      expect(result.metrics.failover.faultLabel).toBe("switchover to replica (pg-2)");
      expect(result.metrics.failover.newPrimary).toBe("pg-2");
      await expectNothingLeft(world, removed);
    });
  });

  it("the shipped cnpg-kill-primary, in the cluster: its probes, schedule and gates as shipped, its target the fake's two instances and its 90 s cut to 25 s", async () => {
    await withWorld(31440, async (world) => {
      const { result, events, removed } = await runShipped("cnpg-kill-primary", "25s");
      expect(events.filter((e) => e.kind === "log" && e.message.startsWith("probe runner clock (")).length).toBeGreaterThanOrEqual(3);
      expect(events.some((e) => e.kind === "complete" && e.probe === "select1" && e.outcome === "ok" && e.node === "pg-2")).toBe(true);
      expect(result.metrics.failover.newPrimary).toBe("pg-2");
      expect(result.metrics.failover.latencyMs).toBeGreaterThan(0);
      console.log(`shipped cnpg-kill-primary in the cluster: failover ${result.metrics.failover.latencyMs} ms, operator promoted after ${result.metrics.operator.promotedAfterMs} ms, verdict ${result.verdict}`);
      expect(result.verdict).toBe("pass");
      expectRanFromImage(world, events);
      await expectNothingLeft(world, removed);
    });
  });

  it("the shipped cnpg-kill-operator-then-primary, in the cluster: the operator's pod deleted, then the primary's; the killed operator releases its leader lease, the replacement leads after its start-up and fails over, and the gates hold", async () => {
    await withWorld(31460, async (world) => {
      const { result, events, removed } = await runShipped("cnpg-kill-operator-then-primary", "30s");
      expect(events.filter((e) => e.kind === "fault" && e.phase === "inject").map((e) => (e.kind === "fault" ? e.nodes : []))).toEqual([[expect.stringMatching(/^cnpg-system\/cnpg-controller-manager-/)], ["pg-1"]]);
      // As the real run (test/fixtures/cnpg/kind/kill-operator-then-primary) showed: the killed operator gave its leader
      // lease up, so its replacement led after its start-up (3.9 s upstream, 0.39 s here), not after the 15 s lease; with
      // the scenario's 2 s between the faults (20 s upstream at this scale) it leads before the primary is killed.
      const steps = [
        /^operator: cnpg-controller-manager-\S+ gone \(grace 0\), stopping$/,
        /^operator: cnpg-controller-manager-\S+ released the leader lease$/,
        /^operator: cnpg-controller-manager-\S+ leads$/,
        /^pg-1: pod deleted \(grace 0\)/,
        /^operator: failover from pg-1 initiated$/,
      ];
      // Each found after the one before it.
      const at: number[] = [];
      for (const step of steps) at.push(at.includes(-1) ? -1 : world.log.findIndex((line, i) => i > (at.at(-1) ?? -1) && step.test(line)));
      expect(at.every((i) => i >= 0), world.log.join("\n")).toBe(true);
      expect(world.log.some((line) => line.includes("leader lease left held")), world.log.join("\n")).toBe(false);
      expect(result.metrics.failover).toMatchObject({ happened: true, newPrimary: "pg-2" });
      expect(result.metrics.splitBrain.overlapMs).toBe(0);
      console.log(`shipped cnpg-kill-operator-then-primary in the cluster: failover ${result.metrics.failover.latencyMs} ms, verdict ${result.verdict}`);
      expect(result.verdict).toBe("pass");
      expectRanFromImage(world, events);
      await expectNothingLeft(world, removed);
    });
  });

  it("refuses a context that is neither made by pgdrill nor allow-listed, before anything starts", () => {
    expect(() =>
      validateScenario(
        { name: "x", target: { kind: "cnpg", context: "prod-eu" }, probes: [{ kind: "select1" }], schedule: [{ at: "3s", fault: { kind: "kill", node: "primary" } }], duration: "6s" },
        "s.yaml",
      ),
    ).toThrow('s.yaml: target.context: "prod-eu" is not a kind cluster pgdrill made, so pgdrill will not create its namespace, Cluster and services there or aim faults at it. If this cluster is meant for drills, add "prod-eu" to target.allowContexts.');
  });
});
