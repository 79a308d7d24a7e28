/**
 * A failover as the cnpg observer records it (`k8s` and `endpoint` events), reduced to what a real
 * run and the fake can be compared on: the milestones' times after the fault, the Cluster's status
 * as a sequence of states, each instance's role labels, the Lease's holders, the rw Service's ready
 * endpoints, and rows for people to read both side by side. Times are in ms after the fault, as
 * recorded; divide the fake's by its timeScale to read them as upstream time.
 */
import type { EndpointEvent } from "../../harness/history/events.ts";
import type { KubeEvent } from "../../harness/targets/cnpg/events.ts";

/** Any recorded event: what a History holds, or an observer's observations stamped with their t. */
export interface Recorded {
  kind: string;
  t: number;
}

export const FAILING_OVER = "Failing over";
export const WAITING = "Waiting for the instances to become active";
export const HEALTHY = "Cluster in healthy state";

/** The milestones of a failover after a primary is killed, in the order CloudNativePG 1.30 goes through them. */
export const MILESTONES = [
  "podDeleted", // the old primary's pod gone
  "rwEmpty", // the rw Service's EndpointSlices list no ready pod
  "failingOver", // phase "Failing over"
  "pending", // targetPrimary "pending"
  "targetNew", // targetPrimary names the new primary
  "leaseNew", // the primary Lease held by the new primary
  "currentNew", // currentPrimary is the new primary
  "labelNew", // the new primary's pod labelled primary
  "recreated", // the old primary's pod back under its name, with no role label
  "rwMoved", // the rw Service routes to the new primary
  "waiting", // phase "Waiting for the instances to become active"
  "oldReplica", // the old primary's pod labelled replica
  "healthy", // phase "Cluster in healthy state" again
] as const;
export type Milestone = (typeof MILESTONES)[number];

export interface Failover {
  faultT: number;
  oldPrimary: string;
  newPrimary: string;
  /** ms after the fault; null: not seen. */
  at: Record<Milestone, number | null>;
  /** The Cluster's status after the fault: "current|target|phase" with OLD and NEW for the two primaries, repeats dropped, "pending" and the resets to OLD between its returns folded into one state. */
  clusterStates: string[];
  /** targetPrimary set back to the old primary between "pending" and the new name (cluster_status.go's reset). */
  resets: number;
  /** Role labels of each instance after the fault ("deleted" when its pod went away). */
  roles: Record<string, Array<string | null>>;
  /** The Lease's holders after the fault, repeats dropped (null: released). */
  holders: Array<string | null>;
  /** Renewals the old primary wrote after the fault. */
  oldRenewals: number;
  /** Lease writes by the new primary within `burstMs` of taking it. */
  takeoverWrites: number;
  /** The rw Service's ready endpoints after the fault, repeats dropped. */
  rwReady: string[][];
}

const isKube = (event: Recorded): event is KubeEvent => event.kind === "k8s";
const isEndpoint = (event: Recorded): event is EndpointEvent => event.kind === "endpoint";

/**
 * Reads the failover after the fault at `faultT` of `oldPrimary`: the new primary is the first
 * other currentPrimary recorded after it. `burstMs` is how close Lease writes count as one
 * acquisition (scale it with the fake's time).
 */
export function readFailover(events: readonly Recorded[], faultT: number, oldPrimary: string, burstMs = 500): Failover {
  const after = events.filter((event) => event.t >= faultT);
  const kube = after.filter(isKube);
  const newPrimary = kube.find((event) => event.subject === "cluster" && event.currentPrimary !== undefined && event.currentPrimary !== oldPrimary)?.currentPrimary;
  if (newPrimary === undefined) throw new Error(`no new currentPrimary after the fault at ${faultT}`);
  const first = (predicate: (event: KubeEvent) => boolean, from: number | null = faultT): number | null => {
    if (from === null) return null;
    const found = kube.find((event) => event.t >= from && predicate(event));
    return found ? found.t - faultT : null;
  };
  const since = (milestone: number | null) => (milestone === null ? null : faultT + milestone);
  const cluster = (event: KubeEvent) => event.subject === "cluster";
  const podDeleted = first((e) => e.subject === "pod" && e.name === oldPrimary && e.role === "deleted");
  const currentNew = first((e) => cluster(e) && e.currentPrimary === newPrimary);
  const recreated = first((e) => e.subject === "pod" && e.name === oldPrimary && e.role === null, since(podDeleted));
  const rwMoved = after.find((event) => isEndpoint(event) && event.endpoint === "rw" && event.node === newPrimary);
  const leaseNew = first((e) => e.subject === "lease" && e.holder === newPrimary);
  const pending = first((e) => cluster(e) && e.targetPrimary === "pending");
  const targetNew = first((e) => cluster(e) && e.targetPrimary === newPrimary);
  const at: Record<Milestone, number | null> = {
    podDeleted,
    rwEmpty: first((e) => e.subject === "endpoints" && (e.ready ?? []).length === 0),
    failingOver: first((e) => cluster(e) && e.phase === FAILING_OVER),
    pending,
    targetNew,
    leaseNew,
    currentNew,
    labelNew: first((e) => e.subject === "pod" && e.name === newPrimary && e.role === "primary"),
    recreated,
    rwMoved: rwMoved ? rwMoved.t - faultT : null,
    waiting: first((e) => cluster(e) && e.phase === WAITING, since(currentNew)),
    oldReplica: first((e) => e.subject === "pod" && e.name === oldPrimary && e.role === "replica", since(recreated)),
    healthy: first((e) => cluster(e) && e.phase === HEALTHY, since(currentNew)),
  };

  const name = (pod: string | undefined) => (pod === oldPrimary ? "OLD" : pod === newPrimary ? "NEW" : (pod ?? "-"));
  const clusterStates: string[] = [];
  let pendingSeen = false;
  for (const event of kube.filter(cluster)) {
    const [current, target] = [name(event.currentPrimary), name(event.targetPrimary)];
    pendingSeen ||= target === "pending";
    // "pending", and the resets to the old primary between its returns, are one state of the election.
    const electing = current === "OLD" && (target === "pending" || (target === "OLD" && pendingSeen));
    const state = `${current}|${electing ? "pending(↔OLD)" : target}|${event.phase ?? "-"}`;
    if (clusterStates.at(-1) !== state) clusterStates.push(state);
  }
  const targets = kube.filter((e) => cluster(e) && e.targetPrimary !== undefined && (pending === null || e.t >= faultT + pending) && (targetNew === null || e.t < faultT + targetNew));

  const roles: Record<string, Array<string | null>> = {};
  for (const event of kube.filter((e) => e.subject === "pod")) (roles[event.name] ??= []).push(event.role ?? null);

  const leases = kube.filter((e) => e.subject === "lease");
  const holders = leases.map((e) => e.holder ?? null).filter((holder, i, all) => i === 0 || holder !== all[i - 1]);
  const rwReady = kube.filter((e) => e.subject === "endpoints").map((e) => e.ready ?? []).filter((ready, i, all) => i === 0 || ready.join() !== all[i - 1]!.join());
  return {
    faultT,
    oldPrimary,
    newPrimary,
    at,
    clusterStates,
    resets: targets.filter((e) => e.targetPrimary === oldPrimary).length,
    roles,
    holders,
    oldRenewals: leases.filter((e) => e.holder === oldPrimary && (leaseNew === null || e.t < faultT + leaseNew)).length,
    takeoverWrites: leaseNew === null ? 0 : leases.filter((e) => e.holder === newPrimary && e.t - faultT - leaseNew <= burstMs).length,
    rwReady,
  };
}

/** The milestones seen, ordered by time (ties in recording order). */
export function milestoneOrder(failover: Failover, only: readonly Milestone[] = MILESTONES): Milestone[] {
  return only.filter((m) => failover.at[m] !== null).sort((a, b) => failover.at[a]! - failover.at[b]!);
}

/**
 * The `k8s` and `endpoint` events from `beforeMs` before the fault to `untilMs` after it, one row
 * each: time after the fault in upstream seconds (divided by `scale`), subject, name and fields.
 * Lease renewals by a holder that held it before are left out unless `renewals` is set.
 */
export function sequenceRows(events: readonly Recorded[], faultT: number, options: { scale?: number; beforeMs?: number; untilMs?: number; renewals?: boolean } = {}): string[] {
  const { scale = 1, beforeMs = 1000 * scale, untilMs = 60_000 * scale, renewals = false } = options;
  const rows: string[] = [];
  let holder: string | null | undefined;
  let holderSince = 0;
  for (const event of events) {
    if (!isKube(event) && !isEndpoint(event)) continue;
    if (isKube(event) && event.subject === "lease") {
      const next = event.holder ?? null;
      if (next !== holder) [holder, holderSince] = [next, event.t];
      else if (!renewals && event.t - holderSince > 500 * scale && !(event.t >= faultT && holderSince < faultT)) continue;
    }
    if (event.t < faultT - beforeMs || event.t > faultT + untilMs) continue;
    const seconds = ((event.t - faultT) / 1000 / scale).toFixed(3).padStart(8);
    const { kind, t: _t, ...fields } = event;
    const head = isKube(event) ? `${event.subject} ${event.name}` : `${kind} ${event.endpoint}`;
    const rest = Object.entries(fields).filter(([key]) => key !== "subject" && key !== "name" && key !== "endpoint" && key !== "renewTime");
    rows.push(`${seconds} s  ${head.padEnd(22)} ${rest.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(" ")}`);
  }
  return rows;
}

/** A pod as its part in the failover: OLD (the primary that went), NEW (the one promoted), else its name. */
export function partOf(failover: Pick<Failover, "oldPrimary" | "newPrimary">, pod: string | null): string | null {
  return pod === failover.oldPrimary ? "OLD" : pod === failover.newPrimary ? "NEW" : pod;
}

/** Per-pod values keyed by the pod's part: OLD, NEW or OTHER. */
export function byPart<T>(failover: Pick<Failover, "oldPrimary" | "newPrimary">, values: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(values).map(([pod, value]) => [pod === failover.oldPrimary ? "OLD" : pod === failover.newPrimary ? "NEW" : "OTHER", value]));
}
