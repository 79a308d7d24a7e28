/**
 * The FAKE CloudNativePG world (test/fake-kube/cnpg-world.ts) with its operator running, watched
 * by the cnpg target's real observer: the records the harness makes must show CloudNativePG
 * 1.30's sequences. Upstream durations are compressed tenfold (timeScale 0.1: the primary Lease's
 * 15 s is 1.5 s, its 2 s retry 200 ms, the requeue 100 ms, a replacement operator's 3.9 s start 390 ms).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { operatorChecker } from "../../harness/targets/cnpg/operator-check.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { clusterManifest } from "../../harness/targets/cnpg/manifests.ts";
import { ClusterObserver } from "../../harness/targets/cnpg/observer.ts";
import type { Observation } from "../../harness/targets/types.ts";
import { CnpgWorld, LEASE_DURATION_S, OPERATOR_LEADER_LEASE, OPERATOR_LEASE_S } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";
import { sleep, waitFor } from "../fake-kube/wait.ts";

const NS = "drill";
const SCALE = 0.1;
let fake: FakeKubeApi;
let world: CnpgWorld;
let kube: Kube;
let observer: ClusterObserver;
let t0: number;
let recorded: Array<Observation & { t: number }>;

beforeEach(async () => {
  fake = new FakeKubeApi();
  kube = new Kube(loadKube({ yaml: fake.kubeconfig(await fake.listen(), "fake-kube") }));
  world = new CnpgWorld(fake, { namespace: NS, cluster: "pg", instances: 3, timeScale: SCALE, podStartMs: 150 });
  world.installOperator();
  await kube.createNamespace(NS, {});
  await kube.create(clusterManifest(cnpgTarget.parse({ kind: "cnpg", name: "pg" }), NS, "run1"));
  await waitFor(() => world.cluster()?.status !== undefined && fake.get("/apis/discovery.k8s.io/v1", NS, "endpointslices", "pg-rw-fk7q") !== undefined);
  t0 = Date.now();
  recorded = [];
  observer = new ClusterObserver(kube, { namespace: NS, cluster: "pg", record: (o) => recorded.push({ ...o, t: Date.now() - t0 }), log: () => undefined });
  await observer.start();
  await waitFor(() => fake.openWatches === 4);
});

afterEach(async () => {
  await observer.stop();
  await world.close();
  await fake.close();
});

const kubeEvents = () => recorded.filter((o): o is Extract<Observation, { kind: "k8s" }> & { t: number } => o.kind === "k8s");
const podRoles = (name: string) => kubeEvents().filter((o) => o.subject === "pod" && o.name === name).map((o) => o.role);
const firstT = (predicate: (o: Extract<Observation, { kind: "k8s" }>) => boolean) => kubeEvents().find(predicate)?.t ?? null;
const leaseHolders = () => kubeEvents().filter((o) => o.subject === "lease").map((o) => o.holder).filter((holder, i, all) => i === 0 || holder !== all[i - 1]);

/** The History as analyze.ts would read it: run-start, a fault at `faultT`, the observations, run-end. */
function history(faultT: number): HistoryEvent[] {
  const events: HistoryEvent[] = [
    { kind: "run-start", t: 0, runId: "r", scenario: "s", wallClock: new Date().toISOString(), steadyStateMs: 0, version: "test" } as unknown as HistoryEvent,
    ...recorded.filter((o) => o.t < faultT).map((o) => o as unknown as HistoryEvent),
    { kind: "fault", t: faultT, phase: "inject", id: "f1", fault: "kill", label: "kill primary", nodes: ["pg-1"], ok: true },
    ...recorded.filter((o) => o.t >= faultT).map((o) => o as unknown as HistoryEvent),
  ];
  const end = Math.max(...recorded.map((o) => o.t)) + 10;
  events.push({ kind: "run-end", t: end, status: "completed" });
  return events;
}

describe("the fake CloudNativePG 1.30 world, as the cnpg observer records it", { timeout: 30_000 }, () => {
  it("kill primary (grace 0): the Lease stays held, so the candidate waits a full leaseDurationSeconds; currentPrimary flips before the primary label; the recreated pod starts with no role", async () => {
    const killedAt = Date.now() - t0;
    await kube.deletePod(NS, "pg-1", 0);
    await waitFor(() => observer.rwEndpoint() === "pg-2" && podRoles("pg-1").includes("replica"), 10_000);

    // The operator starts the failover at once: targetPrimary pending, then the candidate.
    const pending = firstT((o) => o.subject === "cluster" && o.targetPrimary === "pending")!;
    const target = firstT((o) => o.subject === "cluster" && o.targetPrimary === "pg-2")!;
    expect(pending).toBeGreaterThanOrEqual(killedAt);
    expect(target).toBeGreaterThan(pending);
    // SIGKILL left the Lease held by pg-1: pg-2 took it over only after observing it unchanged for 15 s (1.5 s here).
    const takeover = firstT((o) => o.subject === "lease" && o.holder === "pg-2")!;
    expect(leaseHolders()).toEqual(["pg-1", "pg-2"]);
    expect(takeover - target).toBeGreaterThanOrEqual(world.scaled(LEASE_DURATION_S) - 50);
    expect(world.log).toContain("pg-2: lease claimed (taken over from pg-1)");
    // currentPrimary flips first; the label follows on the operator's next pass; rw moves with it.
    const current = firstT((o) => o.subject === "cluster" && o.currentPrimary === "pg-2")!;
    const label = firstT((o) => o.subject === "pod" && o.name === "pg-2" && o.role === "primary")!;
    const rw = recorded.find((o) => o.kind === "endpoint" && o.node === "pg-2")!.t;
    expect(current).toBeGreaterThan(takeover - 1);
    expect(label).toBeGreaterThanOrEqual(current);
    expect(rw).toBeGreaterThanOrEqual(label);
    // The rw Service routed nowhere from the kill until then.
    expect(kubeEvents().some((o) => o.subject === "endpoints" && o.ready?.length === 0 && o.t >= killedAt && o.t <= rw)).toBe(true);
    // pg-1 comes back under its name, with no role label, then as a replica.
    expect(podRoles("pg-1")).toEqual(["primary", "deleted", null, "replica"]);

    const { metrics, valid } = operatorChecker.check(history(killedAt));
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ observed: true, newPrimary: "pg-2", rwObserved: true, leaseReleased: false, multiplePrimaryLabelsMs: 0 });
    expect(metrics.leaseAcquiredAfterMs!).toBeGreaterThanOrEqual(world.scaled(LEASE_DURATION_S));
    expect(metrics.rwMovedAfterMs!).toBeGreaterThanOrEqual(metrics.promotedAfterMs!);
    expect(metrics.noRwEndpointMs!).toBeGreaterThan(world.scaled(LEASE_DURATION_S) - 100);
  });

  it("delete primary with a grace period: the instance manager releases the Lease on its way out, so the take-over is quick", async () => {
    const deletedAt = Date.now() - t0;
    await kube.deletePod(NS, "pg-1", 30);
    await waitFor(() => observer.rwEndpoint() === "pg-2", 10_000);
    expect(leaseHolders()).toEqual(["pg-1", null, "pg-2"]);
    expect(world.log).toContain("pg-2: lease claimed (released)");
    const { metrics } = operatorChecker.check(history(deletedAt));
    expect(metrics.leaseReleased).toBe(true);
    expect(metrics.leaseAcquiredAfterMs!).toBeLessThan(world.scaled(LEASE_DURATION_S));
  });

  it("a primary that is not Ready (its pod kept): labelled unhealthy when the failover starts, relabelled replica once currentPrimary == targetPrimary", async () => {
    fake.patch("/api/v1", NS, "pods", "pg-1", { status: { conditions: [{ type: "Ready", status: "False" }] } });
    await waitFor(() => observer.status.currentPrimary === "pg-2" && podRoles("pg-1").at(-1) === "replica", 10_000);
    expect(podRoles("pg-1")).toEqual(["primary", "unhealthy", "replica"]);
    const unhealthy = firstT((o) => o.subject === "pod" && o.name === "pg-1" && o.role === "unhealthy")!;
    const pending = firstT((o) => o.subject === "cluster" && o.targetPrimary === "pending")!;
    const current = firstT((o) => o.subject === "cluster" && o.currentPrimary === "pg-2")!;
    expect(Math.abs(unhealthy - pending)).toBeLessThan(100);
    expect(firstT((o) => o.subject === "pod" && o.name === "pg-1" && o.role === "replica")!).toBeGreaterThanOrEqual(current);
  });

  it("a switchover acts on status.targetPrimary alone: old primary unhealthy, Lease released and claimed, currentPrimary, then pods relabelled one at a time in name order", async () => {
    await kube.patchClusterStatus(NS, "pg", { status: { targetPrimary: "pg-3", targetPrimaryTimestamp: "2026-07-01T10:00:00.000000Z" } });
    await waitFor(() => observer.rwEndpoint() === "pg-3" && observer.status.phase === "Cluster in healthy state", 10_000);
    expect(podRoles("pg-1")).toEqual(["primary", "unhealthy", "replica"]);
    expect(podRoles("pg-3")).toEqual(["replica", "primary"]);
    expect(leaseHolders()).toEqual(["pg-1", null, "pg-3"]);
    const relabels = kubeEvents().filter((o) => o.subject === "pod" && o.t >= firstT((e) => e.subject === "cluster" && e.currentPrimary === "pg-3")!);
    expect(relabels.map((o) => `${o.name}=${o.role}`)).toEqual(["pg-1=replica", "pg-3=primary"]);
    // Released cleanly: no wait for the lease duration.
    const released = firstT((o) => o.subject === "lease" && o.holder === null)!;
    expect(firstT((o) => o.subject === "lease" && o.holder === "pg-3")! - released).toBeLessThan(world.scaled(LEASE_DURATION_S));
  });

  it("no failover while the operator is down, but only for its replacement's start-up: the killed operator (grace 0) releases its leader lease, so the replacement leads in seconds, not after the 15 s lease", async () => {
    const operatorPod = (await kube.listPods("cnpg-system", "app.kubernetes.io/name=cloudnative-pg")).pods[0]!.metadata!.name!;
    const leaderLease = () => fake.get("/apis/coordination.k8s.io/v1", "cnpg-system", "leases", OPERATOR_LEADER_LEASE)?.spec as { holderIdentity?: string | null; leaseDurationSeconds?: number } | undefined;
    expect(leaderLease()?.holderIdentity).toBe(`${operatorPod}_fake`);
    const operatorKilledAt = Date.now() - t0;
    await kube.deletePod("cnpg-system", operatorPod, 0);
    // The kubelet's SIGTERM stops the manager, which gives the lease up (LeaderElectionReleaseOnCancel) within the 2 s grace.
    await waitFor(() => world.log.includes(`operator: ${operatorPod} released the leader lease`), world.scaled(2));
    expect(leaderLease()).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect(world.operatorLeading).toBe(false);
    // The replacement pod runs at once but does not lead until its manager has started.
    const replacement = (await kube.listPods("cnpg-system", "app.kubernetes.io/name=cloudnative-pg")).pods.map((pod) => pod.metadata!.name!);
    expect(replacement).toHaveLength(1);
    expect(replacement[0]).not.toBe(operatorPod);
    // The primary killed 2 s (scaled) after the operator, as cnpg-kill-operator-then-primary does: nothing moves while no operator leads.
    await sleep(world.scaled(2) - (Date.now() - t0 - operatorKilledAt));
    await kube.deletePod(NS, "pg-1", 0);
    await sleep(world.scaled(1));
    expect(observer.status.targetPrimary).toBe("pg-1");
    expect(kubeEvents().some((o) => o.subject === "cluster" && o.t > operatorKilledAt)).toBe(false);
    await waitFor(() => kubeEvents().some((o) => o.subject === "cluster" && o.phase === "Failing over"), 10_000);
    expect(world.operatorLeading).toBe(true);
    expect(leaderLease()?.holderIdentity).toBe(`${replacement[0]}_fake`);
    // Real run: the first write ("Failing over") 4.2 s after the operator's delete; a held lease would have made it 15 s or more.
    const failingOver = firstT((o) => o.subject === "cluster" && o.phase === "Failing over")! - operatorKilledAt;
    expect(failingOver).toBeGreaterThanOrEqual(world.scaled(3.9));
    expect(failingOver).toBeLessThan(world.scaled(6));
    expect(failingOver).toBeLessThan(world.scaled(OPERATOR_LEASE_S));
    const lines = [`operator: ${operatorPod} gone (grace 0), stopping`, `operator: ${operatorPod} released the leader lease`, `operator: ${replacement[0]} leads`, "operator: failover from pg-1 initiated"];
    expect(world.log.filter((line) => lines.includes(line)), world.log.join("\n")).toEqual(lines);
    await waitFor(() => observer.rwEndpoint() === "pg-2", 10_000);
  });

  it("fencing the primary stops PostgreSQL (not Ready, rw routes nowhere) and no failover happens; lifting it brings it back as primary", async () => {
    await kube.patchCluster(NS, "pg", { metadata: { annotations: { "cnpg.io/fencedInstances": '["pg-1"]' } } });
    await waitFor(() => kubeEvents().some((o) => o.subject === "endpoints" && o.ready?.length === 0));
    await sleep(world.scaled(LEASE_DURATION_S) + 300);
    expect(observer.status.targetPrimary).toBe("pg-1");
    expect(kubeEvents().some((o) => o.subject === "cluster" && o.targetPrimary === "pending")).toBe(false);
    expect(observer.rwEndpoint()).toBeNull();
    await kube.patchCluster(NS, "pg", { metadata: { annotations: { "cnpg.io/fencedInstances": null } } });
    await waitFor(() => observer.rwEndpoint() === "pg-1", 5000);
    expect(world.log).not.toContain("operator: failover from pg-1 initiated");
    expect(world.log).toEqual(expect.arrayContaining(["pg-1: fenced, postgres stopped", "pg-1: unfenced"]));
  });
});
