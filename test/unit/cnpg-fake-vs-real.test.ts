/**
 * The fake learns from reality: the FAKE CloudNativePG world (test/fake-kube/cnpg-world.ts), watched
 * by the cnpg target's real observer, must go through a killed primary's failover as the first real
 * run did (kind v1.34.4, CloudNativePG 1.30.0, 3 instances, cnpg-kill-primary: the primary's pod
 * deleted with grace 0; its History is test/fixtures/cnpg/kind/kill-primary/history.jsonl): the same
 * milestones in the same order, the same Cluster states, labels, Lease holders and EndpointSlices,
 * and its timings, scaled back to upstream time, close to the real ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { readHistory } from "../../harness/history/reader.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { clusterManifest } from "../../harness/targets/cnpg/manifests.ts";
import { ClusterObserver } from "../../harness/targets/cnpg/observer.ts";
import { CnpgWorld } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";
import { HEALTHY, byPart, milestoneOrder, partOf, readFailover, sequenceRows, type Failover, type Milestone, type Recorded } from "../fake-kube/failover-sequence.ts";
import { sleep, waitFor } from "../fake-kube/wait.ts";

const REAL = new URL("../fixtures/cnpg/kind/kill-primary/history.jsonl", import.meta.url).pathname;
const NS = "drill";
/** CloudNativePG's durations at a fifth: the whole failover and rejoin (46 s upstream) in about 9 s. */
const SCALE = 0.2;

/** The order both must keep (the real run's, 20 ms or more apart). */
const CHAIN: Milestone[] = ["podDeleted", "failingOver", "pending", "targetNew", "leaseNew", "currentNew", "labelNew", "rwMoved", "waiting", "oldReplica", "healthy"];

/** Upstream seconds after the fault, and how far the fake may be from the real run: the fake's API answers in microseconds, the real one took 0.3 s to delete the pod. */
const WITHIN_S: Partial<Record<Milestone, number>> = { failingOver: 0.5, pending: 0.5, targetNew: 0.8, leaseNew: 1.5, currentNew: 1.5, labelNew: 1.5, recreated: 1.5, rwMoved: 1.5, waiting: 1.5, oldReplica: 2.5, healthy: 3 };

let real: Failover;
let realEvents: HistoryEvent[];
let fake: Failover;
let fakeEvents: Recorded[];
let side: string;

beforeAll(async () => {
  realEvents = (await readHistory(REAL, TARGET_OBSERVATIONS)).events;
  const fault = realEvents.find((event) => event.kind === "fault" && event.phase === "inject")!;
  real = readFailover(realEvents, fault.t, "pgdrill-1");
  ({ failover: fake, events: fakeEvents } = await killPrimaryOnTheFake());
  side = [
    "real (kind v1.34.4, CloudNativePG 1.30.0):",
    ...sequenceRows(realEvents, real.faultT),
    `fake (time scale ${SCALE}, shown in upstream seconds):`,
    ...sequenceRows(fakeEvents, fake.faultT, { scale: SCALE }),
  ].join("\n");
}, 60_000);

afterAll(() => {
  if (process.env.PGDRILL_SHOW_SEQUENCES) console.log(side);
});

/** The fake with 3 instances, watched by the real observer: pg-1's pod deleted with grace 0, recorded until the Cluster is healthy again. */
async function killPrimaryOnTheFake(): Promise<{ failover: Failover; events: Recorded[] }> {
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
    const faultT = performance.now() - t0;
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
  return event.kind === "k8s" && (event as { subject?: string; phase?: string }).subject === "cluster" && (event as { phase?: string }).phase === phase;
}

/** Upstream seconds after the fault. */
const seconds = (failover: Failover, milestone: Milestone, scale: number) => failover.at[milestone]! / 1000 / scale;

const part = partOf;

describe("the fake CloudNativePG 1.30 world beside the first real run (kill primary, grace 0)", { timeout: 30_000 }, () => {
  it("goes through the key transitions in the real order: pod gone, Failing over, pending, the new target, its Lease, currentPrimary, its label, rw moved, the old pod back as a replica, healthy", () => {
    expect(milestoneOrder(real, CHAIN)).toEqual(CHAIN);
    expect(milestoneOrder(fake, CHAIN), side).toEqual(milestoneOrder(real, CHAIN));
    for (const failover of [real, fake]) {
      // The rw Service routed nowhere before the operator even acted.
      expect(failover.at.rwEmpty!, side).toBeLessThan(failover.at.failingOver!);
      // The old pod came back right after the new primary's label, before the phase said so.
      expect(failover.at.recreated!, side).toBeGreaterThanOrEqual(failover.at.labelNew!);
      expect(failover.at.recreated!, side).toBeLessThan(failover.at.waiting!);
    }
  });

  it("says the same in the Cluster's status: Failing over first, then targetPrimary pending, reset to the old primary on every pass until the WAL receivers stop, then the new name", () => {
    expect(real.clusterStates).toEqual([
      "OLD|OLD|Failing over",
      "OLD|pending(↔OLD)|Failing over",
      "OLD|NEW|Failing over",
      "NEW|NEW|Failing over",
      "NEW|NEW|Waiting for the instances to become active",
      "NEW|NEW|Cluster in healthy state",
    ]);
    expect(fake.clusterStates, side).toEqual(real.clusterStates);
    expect(real.resets).toBe(5);
    expect(fake.resets, side).toBeGreaterThanOrEqual(3);
  });

  it("labels pods as the real operator did: the old pod deleted, back with no role, a replica much later; the new primary labelled once; the third untouched", () => {
    expect(byPart(real, real.roles)).toEqual({ OLD: ["deleted", null, "replica"], NEW: ["primary"] });
    expect(byPart(fake, fake.roles), side).toEqual(byPart(real, real.roles));
  });

  it("hands the Lease over as the real one: renewed once more by the dying primary, never released, taken over by the new one in three writes", () => {
    expect(real.holders.map((h) => part(real, h))).toEqual(["OLD", "NEW"]);
    expect(fake.holders.map((h) => part(fake, h)), side).toEqual(["OLD", "NEW"]);
    expect(real.oldRenewals).toBe(1); // at +1.12 s, its pod already gone
    expect(fake.oldRenewals, side).toBeGreaterThanOrEqual(1);
    expect(real.takeoverWrites).toBe(3);
    expect(fake.takeoverWrites, side).toBe(3);
  });

  it("empties the rw Service's EndpointSlices, then lists the new primary alone", () => {
    expect(real.rwReady.map((ready) => ready.map((pod) => part(real, pod)))).toEqual([[], ["NEW"]]);
    expect(fake.rwReady.map((ready) => ready.map((pod) => part(fake, pod))), side).toEqual([[], ["NEW"]]);
  });

  it("keeps the real timings once its time scale is undone: detection 0.6 s, the new target 2.7 s, the Lease 18.9 s, promotion 19.7 s, rw moved 20.0 s, the old pod a replica 38.1 s, healthy 46.3 s", () => {
    const off = Object.entries(WITHIN_S).flatMap(([milestone, within]) => {
      const [r, f] = [seconds(real, milestone as Milestone, 1), seconds(fake, milestone as Milestone, SCALE)];
      return Math.abs(f - r) <= within! ? [] : [`${milestone}: fake ${f.toFixed(2)} s, real ${r.toFixed(2)} s (± ${within} s)`];
    });
    expect(off, side).toEqual([]);
    // The candidate polls every 2 s and takes over at its first poll a full 15 s after its first look (runnable.go tryTakeOver).
    const leaseWait = (failover: Failover, scale: number) => seconds(failover, "leaseNew", scale) - seconds(failover, "targetNew", scale);
    expect(leaseWait(real, 1)).toBeCloseTo(16.2, 1);
    expect(leaseWait(fake, SCALE), side).toBeGreaterThanOrEqual(15);
    expect(leaseWait(fake, SCALE), side).toBeLessThan(17);
    // The election waits for the old primary's SIGKILL, 2 s after the delete; the promotion takes 0.76 s.
    const election = (failover: Failover, scale: number) => seconds(failover, "targetNew", scale) - seconds(failover, "pending", scale);
    expect(election(real, 1)).toBeCloseTo(2.05, 1);
    expect(Math.abs(election(fake, SCALE) - election(real, 1)), side).toBeLessThan(0.8);
    const promotion = (failover: Failover, scale: number) => seconds(failover, "currentNew", scale) - seconds(failover, "leaseNew", scale);
    expect(Math.abs(promotion(fake, SCALE) - promotion(real, 1)), side).toBeLessThan(0.4);
  });
});
