/**
 * How CloudNativePG's decisions show in the History, for the failover anatomy: the Cluster's
 * status.phase turning to "Failing over" or its targetPrimary leaving the old primary ("pending"
 * or a new name) is the detection; currentPrimary reaching the new primary is the promotion.
 * CloudNativePG writes the phase first, then "pending" (replicas.go: RegisterPhase, then
 * setPrimaryInstance): 26 ms apart in the first real run (test/fixtures/cnpg/kind/kill-primary).
 */
import type { MechanismSigns } from "../plugin.ts";
import { FAILING_OVER } from "./events.ts";

export const operatorSigns: MechanismSigns = {
  detection(faultAt, oldPrimary) {
    let targetPrimary = oldPrimary;
    let phase: string | undefined;
    return (event) => {
      if (event.kind !== "k8s" || event.subject !== "cluster") return null;
      if (event.targetPrimary === undefined && event.phase === undefined) return null;
      if (event.t >= faultAt && event.targetPrimary !== undefined && event.targetPrimary !== targetPrimary) {
        return { t: event.t, by: `targetPrimary ${targetPrimary ?? "?"} → ${event.targetPrimary}`, mechanism: "operator" };
      }
      if (event.t >= faultAt && event.phase === FAILING_OVER && phase !== FAILING_OVER) {
        return { t: event.t, by: `phase ${phase === undefined ? "" : `"${phase}" `}→ "${FAILING_OVER}"`, mechanism: "operator" };
      }
      targetPrimary = event.targetPrimary ?? targetPrimary;
      phase = event.phase ?? phase;
      return null;
    };
  },
  promotion(newPrimary) {
    return (event) => {
      if (event.kind !== "k8s" || event.subject !== "cluster") return null;
      if (event.currentPrimary === undefined || event.currentPrimary !== newPrimary) return null;
      return { sign: { t: event.t, by: `currentPrimary → ${event.currentPrimary}`, mechanism: "operator" }, sure: true };
    };
  },
};
