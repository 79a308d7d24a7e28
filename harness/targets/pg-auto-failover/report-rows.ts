/**
 * The pg-auto-failover target's rows of the reports' key metrics: what the monitor said (its event
 * log and node rows), beside what clients saw. Pure, like the plugin that names it: every report
 * format draws these rows as they are.
 */
import { formatMs } from "../../duration.ts";
import type { Metrics } from "../../result.ts";
import type { ReportRow } from "../plugin.ts";

export function monitorRows({ monitor }: Metrics): ReportRow[] {
  if (!monitor.observed) return [];
  const afterFault = (ms: number) => `${formatMs(ms)} after the first fault`;
  const rows: ReportRow[] = [];
  const { oldPrimary, newPrimary, decision } = monitor;
  if (monitor.unhealthyAfterMs !== null) {
    rows.push({ label: `monitor marked ${oldPrimary ?? "the primary"} unhealthy`, value: afterFault(monitor.unhealthyAfterMs) });
  }
  if (monitor.decidedAfterMs !== null) {
    const what = decision ? ` (${decision.node} → ${decision.goalState})` : "";
    rows.push({ label: "monitor decided the failover", value: `${afterFault(monitor.decidedAfterMs)}${what}` });
  }
  if (monitor.promotedAfterMs !== null) {
    const state = monitor.promotedState ? ` (${newPrimary ?? "a standby"} reported ${monitor.promotedState})` : "";
    rows.push({ label: "new primary promoted, writes held", value: `${afterFault(monitor.promotedAfterMs)}${state}` });
  }
  if (monitor.primaryAfterMs !== null) {
    const state = monitor.primaryState ? ` (${newPrimary ?? "?"} reported ${monitor.primaryState})` : "";
    const held = monitor.writesHeldMs !== null && monitor.writesHeldMs > 0 ? `, held ${formatMs(monitor.writesHeldMs)}` : "";
    rows.push({ label: "writes allowed", value: `${afterFault(monitor.primaryAfterMs)}${state}${held}` });
  }
  if (monitor.unreachableMs > 0) {
    // A decision that came only after that much time is the monitor's return, not its health checks: say so beside the time.
    const waited = monitor.decidedAfterMs !== null && monitor.decidedAfterMs >= monitor.unreachableMs;
    const why = waited ? ": no failover can be decided while it is down, and this one came after it answered again" : "";
    rows.push({ label: "monitor unreachable", value: `for ${formatMs(monitor.unreachableMs)} after the first fault${why}` });
  }
  if (monitor.why !== null) {
    // No new primary is the drill's headline: set off, as a split brain is.
    rows.push({ label: "no failover", value: [{ text: monitor.why, strong: true, bad: true }] });
  }
  return rows;
}
