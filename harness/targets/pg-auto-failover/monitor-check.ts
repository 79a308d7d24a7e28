/**
 * The monitor's view of a failover, from what pg_auto_failover's monitor said (its event log and
 * node rows, read by observer.ts), beside the clients' view the failover checker gives: when it
 * marked the old primary unhealthy, when it decided (its first failover goal: the old primary draining, a
 * standby asked for its LSN or to prepare its promotion), when the
 * new primary was promoted but still held writes (stop_replication) and when it took them (a
 * writing state: wait_primary or primary), so how long the demote timeout held writes; how long
 * pgdrill could not read the monitor; and, when no new primary came, why, in the monitor's own
 * terms. Targets without a monitor record no such events: the check is then valid with
 * `observed: false`.
 */
import { formatMs } from "../../duration.ts";
import { contextOnly, defineChecker, type CheckerOutput } from "../../checker/checker.ts";
import type { HistoryContext } from "../../history/context.ts";
import { WRITING_STATES, type MonitorEvent } from "./events.ts";
import { isMonitorEvent, markedUnhealthy, PREPARE_PROMOTION, STOP_REPLICATION } from "./mechanism.ts";

/**
 * The goals that start a failover: with one standby the monitor drains the old primary and has the standby prepare its promotion at
 * once; with more it first asks every standby for its LSN (report_lsn) and has the chosen one fast-forward (measured: 3 nodes, the
 * decision 2.4 s before the prepare_promotion).
 */
const PRIMARY_FAILOVER_GOALS: ReadonlySet<string> = new Set(["draining", "demote_timeout"]);
const STANDBY_FAILOVER_GOALS: ReadonlySet<string> = new Set(["report_lsn", "fast_forward", PREPARE_PROMOTION]);

/** One thing the monitor said (or pgdrill's reach of it changed) after the first fault. */
export interface MonitorTransition {
  afterMs: number;
  node: string | null;
  reportedState: string | null;
  goalState: string | null;
  description: string;
}

/** pg_auto_failover's monitor's view (pg-auto-failover target): from its own tables. The gate's `monitor.*` metrics. */
export interface MonitorMetrics {
  observed: boolean;
  /** The node in a writing state, by the monitor, when the first fault came. */
  oldPrimary: string | null;
  /** The node the monitor brought to a writing state after the first fault (by its reported state). */
  newPrimary: string | null;
  /** First fault → the monitor marked the old primary unhealthy (ms). */
  unhealthyAfterMs: number | null;
  /**
   * First fault → the monitor decided: its first failover goal (the old primary draining or demote_timeout; a standby report_lsn,
   * fast_forward or prepare_promotion); after a perform or maintenance, its first goal change (ms).
   */
  decidedAfterMs: number | null;
  /** The node and goal of that decision. */
  decision: { node: string; goalState: string } | null;
  /** First fault → the new primary reported stop_replication (promoted, writes held), or a writing state if that went unseen (ms). */
  promotedAfterMs: number | null;
  /** The state it reported then. */
  promotedState: string | null;
  /** First fault → the new primary reported a writing state: it took writes (ms). */
  primaryAfterMs: number | null;
  /** The writing state it reported (wait_primary: no standby in sync yet). */
  primaryState: string | null;
  /** Promoted → took writes: how long it held them, waiting for the old primary to demote (the demote timeout) (ms). */
  writesHeldMs: number | null;
  /** After the first fault: time pgdrill could not read the monitor (ms). */
  unreachableMs: number;
  /** When no new primary came: why, in one sentence, with the evidence; null otherwise. */
  why: string | null;
  /** What the monitor said from the first fault on (its event log, and pgdrill's reach of it), at most 40. */
  transitions: MonitorTransition[];
}

declare module "../../result.ts" {
  interface Metrics {
    monitor: MonitorMetrics;
  }
}

/** Transitions kept in the metrics: enough for one failover's story, bounded for a long drill. */
const MAX_TRANSITIONS = 40;
/** The pg_auto_failover actions whose decision is the monitor's first goal change, not a prepare_promotion after a failure. */
const PLANNED_ACTIONS = ["switchover", "perform", "node-maintenance"];

export const monitorChecker = defineChecker({
  empty: (): MonitorMetrics => ({
    observed: false,
    oldPrimary: null,
    newPrimary: null,
    unhealthyAfterMs: null,
    decidedAfterMs: null,
    decision: null,
    promotedAfterMs: null,
    promotedState: null,
    primaryAfterMs: null,
    primaryState: null,
    writesHeldMs: null,
    unreachableMs: 0,
    why: null,
    transitions: [],
  }),
  // The monitor's observations are context events: the operations have nothing to add.
  start: (context) => contextOnly(() => checkMonitor(context)),
  // The gate's `monitor.*` metrics, in the order `pgdrill run --help` and "use one of" list them.
  gate: {
    unhealthyAfterMs: "pg_auto_failover: first fault → the monitor marked the old primary unhealthy (ms)",
    decidedAfterMs:
      "pg_auto_failover: first fault → the monitor set its first failover goal (the old primary draining, a standby report_lsn " +
      "or prepare_promotion) (ms)",
    promotedAfterMs: "pg_auto_failover: first fault → the new primary reported stop_replication, promoted with writes held (ms)",
    primaryAfterMs: "pg_auto_failover: first fault → the new primary reported a writing state (wait_primary or primary) (ms)",
    writesHeldMs: "pg_auto_failover: time the promoted primary held writes, waiting for the old one to demote (ms)",
    unreachableMs: "pg_auto_failover: after the first fault, time pgdrill could not read the monitor (ms)",
  },
});

/** What starts the monitor's story: the first disruption, or (none) the first of pg_auto_failover's own actions. */
function cause(context: HistoryContext): { t: number; planned: boolean; maintenanceOf?: string } | null {
  const first = context.disruptions[0];
  if (first) return { t: first.t, planned: first.kind === "action" };
  const action = context.events.find(
    (event) => event.kind === "action" && event.phase === "start" && PLANNED_ACTIONS.includes(event.action),
  );
  if (action?.kind !== "action") return null;
  return { t: action.t, planned: true, ...(action.action === "node-maintenance" && action.node ? { maintenanceOf: action.node } : {}) };
}

const writing = (state: string | undefined): state is string => state !== undefined && WRITING_STATES.includes(state);

function checkMonitor(context: HistoryContext): CheckerOutput<MonitorMetrics> {
  const events = context.events.filter(isMonitorEvent);
  if (events.length === 0)
    return { valid: true, metrics: monitorChecker.empty(), reason: "no monitor observations (the target has no pg_auto_failover monitor)" };
  const start = cause(context);
  if (start === null)
    return { valid: true, metrics: { ...monitorChecker.empty(), observed: true }, reason: "no fault: no failover to follow" };
  const faultAt = start.t;
  const after = (t: number | null) => (t === null ? null : t - faultAt);

  // Each node's last reported state and goal, from its rows and the monitor's log alike (the log keeps states a 100 ms poll can miss).
  const reported = new Map<string, string>();
  const goals = new Map<string, string>();
  let reachable: { now: boolean | null; since: number } = { now: null, since: 0 };
  let unreachableMs = 0;
  let unreachableSince: number | null = null;
  const closeUnreachable = (t: number) => {
    const from = Math.max(reachable.since, faultAt);
    if (reachable.now === false && t > from) unreachableMs += t - from;
  };
  /** Set when the History reaches the first fault: the node then in a writing state, by the monitor. */
  let crossed: { oldPrimary: string | null } | null = null;
  const cross = () => {
    crossed = { oldPrimary: [...reported].find(([, state]) => writing(state))?.[0] ?? null };
    if (reachable.now === false) unreachableSince = faultAt;
    return crossed;
  };
  let unhealthyAt: number | null = null;
  let decidedAt: number | null = null;
  let decision: MonitorMetrics["decision"] = null;
  const promotedAt = new Map<string, { t: number; state: string }>();
  let primary: { node: string; t: number; state: string } | null = null;
  const transitions: MonitorTransition[] = [];
  const transition = (event: MonitorEvent, node: string | null, description: string) => {
    if (transitions.length >= MAX_TRANSITIONS) return;
    transitions.push({
      afterMs: event.t - faultAt,
      node,
      reportedState: event.reportedState ?? null,
      goalState: event.goalState ?? null,
      description,
    });
  };

  for (const event of events) {
    const atFault = event.t >= faultAt ? (crossed ?? cross()) : null;
    if (event.subject === "reachable") {
      closeUnreachable(event.t);
      reachable = { now: event.reachable ?? null, since: event.t };
      if (!atFault) continue;
      if (event.reachable === false) unreachableSince ??= event.t;
      transition(
        event,
        null,
        event.reachable ? "pgdrill reads the monitor again" : `pgdrill cannot read the monitor: ${event.error ?? "no answer"}`,
      );
      continue;
    }
    const node = event.node;
    if (node === undefined) continue;
    const wasReported = reported.get(node);
    const wasGoal = goals.get(node);
    if (event.reportedState !== undefined) reported.set(node, event.reportedState);
    if (event.goalState !== undefined) goals.set(node, event.goalState);
    if (!atFault) continue;

    if (event.subject === "event") transition(event, node, event.description ?? "");
    const { oldPrimary } = atFault;
    // Only while it is still the primary: once another node took writes, the old one (a standby catching up after a hand-over,
    // seen: one failed check 1.5 s after it rejoined) is no failure the failover waited for.
    const stillPrimary = primary === null;
    if (unhealthyAt === null && stillPrimary && (oldPrimary === null || node === oldPrimary) && markedUnhealthy(event))
      unhealthyAt = event.t;
    const standby = node !== oldPrimary;
    const goal = event.goalState;
    // A failure's decision is the monitor's first failover goal; a planned change's is its first new goal.
    const failoverGoals = standby ? STANDBY_FAILOVER_GOALS : PRIMARY_FAILOVER_GOALS;
    const decided = start.planned
      ? goal !== undefined && wasGoal !== undefined && goal !== wasGoal
      : goal !== undefined && goal !== wasGoal && failoverGoals.has(goal);
    // One monitor transaction may drain the old primary and promote a standby at once: the standby names the decision better.
    const sameMoment = decidedAt === event.t && decision?.node === atFault.oldPrimary && standby;
    if (decided && (decidedAt === null || sameMoment)) {
      decidedAt = event.t;
      decision = { node, goalState: goal! };
    }
    const state = event.reportedState;
    if (!standby || state === undefined || state === wasReported) continue;
    if ((state === STOP_REPLICATION || writing(state)) && !promotedAt.has(node)) promotedAt.set(node, { t: event.t, state });
    if (primary === null && writing(state)) primary = { node, t: event.t, state };
  }
  closeUnreachable(context.lastT);
  const { oldPrimary } = crossed ?? cross();

  const newPrimary = primary?.node ?? null;
  // Promoted: the new primary's, else the first standby that got as far as stop_replication.
  const promoted = newPrimary !== null ? promotedAt.get(newPrimary) : [...promotedAt.values()].sort((a, b) => a.t - b.t)[0];
  const promotedAfterMs = after(promoted?.t ?? null);
  const primaryAfterMs = after(primary?.t ?? null);
  const metrics: MonitorMetrics = {
    observed: true,
    oldPrimary,
    newPrimary,
    unhealthyAfterMs: after(unhealthyAt),
    decidedAfterMs: after(decidedAt),
    decision,
    promotedAfterMs,
    promotedState: promoted?.state ?? null,
    primaryAfterMs,
    primaryState: primary?.state ?? null,
    writesHeldMs: promotedAfterMs !== null && primaryAfterMs !== null ? primaryAfterMs - promotedAfterMs : null,
    unreachableMs,
    // Maintenance on a standby asks for no failover: nothing to explain.
    why:
      newPrimary !== null || (start.maintenanceOf !== undefined && start.maintenanceOf !== oldPrimary)
        ? null
        : whyNoFailover({ oldPrimary, unhealthyAt, decision, decidedAt, promoted, unreachableSince }, faultAt, reported),
    transitions,
  };
  return { valid: true, metrics };
}

interface Facts {
  oldPrimary: string | null;
  unhealthyAt: number | null;
  decision: MonitorMetrics["decision"];
  decidedAt: number | null;
  promoted: { t: number; state: string } | undefined;
  unreachableSince: number | null;
}

/** Why the monitor brought no new primary, with what the History shows of it: the first explanation that holds. */
function whyNoFailover(facts: Facts, faultAt: number, reported: ReadonlyMap<string, string>): string {
  const at = (t: number) => formatMs(t - faultAt);
  const primary = facts.oldPrimary ?? "the primary";
  const standbys = [...reported].filter(([node]) => node !== facts.oldPrimary).map(([node, state]) => `${node}: ${state}`);
  const lastStates = standbys.length > 0 ? ` (standbys last reported ${standbys.join(", ")})` : "";
  if (facts.unreachableSince !== null && (facts.unhealthyAt === null || facts.unreachableSince <= facts.unhealthyAt)) {
    const since = at(facts.unreachableSince);
    return `the monitor was unreachable from ${since} after the first fault: pg_auto_failover cannot fail over without its monitor`;
  }
  if (facts.oldPrimary === null) return "no node was primary by the monitor's account when the first fault came";
  if (facts.promoted) {
    return (
      `the monitor promoted a standby (${facts.promoted.state} ${at(facts.promoted.t)} after the first fault), but it still held writes ` +
      "when the History ended: the old primary had not demoted and the demote timeout had not passed"
    );
  }
  if (facts.decision && facts.decidedAt !== null) {
    const { node, goalState } = facts.decision;
    const when = `${at(facts.decidedAt)} after the first fault`;
    return `the monitor started a failover (${node} → ${goalState} ${when}), but no standby reported stop_replication${lastStates}`;
  }
  if (facts.unhealthyAt !== null) {
    return (
      `the monitor marked ${primary} unhealthy ${at(facts.unhealthyAt)} after the first fault but assigned no promotion: no candidate ` +
      `(candidate priorities 0, out of the replication quorum, or lagging)${lastStates}`
    );
  }
  return `the monitor never marked ${primary} unhealthy (${primary} kept answering its health checks)`;
}
