/**
 * The operator's view of a failover, from what Kubernetes said (cnpg target's watches), beside the
 * clients' view the failover checker gives: when the operator promoted, how long targetPrimary
 * stayed "pending", how long no pod carried the primary label (the rw service had no endpoint)
 * and how long two pods carried it at once. Targets without an operator record no such events:
 * the check is then valid with `observed: false`.
 */
import type { HistoryContext } from "../history/context.ts";
import type { KubeEvent } from "../history/events.ts";
import type { Metrics } from "../result.ts";
import { contextOnly, defineChecker, type CheckerOutput } from "./checker.ts";

export type OperatorMetrics = Metrics["operator"];

export const operatorChecker = defineChecker<OperatorMetrics>({
  empty: () => ({ observed: false, promotedAfterMs: null, newPrimary: null, pendingMs: 0, noPrimaryLabelMs: 0, multiplePrimaryLabelsMs: 0, resyncs: 0 }),
  // Kubernetes observations are context events: the operations have nothing to add.
  start: (context) => contextOnly(() => checkOperator(context)),
});

function checkOperator(context: HistoryContext): CheckerOutput<OperatorMetrics> {
  const end = context.lastT;
  const kube = context.events.filter((event): event is KubeEvent => event.kind === "k8s");
  if (kube.length === 0) return { valid: true, metrics: operatorChecker.empty(), reason: "no Kubernetes observations (the target has no operator)" };
  // The first in history order (as the History was written), not the earliest t.
  const firstFault = context.disruptions[0]?.t ?? null;

  let currentPrimary: string | undefined;
  let primaryAtFault: string | undefined;
  let promotedAt: number | null = null;
  let newPrimary: string | null = null;
  let pendingSince: number | null = null;
  let pendingMs = 0;
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

  for (const event of kube) {
    if (firstFault !== null && event.t >= firstFault && primaryAtFault === undefined) primaryAtFault = currentPrimary ?? "";
    if (event.subject === "cluster") {
      if (event.targetPrimary === "pending" && pendingSince === null) pendingSince = event.t;
      if (event.targetPrimary !== "pending" && pendingSince !== null) {
        pendingMs += event.t - pendingSince;
        pendingSince = null;
      }
      if (event.currentPrimary !== undefined) {
        if (firstFault !== null && event.t >= firstFault && promotedAt === null && event.currentPrimary !== (primaryAtFault ?? currentPrimary)) {
          promotedAt = event.t;
          newPrimary = event.currentPrimary;
        }
        currentPrimary = event.currentPrimary;
      }
    } else {
      closeLabelSpan(event.t);
      if (event.role === "deleted") roles.delete(event.name);
      else roles.set(event.name, event.role ?? null);
      labelState = { count: [...roles.values()].filter((role) => role === "primary").length, since: event.t };
    }
  }
  closeLabelSpan(end);
  if (pendingSince !== null) pendingMs += end - pendingSince;

  const metrics: OperatorMetrics = {
    observed: true,
    promotedAfterMs: promotedAt !== null && firstFault !== null ? promotedAt - firstFault : null,
    newPrimary,
    pendingMs,
    noPrimaryLabelMs,
    multiplePrimaryLabelsMs,
    resyncs: kube.filter((event) => event.resync).length,
  };
  if (multiplePrimaryLabelsMs > 0) return { valid: false, metrics, reason: `two pods were labelled primary for ${multiplePrimaryLabelsMs} ms` };
  return { valid: true, metrics };
}
