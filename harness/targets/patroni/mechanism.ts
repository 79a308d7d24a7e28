/**
 * How Patroni's decisions show in the History, for the failover anatomy: the leader key lost or
 * moved is the detection; the new primary's member reporting the primary role is the promotion
 * (Patroni takes the leader key before it promotes, so the key reaching it stands in only when
 * no member report comes).
 */
import type { HistoryEvent } from "../../history/events.ts";
import type { MechanismSigns } from "../plugin.ts";
import type { HaEvent } from "./events.ts";

export const haManagerSigns: MechanismSigns = {
  detection(faultAt, oldPrimary) {
    let leader: string | null | undefined = oldPrimary ?? undefined;
    return (event) => {
      if (!isLeaderEvent(event)) return null;
      if (event.t >= faultAt && event.leader !== leader) {
        return { t: event.t, by: `${event.manager} leader ${leader ?? "none"} → ${event.leader ?? "none"}`, mechanism: "ha-manager" };
      }
      leader = event.leader;
      return null;
    };
  },
  promotion(newPrimary) {
    return (event) => {
      if (event.kind === "ha" && event.subject === "member" && event.name === newPrimary && event.role === "primary") {
        return { sign: { t: event.t, by: `${event.manager} reported ${event.name} as primary`, mechanism: "ha-manager" }, sure: true };
      }
      if (isLeaderEvent(event) && event.leader !== null && event.leader === newPrimary) {
        return { sign: { t: event.t, by: `${event.manager} leader → ${event.leader}`, mechanism: "ha-manager" }, sure: false };
      }
      return null;
    };
  },
};

function isLeaderEvent(event: HistoryEvent): event is HaEvent & { leader: string | null } {
  return event.kind === "ha" && event.subject === "leader" && event.leader !== undefined;
}
