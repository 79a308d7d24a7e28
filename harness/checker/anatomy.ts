/**
 * The anatomy of a failover: the outage split into the phases the target lets pgdrill see, each
 * measured from the disruption that caused the write outage (the failover checker's `faultAtMs`).
 *
 * - Detection: fault → the HA mechanism acted. What acts depends on who decides failovers, read
 *   from the History: pgdrill's own `promote` action once its detection delay (`after`) is over
 *   (the container pair, where the scenario is the HA manager), the operator's `status.phase` turning
 *   to "Failing over" or `status.targetPrimary` leaving the old primary (cnpg's `k8s`
 *   events: "pending" or a new name), the HA manager's leader key lost or moved (`ha` events:
 *   Patroni). A switchover is its own decision: detection is 0. The earliest of these after the
 *   fault counts; none seen (a managed endpoint, whose provider decides unseen) leaves it null.
 * - Promotion: → the new primary accepted writes: the earlier of the role probe's first sample of
 *   it out of recovery after detection (its completion: it accepted writes by then; the previous
 *   sample, still in recovery, is the lower bound) and the mechanism's own word (the promote
 *   returned, the Cluster's currentPrimary changed, the leader key went to the new primary).
 * - Client recovery, per probe: → the first ok operation that probe invoked after its own outage
 *   began, through its own path (rw or a pooler, fresh connections, a held one, a pool): what a
 *   client of each kind waited. Shown after the promotion (never below 0: the role probe samples on
 *   its own cadence, so a client can be seen back before the probe saw the promotion).
 *
 * Only a failover has an anatomy: with none (the same primary came back, no fault) every figure is
 * null, so a gate on one fails with the failover's note rather than pass on a recovery.
 */
import { formatMs } from "../duration.ts";
import type { HistoryContext } from "../history/context.ts";
import type { ActionEvent, HaEvent, KubeEvent, ProbeRecord } from "../history/events.ts";
import type { AnatomyClient, Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { outagePass, type OutageReading, type Promotion } from "./failover.ts";

export type AnatomyMetrics = Metrics["anatomy"];

/** CloudNativePG's Cluster phase while it fails over (apiv1.PhaseFailOver). */
const FAILING_OVER = "Failing over";

const emptyAnatomy = (): AnatomyMetrics => ({
  observed: false,
  faultAtMs: null,
  faultLabel: null,
  mechanism: null,
  detectedAfterMs: null,
  detectedBy: null,
  promotedAfterMs: null,
  promotedLowerMs: null,
  promotedBy: null,
  newPrimary: null,
  detectionMs: null,
  promotionMs: null,
  clients: [],
  clientsRecoveredAfterMs: null,
  clientRecoveryMs: null,
});

export const anatomyChecker = defineChecker<AnatomyMetrics>({
  empty: emptyAnatomy,
  start(context) {
    const pass = outagePass(context);
    return { operation: pass.operation, finish: () => dissect(context, pass.result()) };
  },
});

/** A moment the mechanism showed, in t (ms since run start), and how it showed it. */
interface Sign {
  t: number;
  by: string;
  mechanism: NonNullable<AnatomyMetrics["mechanism"]>;
}

function dissect(context: HistoryContext, reading: OutageReading): CheckerOutput<AnatomyMetrics> {
  const failover = reading.failover.metrics;
  if (failover.happened !== true || failover.faultAtMs === null) {
    const reason = failover.happened === false ? "no failover: no anatomy to read" : `no anatomy: ${reading.failover.reason ?? "whether a failover happened is unknown"}`;
    return { valid: failover.happened === false ? true : "unknown", metrics: emptyAnatomy(), reason };
  }
  const faultAt = failover.faultAtMs;
  const oldPrimary = failover.originalPrimary;
  const newPrimary = failover.newPrimary;
  const cause = context.disruptions.find((disruption) => disruption.t === faultAt);

  const detection = cause?.kind === "action" ? { t: faultAt, by: `switchover "${cause.label}" began`, mechanism: "switchover" as const } : detectionSign(context, faultAt, oldPrimary);
  const promotion = promotionSign(context, reading.promotions, newPrimary, detection?.t ?? faultAt, detection?.mechanism ?? null);
  const after = (t: number | null | undefined) => (t === null || t === undefined ? null : Math.max(0, t - faultAt));
  const promotedAfterMs = after(promotion?.t);
  const detectedAfterMs = after(detection?.t);

  const records = new Map((context.runStart?.probes ?? []).map((record) => [record.name, record]));
  const clients: AnatomyClient[] = reading.probes.map(({ name, type, outage }) => {
    const recoveredAfterMs = outage.startedAt === null ? 0 : after(outage.recoveredAt);
    return {
      probe: name,
      type,
      via: pathOf(records.get(name)),
      recoveredAfterMs,
      recoveryMs: recoveredAfterMs === null || promotedAfterMs === null ? null : Math.max(0, recoveredAfterMs - promotedAfterMs),
    };
  });
  const everyClient = clients.every((client) => client.recoveredAfterMs !== null);
  const clientsRecoveredAfterMs = everyClient && clients.length > 0 ? Math.max(...clients.map((client) => client.recoveredAfterMs!)) : null;

  const metrics: AnatomyMetrics = {
    observed: true,
    faultAtMs: faultAt,
    faultLabel: failover.faultLabel,
    mechanism: detection?.mechanism ?? promotion?.mechanism ?? null,
    detectedAfterMs,
    detectedBy: detection?.by ?? null,
    promotedAfterMs,
    promotedLowerMs: promotion && "afterT" in promotion ? after(promotion.afterT) : null,
    promotedBy: promotion?.by ?? null,
    newPrimary,
    detectionMs: detectedAfterMs,
    promotionMs: promotedAfterMs === null || detectedAfterMs === null ? null : Math.max(0, promotedAfterMs - detectedAfterMs),
    clients,
    clientsRecoveredAfterMs,
    clientRecoveryMs: clientsRecoveredAfterMs === null || promotedAfterMs === null ? null : Math.max(0, clientsRecoveredAfterMs - promotedAfterMs),
  };
  const unseen = [detection ? null : "no HA decision was recorded (the target's failover is decided where pgdrill cannot see it)", promotion ? null : "no promotion was seen"].filter((part) => part !== null);
  return { valid: true, metrics, ...(unseen.length > 0 ? { reason: unseen.join("; ") } : {}) };
}

/**
 * The first sign after the fault that the HA mechanism acted: a promote began, the Cluster's phase
 * turned to "Failing over" or its targetPrimary left the old primary, the leader key was lost or
 * moved. CloudNativePG writes the phase first, then "pending" (replicas.go: RegisterPhase, then
 * setPrimaryInstance): 26 ms apart in the first real run (test/fixtures/cnpg/kind/kill-primary).
 */
function detectionSign(context: HistoryContext, faultAt: number, oldPrimary: string | null): Sign | null {
  let targetPrimary = oldPrimary;
  let phase: string | undefined;
  let leader: string | null | undefined = oldPrimary ?? undefined;
  for (const event of context.events) {
    if (event.kind === "k8s" && event.subject === "cluster" && (event.targetPrimary !== undefined || event.phase !== undefined)) {
      if (event.t >= faultAt && event.targetPrimary !== undefined && event.targetPrimary !== targetPrimary) return { t: event.t, by: `targetPrimary ${targetPrimary ?? "?"} → ${event.targetPrimary}`, mechanism: "operator" };
      if (event.t >= faultAt && event.phase === FAILING_OVER && phase !== FAILING_OVER) return { t: event.t, by: `phase ${phase === undefined ? "" : `"${phase}" `}→ "${FAILING_OVER}"`, mechanism: "operator" };
      targetPrimary = event.targetPrimary ?? targetPrimary;
      phase = event.phase ?? phase;
    } else if (isLeaderEvent(event)) {
      if (event.t >= faultAt && event.leader !== leader) return { t: event.t, by: `${event.manager} leader ${leader ?? "none"} → ${event.leader ?? "none"}`, mechanism: "ha-manager" };
      leader = event.leader;
    } else if (isPromoteStart(event) && event.t >= faultAt) {
      // A promote waits its detection delay (`after`) before acting: it acts then.
      const delay = event.afterMs ?? 0;
      return { t: event.t + delay, by: delay > 0 ? `pgdrill's "${event.label}" acted after its ${formatMs(delay)} delay` : `pgdrill's "${event.label}" began`, mechanism: "pgdrill" };
    }
  }
  return null;
}

/**
 * When the new primary accepted writes: the earlier of the role probe's first sample of it out of
 * recovery and the mechanism's own word (the promote returned, currentPrimary changed, the leader
 * key reached it). Both are moments by which it had happened; the role probe samples on its own
 * cadence (200 ms by default), so the mechanism's word is often the sharper. The role probe's
 * previous sample, still in recovery, is the lower bound.
 */
function promotionSign(
  context: HistoryContext,
  promotions: ReadonlyMap<string, readonly Promotion[]>,
  newPrimary: string | null,
  since: number,
  mechanism: Sign["mechanism"] | null,
): (Sign & { afterT?: number }) | null {
  const seen = newPrimary === null ? undefined : promotions.get(newPrimary)?.find((promotion) => promotion.byT >= since);
  const probe = seen ? { t: seen.byT, afterT: seen.afterT, by: `the role probe saw ${seen.node} out of recovery`, mechanism: mechanism ?? ("pgdrill" as const) } : null;
  const word = mechanismWord(context, newPrimary, since);
  if (!probe) return word;
  if (!word || probe.t <= word.t) return probe;
  return { ...word, afterT: Math.min(probe.afterT, word.t) };
}

/**
 * The mechanism's own word that the new primary took over: the first such event at or after
 * `since`. An HA manager takes the leader key before it promotes, so its member reporting the
 * primary role is the word; the key reaching the new primary stands in only without one.
 */
function mechanismWord(context: HistoryContext, newPrimary: string | null, since: number): Sign | null {
  let leaderMoved: Sign | null = null;
  for (const event of context.events) {
    if (event.t < since) continue;
    if (event.kind === "action" && event.action === "promote" && event.phase === "end" && event.ok !== false) return { t: event.t, by: `pgdrill's "${event.label}" returned`, mechanism: "pgdrill" };
    if (isCurrentPrimaryChange(event, newPrimary)) return { t: event.t, by: `currentPrimary → ${event.currentPrimary}`, mechanism: "operator" };
    if (event.kind === "ha" && event.subject === "member" && event.name === newPrimary && event.role === "primary") return { t: event.t, by: `${event.manager} reported ${event.name} as primary`, mechanism: "ha-manager" };
    if (!leaderMoved && isLeaderEvent(event) && event.leader !== null && event.leader === newPrimary) leaderMoved = { t: event.t, by: `${event.manager} leader → ${event.leader}`, mechanism: "ha-manager" };
  }
  return leaderMoved;
}

function isLeaderEvent(event: HistoryContext["events"][number]): event is HaEvent & { leader: string | null } {
  return event.kind === "ha" && event.subject === "leader" && event.leader !== undefined;
}

function isPromoteStart(event: HistoryContext["events"][number]): event is ActionEvent {
  return event.kind === "action" && event.action === "promote" && event.phase === "start";
}

function isCurrentPrimaryChange(event: HistoryContext["events"][number], newPrimary: string | null): event is KubeEvent & { currentPrimary: string } {
  return event.kind === "k8s" && event.subject === "cluster" && event.currentPrimary !== undefined && event.currentPrimary === newPrimary;
}

const CONNECTIONS = { fresh: "fresh connections", held: "a held connection", pool: "a pool" } as const;

/** A probe's client path, for people: "rw, fresh connections". Older histories did not record it. */
function pathOf(record: ProbeRecord | undefined): string {
  if (!record || record.endpoint === undefined) return "path not recorded";
  return record.connection ? `${record.endpoint}, ${CONNECTIONS[record.connection]}` : record.endpoint;
}
