/**
 * How pg_auto_failover's decisions show in the History, for the failover anatomy. The monitor
 * decides: marking the old primary unhealthy is the detection (or, when it acts without that mark,
 * assigning a standby prepare_promotion). The new primary reporting stop_replication is the
 * promotion: it is out of recovery then, though it holds writes until the old primary demoted or
 * the demote timeout passed (the anatomy's read-only phase); a writing state, when stop_replication
 * went unseen, says the same. The monitor assigning it one of those goals stands in only when no
 * report comes.
 */
import type { HistoryEvent } from "../../history/events.ts";
import type { MechanismSigns } from "../plugin.ts";
import { WRITING_STATES, type MonitorEvent } from "./events.ts";

/** The monitor's own words when its health checks gave up on a node. */
export const MARKED_UNHEALTHY = /is marked as unhealthy/;
/** The state a promoted standby reports while it still holds writes. */
export const STOP_REPLICATION = "stop_replication";
export const PREPARE_PROMOTION = "prepare_promotion";

export function isMonitorEvent(event: HistoryEvent): event is MonitorEvent {
  return event.kind === "monitor";
}

/** The monitor marked `node` unhealthy: its own log line, or the node's row turning to bad health. */
export function markedUnhealthy(event: MonitorEvent): boolean {
  if (event.subject === "event") return MARKED_UNHEALTHY.test(event.description ?? "");
  return event.subject === "node" && event.health === "bad";
}

export const monitorSigns: MechanismSigns = {
  detection(faultAt, oldPrimary) {
    return (event) => {
      if (!isMonitorEvent(event) || event.t < faultAt || event.node === undefined) return null;
      const aboutOldPrimary = oldPrimary === null || event.node === oldPrimary;
      if (aboutOldPrimary && markedUnhealthy(event)) {
        return { t: event.t, by: `pg_auto_failover monitor marked ${event.node} unhealthy`, mechanism: "ha-manager" };
      }
      // A decision without an unhealthy mark (the old primary's keeper asked, or the monitor lost it another way).
      if (event.subject === "event" && event.goalState === PREPARE_PROMOTION && event.node !== oldPrimary) {
        return { t: event.t, by: `pg_auto_failover monitor: ${event.node} → ${PREPARE_PROMOTION}`, mechanism: "ha-manager" };
      }
      return null;
    };
  },
  promotion(newPrimary) {
    return (event) => {
      if (newPrimary === null || !isMonitorEvent(event) || event.node !== newPrimary || event.subject === "reachable") return null;
      const reported = event.reportedState;
      if (reported !== undefined && (reported === STOP_REPLICATION || WRITING_STATES.includes(reported))) {
        return { sign: { t: event.t, by: `pg_auto_failover: ${newPrimary} reported ${reported}`, mechanism: "ha-manager" }, sure: true };
      }
      const goal = event.goalState;
      if (goal !== undefined && (goal === PREPARE_PROMOTION || goal === STOP_REPLICATION || WRITING_STATES.includes(goal))) {
        return { sign: { t: event.t, by: `pg_auto_failover monitor: ${newPrimary} → ${goal}`, mechanism: "ha-manager" }, sure: false };
      }
      return null;
    };
  },
};
