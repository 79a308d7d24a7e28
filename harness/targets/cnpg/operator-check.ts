/**
 * The operator's view of a failover, from what Kubernetes said (cnpg target's watches), beside the
 * clients' view the failover checker gives: when the operator promoted, how long targetPrimary
 * stayed "pending", when the primary Lease changed hands (and whether it was released first or
 * waited out), where the rw Service really routed (its EndpointSlices: when it moved, how long it
 * routed nowhere or to two pods), and, as a separate figure, how long no pod or two pods carried
 * the primary label. Label overlap is not a split brain: CloudNativePG patches pods one at a time
 * (pkg/reconciler/instance/metadata.go, ReconcileMetadata), so a switchover shows two primary
 * labels for milliseconds; split brain is the role probe's finding (split-brain.ts), and this check
 * gives no verdict from labels. Targets without an operator record no such events: the check is
 * then valid with `observed: false`.
 */
import { contextOnly, defineChecker, type CheckerOutput } from "../../checker/checker.ts";
import type { HistoryContext } from "../../history/context.ts";
import { FAILING_OVER, type KubeEvent } from "./events.ts";

/** The operator's view (cnpg): from Kubernetes watches, not from clients. The gate's `operator.*` metrics. */
export interface OperatorMetrics {
  observed: boolean;
  /** First fault → the Cluster's currentPrimary changed (ms). */
  promotedAfterMs: number | null;
  newPrimary: string | null;
  /**
   * Time status.targetPrimary was "pending" (ms): from a failover's first "pending" until it named
   * the new primary, across the operator's resets to currentPrimary while the election waits.
   */
  pendingMs: number;
  /** After the first fault: time no pod was labelled primary, so the rw service had no endpoint (ms). */
  noPrimaryLabelMs: number;
  /**
   * Time two or more pods were labelled primary at once (ms). Label overlap only: the operator
   * patches pods one at a time, so a switchover shows it for milliseconds. Not a split brain
   * (that is splitBrain, from the role probe), and no verdict comes from it.
   */
  multiplePrimaryLabelsMs: number;
  /** The rw Service's EndpointSlices were watched (routing truth); false leaves the rw figures null. */
  rwObserved: boolean;
  /** First fault → the rw Service's only ready endpoint became the new primary (ms). */
  rwMovedAfterMs: number | null;
  /** After the first fault: time the rw Service's EndpointSlices had no ready endpoint (ms). */
  noRwEndpointMs: number | null;
  /** Time the rw Service's EndpointSlices listed two or more ready pods at once (ms). */
  multipleRwEndpointsMs: number | null;
  /** First fault → the primary Lease named a new holder (ms); null when no take-over was seen. */
  leaseAcquiredAfterMs: number | null;
  /**
   * How the new holder got the Lease: true when the old holder released it first (a clean
   * hand-over, fast), false when it was taken over while still held (the candidate waited a
   * full leaseDurationSeconds); null when no take-over was seen.
   */
  leaseReleased: boolean | null;
  /** Observations made by listing again after a watch broke. */
  resyncs: number;
}

declare module "../../result.ts" {
  interface Metrics {
    operator: OperatorMetrics;
  }
}

export const operatorChecker = defineChecker({
  empty: (): OperatorMetrics => ({
    observed: false,
    promotedAfterMs: null,
    newPrimary: null,
    pendingMs: 0,
    noPrimaryLabelMs: 0,
    multiplePrimaryLabelsMs: 0,
    rwObserved: false,
    rwMovedAfterMs: null,
    noRwEndpointMs: null,
    multipleRwEndpointsMs: null,
    leaseAcquiredAfterMs: null,
    leaseReleased: null,
    resyncs: 0,
  }),
  // Kubernetes observations are context events: the operations have nothing to add.
  start: (context) => contextOnly(() => checkOperator(context)),
  // The gate's `operator.*` metrics, in the order `pgdrill run --help` and "use one of" list them.
  gate: {
    promotedAfterMs: "cnpg: fault start → the Cluster's currentPrimary changed (ms)",
    noPrimaryLabelMs: "cnpg: time no pod was labelled primary after the first fault (ms)",
    multiplePrimaryLabelsMs: "cnpg: time two pods were labelled primary at once (ms): label overlap, not a split brain",
    leaseAcquiredAfterMs: "cnpg: first fault → the primary Lease named a new holder (ms)",
    rwMovedAfterMs: "cnpg: first fault → the rw Service's only ready endpoint was the new primary (ms, from its EndpointSlices)",
    noRwEndpointMs: "cnpg: after the first fault, time the rw Service had no ready endpoint (ms)",
    multipleRwEndpointsMs: "cnpg: time the rw Service routed to two ready pods at once (ms)",
  },
});

function checkOperator(context: HistoryContext): CheckerOutput<OperatorMetrics> {
  const end = context.lastT;
  const kube = context.events.filter((event): event is KubeEvent => event.kind === "k8s");
  if (kube.length === 0)
    return { valid: true, metrics: operatorChecker.empty(), reason: "no Kubernetes observations (the target has no operator)" };
  // The first in history order (as the History was written), not the earliest t.
  const firstFault = context.disruptions[0]?.t ?? null;

  let currentPrimary: string | undefined;
  let primaryAtFault: string | undefined;
  let promotedAt: number | null = null;
  let newPrimary: string | null = null;
  // targetPrimary "pending": from a failover's first "pending" until it names the new primary. While
  // the election waits (for the replicas' WAL receivers to stop), each operator pass resets
  // "pending" to currentPrimary (cluster_status.go: a targetPrimary naming no active pod) and sets
  // it again: a reset followed by "pending" is the same election, still under way. A reset that
  // stays (the phase moves on from "Failing over", or the History ends) ends it at the reset.
  // The first real run (test/fixtures/cnpg/kind/kill-primary) flipped five times in 2.05 s.
  let pendingSince: number | null = null;
  let pendingResetAt: number | null = null;
  let pendingMs = 0;
  const closePending = (t: number) => {
    if (pendingSince !== null) pendingMs += t - pendingSince;
    pendingSince = null;
    pendingResetAt = null;
  };
  const roles = new Map<string, string | null>();
  let labelState: { count: number; since: number } = { count: 0, since: 0 };
  let noPrimaryLabelMs = 0;
  let multiplePrimaryLabelsMs = 0;
  const closeLabelSpan = (t: number) => {
    const from = Math.max(labelState.since, firstFault ?? Number.POSITIVE_INFINITY);
    if (t <= from) return;
    if (labelState.count === 0) noPrimaryLabelMs += t - from;
    if (labelState.count > 1) multiplePrimaryLabelsMs += t - from;
  };

  // The rw Service's ready endpoints (EndpointSlices), folded like the labels.
  let rwObserved = false;
  let rwState: { count: number; since: number; only: string | null } = { count: 0, since: 0, only: null };
  let noRwEndpointMs = 0;
  let multipleRwEndpointsMs = 0;
  let rwAtFault: string | null | undefined;
  let rwMovedAt: number | null = null;
  const closeRwSpan = (t: number) => {
    const from = Math.max(rwState.since, firstFault ?? Number.POSITIVE_INFINITY);
    if (!rwObserved || t <= from) return;
    if (rwState.count === 0) noRwEndpointMs += t - from;
    if (rwState.count > 1) multipleRwEndpointsMs += t - from;
  };
  // The primary Lease: its holder at the fault, and the first new holder after it.
  let holder: string | null | undefined;
  /** Set at the first event from the first fault on: the holder then, if the Lease had been seen at all. */
  let holderAtFault: { holder: string | null } | null | undefined;
  let releasedSinceFault = false;
  let leaseAcquiredAt: number | null = null;
  let leaseReleased: boolean | null = null;

  for (const event of kube) {
    if (firstFault !== null && event.t >= firstFault && primaryAtFault === undefined) primaryAtFault = currentPrimary ?? "";
    if (firstFault !== null && event.t >= firstFault && rwAtFault === undefined) rwAtFault = rwState.only;
    if (firstFault !== null && event.t >= firstFault && holderAtFault === undefined)
      holderAtFault = holder === undefined ? null : { holder };
    if (event.subject === "lease") {
      const next = event.holder ?? null;
      if (holderAtFault && leaseAcquiredAt === null) {
        if (next === null) releasedSinceFault = true;
        else if (next !== holderAtFault.holder) {
          leaseAcquiredAt = event.t;
          leaseReleased = releasedSinceFault;
        }
      }
      holder = next;
      continue;
    }
    if (event.subject === "endpoints") {
      closeRwSpan(event.t);
      rwObserved = true;
      const ready = event.ready ?? [];
      rwState = { count: ready.length, since: event.t, only: ready.length === 1 ? ready[0]! : null };
      if (rwAtFault !== undefined && rwMovedAt === null && rwState.only !== null && rwState.only !== rwAtFault) rwMovedAt = event.t;
      continue;
    }
    if (event.subject === "cluster") {
      const current = event.currentPrimary ?? currentPrimary;
      if (pendingResetAt !== null && event.phase !== undefined && event.phase !== FAILING_OVER) closePending(pendingResetAt);
      if (event.targetPrimary === "pending") {
        pendingSince ??= event.t;
        pendingResetAt = null;
      } else if (pendingSince !== null && event.currentPrimary !== undefined && event.currentPrimary !== currentPrimary) {
        closePending(event.t); // promoted
      } else if (pendingSince !== null && event.targetPrimary !== undefined) {
        if (event.targetPrimary !== current)
          closePending(event.t); // the new primary named
        else pendingResetAt ??= event.t;
      }
      if (event.currentPrimary !== undefined) {
        if (
          firstFault !== null &&
          event.t >= firstFault &&
          promotedAt === null &&
          event.currentPrimary !== (primaryAtFault ?? currentPrimary)
        ) {
          promotedAt = event.t;
          newPrimary = event.currentPrimary;
        }
        currentPrimary = event.currentPrimary;
      }
    } else if (event.subject === "pod") {
      closeLabelSpan(event.t);
      if (event.role === "deleted") roles.delete(event.name);
      else roles.set(event.name, event.role ?? null);
      labelState = { count: [...roles.values()].filter((role) => role === "primary").length, since: event.t };
    }
  }
  closeLabelSpan(end);
  closeRwSpan(end);
  closePending(pendingResetAt ?? end);
  const afterFault = (t: number | null) => (t !== null && firstFault !== null ? t - firstFault : null);

  const metrics: OperatorMetrics = {
    observed: true,
    promotedAfterMs: promotedAt !== null && firstFault !== null ? promotedAt - firstFault : null,
    newPrimary,
    pendingMs,
    noPrimaryLabelMs,
    multiplePrimaryLabelsMs,
    rwObserved,
    rwMovedAfterMs: afterFault(rwMovedAt),
    noRwEndpointMs: rwObserved ? noRwEndpointMs : null,
    multipleRwEndpointsMs: rwObserved ? multipleRwEndpointsMs : null,
    leaseAcquiredAfterMs: afterFault(leaseAcquiredAt),
    leaseReleased,
    resyncs: kube.filter((event) => event.resync).length,
  };
  return { valid: true, metrics };
}
