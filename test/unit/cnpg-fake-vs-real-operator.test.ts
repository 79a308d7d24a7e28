/**
 * The fake learns from reality, with the operator killed too: the FAKE CloudNativePG world
 * (test/fake-kube/cnpg-world.ts), watched by the cnpg target's real observer, must go through
 * cnpg-kill-operator-then-primary as the real run did (kind v1.34.4, CloudNativePG 1.30.0, 3
 * instances: the operator's pod deleted with grace 0, the primary's 2.01 s later; its History is
 * test/fixtures/cnpg/kind/kill-operator-then-primary/history.jsonl). pgdrill watches the Cluster's
 * namespace, not the operator's, so the operator shows only in what it writes: its replacement's
 * first write ("Failing over") came 4.20 s after the delete, where a replacement waiting out a
 * leader Lease the killed operator left held (15 s) could not have written before +13 s. Times
 * here are after the operator's delete.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { readHistory } from "../../harness/history/reader.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { clusterManifest } from "../../harness/targets/cnpg/manifests.ts";
import { ClusterObserver } from "../../harness/targets/cnpg/observer.ts";
import { CnpgWorld, OPERATOR_LEASE_S } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";
import { HEALTHY, byPart, milestoneOrder, partOf, readFailover, sequenceRows, type Failover, type Milestone, type Recorded } from "../fake-kube/failover-sequence.ts";
import { sleep, waitFor } from "../fake-kube/wait.ts";

const REAL = new URL("../fixtures/cnpg/kind/kill-operator-then-primary/history.jsonl", import.meta.url).pathname;
/** The run with a running operator, for its detection time. */
const REAL_KILL_PRIMARY = new URL("../fixtures/cnpg/kind/kill-primary/history.jsonl", import.meta.url).pathname;
const NS = "drill";
/** CloudNativePG's durations at a fifth, as cnpg-fake-vs-real.test.ts runs them. */
const SCALE = 0.2;

/** The order both must keep (the real run's, 20 ms or more apart). */
const CHAIN: Milestone[] = ["podDeleted", "failingOver", "pending", "targetNew", "leaseNew", "currentNew", "labelNew", "rwMoved", "waiting", "oldReplica", "healthy"];

/**
 * Upstream seconds after the operator's delete, and how far the fake may be from the real run. Not
 * the old primary's rejoin (oldReplica, healthy): 3.0 s in this run, 18.2 s in kill-primary; the
 * fake takes 18 s.
 */
const WITHIN_S: Partial<Record<Milestone, number>> = { podDeleted: 0.3, failingOver: 0.5, pending: 0.5, targetNew: 0.8, leaseNew: 1.5, currentNew: 1.5, labelNew: 1.5, rwMoved: 1.5, waiting: 1.5 };

let real: Failover;
let realEvents: HistoryEvent[];
/** Seconds between the two faults in the real run. */
let gapS: number;
let fake: Failover;
let fakeEvents: Recorded[];
let side: string;

beforeAll(async () => {
  realEvents = (await readHistory(REAL, TARGET_OBSERVATIONS)).events;
  const faults = realEvents.filter((event) => event.kind === "fault" && event.phase === "inject");
  expect(faults.map((fault) => (fault.kind === "fault" ? fault.label : ""))).toEqual([
    expect.stringMatching(/^kill operator \(pod delete, grace 0\)/),
    expect.stringMatching(/^kill primary \(pod delete, grace 0\) \(pgdrill-1\)$/),
  ]);
  gapS = (faults[1]!.t - faults[0]!.t) / 1000;
  real = readFailover(realEvents, faults[0]!.t, "pgdrill-1");
  ({ failover: fake, events: fakeEvents } = await killOperatorThenPrimaryOnTheFake(gapS));
  side = [
    "real (kind v1.34.4, CloudNativePG 1.30.0), after the operator's delete:",
    ...sequenceRows(realEvents, real.faultT),
    `fake (time scale ${SCALE}, shown in upstream seconds):`,
    ...sequenceRows(fakeEvents, fake.faultT, { scale: SCALE }),
  ].join("\n");
}, 60_000);

afterAll(() => {
  if (process.env.PGDRILL_SHOW_SEQUENCES) console.log(side);
});

/** The fake with 3 instances, watched by the real observer: the operator's pod deleted with grace 0, pg-1's `gap` (upstream) seconds later, recorded until the Cluster is healthy again. */
async function killOperatorThenPrimaryOnTheFake(gap: number): Promise<{ failover: Failover; events: Recorded[] }> {
  const api = new FakeKubeApi();
  const kube = new Kube(loadKube({ yaml: api.kubeconfig(await api.listen(), "fake-kube") }));
  const world = new CnpgWorld(api, { namespace: NS, cluster: "pg", instances: 3, timeScale: SCALE, podStartMs: 150 });
  const events: Recorded[] = [];
  const t0 = performance.now();
  const observer = new ClusterObserver(kube, { namespace: NS, cluster: "pg", record: (o) => events.push({ ...o, t: performance.now() - t0 }), log: () => undefined });
  try {
    world.installOperator();
    await kube.createNamespace(NS, {});
    await kube.create(clusterManifest(cnpgTarget.parse({ kind: "cnpg", name: "pg" }), NS, "run1"));
    await waitFor(() => world.cluster()?.status !== undefined && api.get("/apis/discovery.k8s.io/v1", NS, "endpointslices", "pg-rw-fk7q") !== undefined);
    await observer.start();
    await sleep(world.scaled(5)); // a few Lease renewals first
    const operatorPod = (await kube.listPods("cnpg-system", "app.kubernetes.io/name=cloudnative-pg")).pods[0]!.metadata!.name!;
    const faultT = performance.now() - t0;
    await kube.deletePod("cnpg-system", operatorPod, 0);
    await sleep(world.scaled(gap) - (performance.now() - t0 - faultT));
    await kube.deletePod(NS, "pg-1", 0);
    await waitFor(() => events.some((e) => e.t > faultT && isClusterPhase(e, HEALTHY)), 30_000);
    return { failover: readFailover(events, faultT, "pg-1", 500 * SCALE), events };
  } finally {
    await observer.stop();
    await world.close();
    await api.close();
  }
}

function isClusterPhase(event: Recorded, phase: string): boolean {
  return event.kind === "k8s" && (event as { subject?: string }).subject === "cluster" && (event as { phase?: string }).phase === phase;
}

/** Upstream seconds after the operator's delete. */
const seconds = (failover: Failover, milestone: Milestone, scale: number) => failover.at[milestone]! / 1000 / scale;
const part = partOf;
/** The Cluster's writes after the operator's delete, as "phase|targetPrimary", in upstream seconds. */
function clusterWrites(events: readonly Recorded[], failover: Failover, scale: number): Array<{ s: number; what: string }> {
  return events
    .filter((e) => e.kind === "k8s" && (e as { subject?: string }).subject === "cluster" && e.t >= failover.faultT)
    .map((e) => ({ s: (e.t - failover.faultT) / 1000 / scale, what: `${(e as { phase?: string }).phase}|${part(failover, (e as { targetPrimary?: string }).targetPrimary ?? null)}` }));
}

describe("the fake CloudNativePG 1.30 world beside the real cnpg-kill-operator-then-primary (operator's pod deleted with grace 0, then the primary's)", { timeout: 30_000 }, () => {
  it("the replacement operator acts within seconds, not after a held 15 s leader lease: its first write, Failing over, 4.2 s after the operator's delete", async () => {
    const realWrites = clusterWrites(realEvents, real, 1);
    expect(realWrites[0]!.what).toBe("Failing over|OLD");
    expect(realWrites[0]!.s).toBeCloseTo(4.2, 1);
    // 2.1 s after the primary's pod was gone, where a running operator took 0.29 s (kill-primary): the replacement's start-up.
    const killPrimary = (await readHistory(REAL_KILL_PRIMARY, TARGET_OBSERVATIONS)).events;
    const running = readFailover(killPrimary, killPrimary.find((e) => e.kind === "fault" && e.phase === "inject")!.t, "pgdrill-1");
    expect((running.at.failingOver! - running.at.podDeleted!) / 1000).toBeCloseTo(0.29, 1);
    expect((real.at.failingOver! - real.at.podDeleted!) / 1000).toBeCloseTo(2.08, 1);

    const fakeWrites = clusterWrites(fakeEvents, fake, SCALE);
    expect(fakeWrites[0]?.what, side).toBe("Failing over|OLD");
    expect(Math.abs(fakeWrites[0]!.s - realWrites[0]!.s), side).toBeLessThanOrEqual(0.5);
    // Nowhere near the leader lease a killed operator would have left held (15 s, renewed every 2 s).
    expect(fakeWrites[0]!.s, side).toBeLessThan(OPERATOR_LEASE_S - 2);
  });

  it("goes through the key transitions in the real order: primary's pod gone, Failing over, pending, the new target, its Lease, currentPrimary, its label, rw moved, the old pod back as a replica, healthy", () => {
    expect(milestoneOrder(real, CHAIN)).toEqual(CHAIN);
    expect(milestoneOrder(fake, CHAIN), side).toEqual(milestoneOrder(real, CHAIN));
    for (const failover of [real, fake]) {
      // The rw Service routed nowhere long before the replacement operator acted.
      expect(failover.at.rwEmpty!, side).toBeLessThan(failover.at.failingOver!);
      expect(failover.at.recreated!, side).toBeGreaterThanOrEqual(failover.at.labelNew!);
    }
  });

  it("says the same in the Cluster's status, labels, Lease and EndpointSlices", () => {
    expect(real.clusterStates).toEqual([
      "OLD|OLD|Failing over",
      "OLD|pending(↔OLD)|Failing over",
      "OLD|NEW|Failing over",
      "NEW|NEW|Failing over",
      "NEW|NEW|Waiting for the instances to become active",
      "NEW|NEW|Cluster in healthy state",
    ]);
    expect(fake.clusterStates, side).toEqual(real.clusterStates);
    expect(real.resets).toBe(1);
    expect(fake.resets, side).toBeGreaterThanOrEqual(1);
    expect(byPart(real, real.roles)).toEqual({ OLD: ["deleted", null, "replica"], NEW: ["primary"] });
    expect(byPart(fake, fake.roles), side).toEqual(byPart(real, real.roles));
    // The primary's Lease: renewed before and during its pod's grace, never released, taken over in three writes.
    expect(real.holders.map((h) => part(real, h))).toEqual(["OLD", "NEW"]);
    expect(fake.holders.map((h) => part(fake, h)), side).toEqual(["OLD", "NEW"]);
    expect(real.oldRenewals).toBe(2);
    expect(fake.oldRenewals, side).toBeGreaterThanOrEqual(1);
    expect(real.takeoverWrites).toBe(3);
    expect(fake.takeoverWrites, side).toBe(3);
    expect(real.rwReady.map((ready) => ready.map((pod) => part(real, pod)))).toEqual([[], ["NEW"]]);
    expect(fake.rwReady.map((ready) => ready.map((pod) => part(fake, pod))), side).toEqual([[], ["NEW"]]);
  });

  it("keeps the real timings once its time scale is undone: Failing over 4.2 s, the new target 5.1 s, the Lease 21.3 s, promotion 22.2 s, rw moved 22.6 s", () => {
    const off = Object.entries(WITHIN_S).flatMap(([milestone, within]) => {
      const [r, f] = [seconds(real, milestone as Milestone, 1), seconds(fake, milestone as Milestone, SCALE)];
      return Math.abs(f - r) <= within! ? [] : [`${milestone}: fake ${f.toFixed(2)} s, real ${r.toFixed(2)} s (± ${within} s)`];
    });
    expect(off, side).toEqual([]);
    // The new primary waited the primary Lease out (the old primary's SIGKILL left it held).
    const leaseWait = (failover: Failover, scale: number) => seconds(failover, "leaseNew", scale) - seconds(failover, "targetNew", scale);
    expect(leaseWait(real, 1)).toBeCloseTo(16.15, 1);
    expect(leaseWait(fake, SCALE), side).toBeGreaterThanOrEqual(15);
    expect(leaseWait(fake, SCALE), side).toBeLessThan(17);
  });
});
