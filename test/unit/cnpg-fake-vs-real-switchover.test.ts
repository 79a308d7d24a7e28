/**
 * The fake learns from reality, for a planned switchover: the FAKE CloudNativePG world
 * (test/fake-kube/cnpg-world.ts), watched by the cnpg target's real observer, must go through a
 * switchover as the real cnpg-switchover did (kind v1.34.4, CloudNativePG 1.30.0, 3 instances:
 * status.targetPrimary set to pgdrill-2, as `kubectl cnpg promote` does; its History is
 * test/fixtures/cnpg/kind/switchover/history.jsonl). Times are after the switchover's start.
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
import { byPart, partOf, readFailover, sequenceRows, type Failover, type Recorded } from "../fake-kube/failover-sequence.ts";
import { sleep, waitFor } from "../fake-kube/wait.ts";

const REAL = new URL("../fixtures/cnpg/kind/switchover/history.jsonl", import.meta.url).pathname;
const NS = "drill";
/** CloudNativePG's durations at a fifth, as the other comparisons run them. */
const SCALE = 0.2;

/** A switchover's milestones, in the real run's order. */
const STEPS = ["targetNew", "oldUnhealthy", "rwEmpty", "leaseReleased", "leaseNew", "currentNew", "oldReplica", "labelNew", "rwMoved"] as const;
type Step = (typeof STEPS)[number];
/** Upstream seconds after the switchover's start, and how far the fake may be from the real run. */
const WITHIN_S: Record<Step, number> = { targetNew: 0.3, oldUnhealthy: 0.3, rwEmpty: 0.3, leaseReleased: 0.5, leaseNew: 0.5, currentNew: 0.5, oldReplica: 0.5, labelNew: 0.5, rwMoved: 0.5 };

interface Switchover {
  failover: Failover;
  /** The Lease's holders from the one before the start (a renewal may or may not fall between the start and the release), repeats dropped. */
  holders: Array<string | null>;
  /** ms after the switchover's start. */
  at: Record<Step, number | null>;
}

let real: Switchover;
let realEvents: HistoryEvent[];
let fake: Switchover;
let fakeEvents: Recorded[];
let side: string;

beforeAll(async () => {
  realEvents = (await readHistory(REAL, TARGET_OBSERVATIONS)).events;
  const start = realEvents.find((event) => event.kind === "action" && event.phase === "start")!;
  real = readSwitchover(realEvents, start.t, "pgdrill-1");
  ({ switchover: fake, events: fakeEvents } = await switchoverOnTheFake());
  side = [
    "real (kind v1.34.4, CloudNativePG 1.30.0), after the switchover's start:",
    ...sequenceRows(realEvents, real.failover.faultT, { untilMs: 12_000 }),
    `fake (time scale ${SCALE}, shown in upstream seconds):`,
    ...sequenceRows(fakeEvents, fake.failover.faultT, { scale: SCALE, untilMs: 12_000 * SCALE }),
  ].join("\n");
}, 60_000);

afterAll(() => {
  if (process.env.PGDRILL_SHOW_SEQUENCES) console.log(side);
});

/** readFailover's milestones, and those of a switchover it does not read (the old primary's pod is kept). */
function readSwitchover(events: readonly Recorded[], startT: number, oldPrimary: string): Switchover {
  const failover = readFailover(events, startT, oldPrimary, 500 * (oldPrimary === "pg-1" ? SCALE : 1));
  const first = (predicate: (event: Record<string, unknown>) => boolean) => {
    const found = events.find((event) => event.t >= startT && event.kind === "k8s" && predicate(event as unknown as Record<string, unknown>));
    return found ? found.t - startT : null;
  };
  const { at } = failover;
  const before = events.filter((event) => event.t < startT && event.kind === "k8s" && (event as { subject?: string }).subject === "lease").at(-1) as { holder?: string | null } | undefined;
  const holders = [before?.holder ?? null, ...failover.holders].filter((holder, i, all) => i === 0 || holder !== all[i - 1]);
  return {
    failover,
    holders,
    at: {
      targetNew: at.targetNew,
      oldUnhealthy: first((e) => e.subject === "pod" && e.name === oldPrimary && e.role === "unhealthy"),
      rwEmpty: at.rwEmpty,
      leaseReleased: first((e) => e.subject === "lease" && e.holder === null),
      leaseNew: at.leaseNew,
      currentNew: at.currentNew,
      oldReplica: first((e) => e.subject === "pod" && e.name === oldPrimary && e.role === "replica"),
      labelNew: at.labelNew,
      rwMoved: at.rwMoved,
    },
  };
}

/** The fake with 3 instances, watched by the real observer: status.targetPrimary set to pg-2, recorded until the old primary is back Ready and a while after. */
async function switchoverOnTheFake(): Promise<{ switchover: Switchover; events: Recorded[] }> {
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
    const startT = performance.now() - t0;
    await kube.patchClusterStatus(NS, "pg", { status: { targetPrimary: "pg-2", targetPrimaryTimestamp: new Date().toISOString().replace("Z", "000Z") } });
    const ready = () => ((world.pod("pg-1")?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    await waitFor(() => observer.rwEndpoint() === "pg-2" && world.pod("pg-1")?.metadata.labels?.["cnpg.io/instanceRole"] === "replica", 10_000);
    await waitFor(ready, 10_000);
    await sleep(world.scaled(3)); // any phase written after the old primary is back
    return { switchover: readSwitchover(events, startT, "pg-1"), events };
  } finally {
    await observer.stop();
    await world.close();
    await api.close();
  }
}

/** Upstream seconds after the switchover's start. */
const seconds = (switchover: Switchover, step: Step, scale: number) => switchover.at[step]! / 1000 / scale;
const part = partOf;
const order = (switchover: Switchover) => STEPS.filter((step) => switchover.at[step] !== null).sort((a, b) => switchover.at[a]! - switchover.at[b]!);

describe("the fake CloudNativePG 1.30 world beside the real cnpg-switchover", { timeout: 30_000 }, () => {
  it("goes through the key transitions in the real order: the new target, the old primary unhealthy and out of rw, its Lease released, taken by the new one, currentPrimary, then both labels, rw moved", () => {
    expect(order(real)).toEqual([...STEPS]);
    expect(order(fake), side).toEqual(order(real));
  });

  it("says the same in the Cluster's status: the phase stays healthy throughout (the old primary's pod is never inactive)", () => {
    expect(real.failover.clusterStates).toEqual(["OLD|NEW|Cluster in healthy state", "NEW|NEW|Cluster in healthy state"]);
    expect(fake.failover.clusterStates, side).toEqual(real.failover.clusterStates);
  });

  it("labels, Lease and EndpointSlices as the real one: the old primary unhealthy then a replica, the new one primary; the Lease released and taken in three writes; rw empty, then the new primary", () => {
    expect(byPart(real.failover, real.failover.roles)).toEqual({ OLD: ["unhealthy", "replica"], NEW: ["primary"] });
    expect(byPart(fake.failover, fake.failover.roles), side).toEqual(byPart(real.failover, real.failover.roles));
    expect(real.holders.map((h) => part(real.failover, h))).toEqual(["OLD", null, "NEW"]);
    expect(fake.holders.map((h) => part(fake.failover, h)), side).toEqual(["OLD", null, "NEW"]);
    expect(real.failover.takeoverWrites).toBe(3);
    expect(fake.failover.takeoverWrites, side).toBe(3);
    expect(real.failover.rwReady.map((ready) => ready.map((pod) => part(real.failover, pod)))).toEqual([[], ["NEW"]]);
    expect(fake.failover.rwReady.map((ready) => ready.map((pod) => part(fake.failover, pod))), side).toEqual([[], ["NEW"]]);
  });

  it("keeps the real timings once its time scale is undone: Lease released 0.6 s, taken 2.1 s, currentPrimary 2.8 s, labels 4.7 s (1.9 s after currentPrimary), rw moved 4.8 s", () => {
    const off = STEPS.flatMap((step) => {
      const [r, f] = [seconds(real, step, 1), seconds(fake, step, SCALE)];
      return Math.abs(f - r) <= WITHIN_S[step] ? [] : [`${step}: fake ${f.toFixed(2)} s, real ${r.toFixed(2)} s (± ${WITHIN_S[step]} s)`];
    });
    expect(off, side).toEqual([]);
    // The labels wait for the operator's pass to give up on the restarting old primary's instance manager.
    const labelGap = (switchover: Switchover, scale: number) => seconds(switchover, "labelNew", scale) - seconds(switchover, "currentNew", scale);
    expect(labelGap(real, 1)).toBeCloseTo(1.96, 1);
    expect(Math.abs(labelGap(fake, SCALE) - labelGap(real, 1)), side).toBeLessThan(0.4);
  });
});
