/**
 * The cnpg target's watches, against the FAKE Kubernetes API (test/fake-kube): label flips, the
 * role label vanishing mid-failover, targetPrimary "pending", the primary Lease, the rw Service's
 * EndpointSlices, 410 Gone, dropped connections and a refusing API server. The world here has no
 * operator running: each test scripts what Kubernetes shows. Asserts on what the observer records
 * for the History.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { ClusterObserver } from "../../harness/targets/cnpg/observer.ts";
import type { Observation } from "../../harness/targets/types.ts";
import { CnpgWorld } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";
import { waitFor } from "../fake-kube/wait.ts";

const NS = "drill";
let fake: FakeKubeApi;
let world: CnpgWorld;
let kube: Kube;
let observer: ClusterObserver | null;
let recorded: Observation[];
let logs: string[];

beforeEach(async () => {
  fake = new FakeKubeApi();
  const server = await fake.listen();
  world = new CnpgWorld(fake, { namespace: NS, cluster: "pg", instances: 3 });
  kube = new Kube(loadKube({ yaml: fake.kubeconfig(server, "fake-kube") }));
  // The Cluster exists and the fake operator has bootstrapped it.
  fake.put("/apis/postgresql.cnpg.io/v1", "clusters", { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: NS }, spec: { instances: 3 } });
  (world as unknown as { bootstrap(): void }).bootstrap();
  await waitFor(() => world.pod("pg-3") !== undefined && world.cluster()?.status !== undefined && fake.get("/apis/discovery.k8s.io/v1", NS, "endpointslices", "pg-rw-fk7q") !== undefined);
  recorded = [];
  logs = [];
  observer = new ClusterObserver(kube, { namespace: NS, cluster: "pg", record: (o) => recorded.push(o), log: (line) => logs.push(line) });
  await observer.start();
  await waitFor(() => fake.openWatches === 4);
});

afterEach(async () => {
  await observer?.stop();
  await world.close();
  await fake.close();
});

const podRoles = (name: string) => recorded.filter((o) => o.kind === "k8s" && o.subject === "pod" && o.name === name).map((o) => (o.kind === "k8s" ? o.role : undefined));

describe("ClusterObserver on the fake Kubernetes API", () => {
  it("lists the pods, the Cluster, the primary Lease and the rw EndpointSlices first, so the picture is complete before the drill starts", () => {
    expect(observer!.primaries()).toEqual(["pg-1"]);
    expect(observer!.replicas()).toEqual(["pg-2", "pg-3"]);
    expect(observer!.status.currentPrimary).toBe("pg-1");
    expect(observer!.watchesEndpoints).toBe(true);
    expect(observer!.rwEndpoint()).toBe("pg-1");
    expect(recorded).toContainEqual({ kind: "endpoint", endpoint: "rw", node: "pg-1" });
    expect(recorded).toContainEqual({ kind: "k8s", subject: "endpoints", name: "pg-rw", ready: ["pg-1"] });
    expect(recorded.find((o) => o.kind === "k8s" && o.subject === "lease")).toMatchObject({ name: "pg", holder: "pg-1", leaseDurationSeconds: 15, renewTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/) });
    // Only instance pods (cnpg.io/podRole=instance): the completed initdb Job's pod carries the cluster and instance labels too.
    expect(world.fake.get("/api/v1", NS, "pods", "pg-1-initdb-7xk2p")).toBeDefined();
    expect(recorded.filter((o) => o.kind === "k8s" && o.subject === "pod").map((o) => (o.kind === "k8s" ? o.name : ""))).toEqual(["pg-1", "pg-2", "pg-3"]);
    expect(fake.requests.find((r) => r.path === `/api/v1/namespaces/${NS}/pods` && r.query.watch === "true")?.query.labelSelector).toBe("cnpg.io/cluster=pg,cnpg.io/podRole=instance");
  });

  it("records each renewal of the primary Lease and its release, from the Lease's own watch", async () => {
    const lease = (o: Observation) => o.kind === "k8s" && o.subject === "lease";
    fake.patch("/apis/coordination.k8s.io/v1", NS, "leases", "pg", { spec: { renewTime: "2026-07-01T10:00:02.123456Z" } });
    fake.patch("/apis/coordination.k8s.io/v1", NS, "leases", "pg", { spec: { holderIdentity: null, leaseDurationSeconds: 1 } });
    await waitFor(() => recorded.filter(lease).length >= 3);
    expect(recorded.filter(lease).slice(1).map((o) => (o.kind === "k8s" ? [o.holder, o.renewTime, o.leaseDurationSeconds] : []))).toEqual([
      ["pg-1", "2026-07-01T10:00:02.123456Z", 15],
      [null, "2026-07-01T10:00:02.123456Z", 1],
    ]);
    expect(observer!.lease?.holder).toBeNull();
  });

  it("records a failover as Kubernetes shows it: pending target, the label vanishing, the new primary, the rw service repointed", async () => {
    world.setStatus({ targetPrimary: "pending", phase: "Failing over" });
    fake.remove("/api/v1", NS, "pods", "pg-1");
    world.setRole("pg-2", null, false);
    await waitFor(() => recorded.some((o) => o.kind === "k8s" && o.subject === "endpoints" && o.ready?.length === 0));
    world.setRole("pg-2", "primary", true);
    world.setStatus({ targetPrimary: "pg-2", currentPrimary: "pg-2", phase: "Waiting for the instances to become active" });
    await waitFor(() => observer!.status.currentPrimary === "pg-2");

    expect(podRoles("pg-1")).toEqual(["primary", "deleted"]);
    // The label vanished (null) before pg-2 was labelled primary: recorded, not skipped.
    expect(podRoles("pg-2")).toEqual(["replica", null, "primary"]);
    const cluster = recorded.filter((o) => o.kind === "k8s" && o.subject === "cluster");
    expect(cluster.map((o) => (o.kind === "k8s" ? o.targetPrimary : undefined))).toEqual(["pg-1", "pending", "pg-2"]);
    await waitFor(() => observer!.rwEndpoint() === "pg-2");
    expect(recorded.filter((o) => o.kind === "endpoint")).toEqual([
      { kind: "endpoint", endpoint: "rw", node: "pg-1" },
      { kind: "endpoint", endpoint: "rw", node: "pg-2" },
    ]);
    // The rw Service's slices routed nowhere in between: recorded as such, no endpoint event invented.
    const slices = recorded.filter((o) => o.kind === "k8s" && o.subject === "endpoints").map((o) => (o.kind === "k8s" ? o.ready : []));
    expect(slices[0]).toEqual(["pg-1"]);
    expect(slices).toContainEqual([]);
    expect(slices.at(-1)).toEqual(["pg-2"]);
    expect(observer!.primaries()).toEqual(["pg-2"]);
  });

  it("two pods labelled primary at once is label overlap: the routing truth is the EndpointSlices, and rw does not flap between them", async () => {
    world.setRole("pg-3", "primary", true);
    await waitFor(() => observer!.primaries().length === 2);
    expect(observer!.primaries()).toEqual(["pg-1", "pg-3"]);
    await waitFor(() => recorded.some((o) => o.kind === "k8s" && o.subject === "endpoints" && o.ready?.length === 2));
    expect(observer!.rwEndpoint()).toBeNull();
    expect(recorded.filter((o) => o.kind === "endpoint")).toHaveLength(1);
  });

  it("an unhealthy role label is recorded as such and leaves the pod out of rw", async () => {
    world.setRole("pg-1", "unhealthy", false);
    await waitFor(() => podRoles("pg-1").length === 2 && observer!.rwEndpoint() === null);
    expect(podRoles("pg-1")).toEqual(["primary", "unhealthy"]);
    expect(observer!.primaries()).toEqual([]);
  });

  it("after 410 Gone it lists again and records what changed while it was not watching, marked as a resync", async () => {
    fake.expireWatches();
    // Changes land while the observer is between watches; the old resource version is now too old.
    world.setRole("pg-3", null, false);
    await waitFor(() => observer!.resyncs >= 1 && fake.openWatches === 4);
    await waitFor(() => podRoles("pg-3").length === 2);
    const change = recorded.find((o) => o.kind === "k8s" && o.name === "pg-3" && o.role === null);
    expect(change).toMatchObject({ resync: true });
    expect(logs.some((line) => line.includes("410 Gone"))).toBe(true);
    // And it keeps watching: a later change arrives through the new watch.
    world.setRole("pg-3", "replica", true);
    await waitFor(() => podRoles("pg-3").length === 3);
    expect(podRoles("pg-3")).toEqual(["replica", null, "replica"]);
  });

  it("survives dropped watch connections and an API server that refuses watches for a while", async () => {
    fake.failNextWatches = 3;
    fake.dropWatches();
    world.setStatus({ phase: "Switchover in progress", targetPrimary: "pg-2" });
    await waitFor(() => observer!.status.targetPrimary === "pg-2", 10_000);
    expect(observer!.resyncs).toBeGreaterThanOrEqual(1);
    expect(logs.some((line) => line.includes("watch ended"))).toBe(true);
    await waitFor(() => fake.openWatches === 4, 10_000);
    world.setRole("pg-2", "primary", true);
    await waitFor(() => observer!.primaries().includes("pg-2"));
  });

  it("waitUntil resolves on the change it waits for and rejects with what it waited for on timeout", async () => {
    const waiting = observer!.waitUntil(() => observer!.status.currentPrimary === "pg-3", 5000, "pg-3 becoming primary");
    world.setStatus({ currentPrimary: "pg-3" });
    await expect(waiting).resolves.toBeUndefined();
    await expect(observer!.waitUntil(() => false, 200, "something that never happens")).rejects.toThrow("something that never happens did not happen within 0 s");
  });
});
