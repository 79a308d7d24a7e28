/**
 * The anatomy of a failover: the outage split into the phases the target lets pgdrill see, each
 * measured from the disruption that caused the write outage (the failover checker's `faultAtMs`).
 *
 * - Detection: fault → the HA mechanism acted. What acts depends on who decides failovers, read
 *   from the History: pgdrill's own `promote` action once its detection delay (`after`) is over
 *   (the container pair, where the scenario is the HA manager), or what a target's own observations
 *   show of its mechanism (its plugin's `mechanism`: cnpg's operator, Patroni's leader key). A
 *   switchover is its own decision: detection is 0. The first of these after the fault counts; none
 *   seen (a managed endpoint, whose provider decides unseen) leaves it null.
 * - Promotion: → the new primary was out of recovery: the earlier of the role probe's first sample
 *   of it out of recovery after detection (its completion: it was promoted by then; the previous
 *   sample, still in recovery, is the lower bound) and the mechanism's own word (the promote
 *   returned, or the target's mechanism said so: cnpg's currentPrimary, Patroni's member role).
 * - Read-only: → it accepted writes, when the role probe saw it promoted but read-only (pg_auto_failover
 *   holds a new primary read-only up to its demote timeout): its first writable sample; else 0.
 * - Client recovery, per probe: → the first ok operation that probe invoked after its own outage
 *   began, through its own path (rw or a pooler, fresh connections, a held one, a pool): what a
 *   client of each kind waited. Shown after the new primary accepted writes (never below 0: the role probe samples on
 *   its own cadence, so a client can be seen back before the probe saw the promotion).
 *
 * Only a failover has an anatomy: with none (the same primary came back, no fault) every figure is
 * null, so a gate on one fails with the failover's note rather than pass on a recovery.
 */
import { formatMs } from "../duration.ts";
import type { Disruption, HistoryContext } from "../history/context.ts";
import type { ActionEvent, HistoryEvent } from "../history/events.ts";
import type { AnatomyClient, Metrics } from "../result.ts";
import type { MechanismSigns, TargetPlugin } from "../targets/plugin.ts";
import { TARGET_PLUGINS } from "../targets/registry.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { outagePass, type OutageReading, type Promotion } from "./failover.ts";
import { clientPath } from "./probes.ts";

export type AnatomyMetrics = Metrics["anatomy"];

/** Every target's mechanism signs: a History shows at most one target's, and the others see nothing. */
const MECHANISMS: readonly MechanismSigns[] = (TARGET_PLUGINS as readonly TargetPlugin[]).flatMap((plugin) =>
  plugin.mechanism ? [plugin.mechanism] : [],
);

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
  writableAfterMs: null,
  readOnlyMs: null,
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
    const reason =
      failover.happened === false
        ? "no failover: no anatomy to read"
        : `no anatomy: ${reading.failover.reason ?? "whether a failover happened is unknown"}`;
    return { valid: failover.happened === false ? true : "unknown", metrics: emptyAnatomy(), reason };
  }
  const cause = context.disruptions.find((disruption) => disruption.t === failover.faultAtMs);
  // A command that said when its fault really happened (`pgdrill-event: happened`, fault/said.ts): the phases count from then.
  const faultAt = cause?.kind === "fault" && cause.happenedT !== undefined ? cause.happenedT : failover.faultAtMs;
  const oldPrimary = failover.originalPrimary;
  const newPrimary = failover.newPrimary;

  const detection =
    cause?.kind === "action"
      ? { t: faultAt, by: `switchover "${cause.label}" began`, mechanism: "switchover" as const }
      : (detectionSign(context, faultAt, oldPrimary) ?? saidSign(cause, faultAt));
  const promotion = promotionSign(context, reading.promotions, newPrimary, detection?.t ?? faultAt, detection?.mechanism ?? null);
  const after = (t: number | null | undefined) => (t === null || t === undefined ? null : Math.max(0, t - faultAt));
  const promotedAfterMs = after(promotion?.t);
  const detectedAfterMs = after(detection?.t);
  // Writable later than promoted only when a sample saw it promoted but read-only; sampling alone makes no read-only phase.
  const turn = newPrimary === null ? undefined : reading.writable.get(newPrimary)?.find((t) => t.byT >= (detection?.t ?? faultAt));
  const writableAfterMs = turn?.readOnly && promotedAfterMs !== null ? Math.max(promotedAfterMs, after(turn.byT)!) : promotedAfterMs;
  const readOnlyMs = writableAfterMs === null || promotedAfterMs === null ? null : writableAfterMs - promotedAfterMs;

  const records = new Map((context.runStart?.probes ?? []).map((record) => [record.name, record]));
  const clients: AnatomyClient[] = reading.probes.map(({ name, type, outage }) => {
    const recoveredAfterMs = outage.startedAt === null ? 0 : after(outage.recoveredAt);
    return {
      probe: name,
      type,
      via: clientPath(records.get(name), { withDriver: true }),
      recoveredAfterMs,
      recoveryMs: recoveredAfterMs === null || writableAfterMs === null ? null : Math.max(0, recoveredAfterMs - writableAfterMs),
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
    writableAfterMs,
    readOnlyMs,
    newPrimary,
    detectionMs: detectedAfterMs,
    promotionMs: promotedAfterMs === null || detectedAfterMs === null ? null : Math.max(0, promotedAfterMs - detectedAfterMs),
    clients,
    clientsRecoveredAfterMs,
    clientRecoveryMs:
      clientsRecoveredAfterMs === null || writableAfterMs === null ? null : Math.max(0, clientsRecoveredAfterMs - writableAfterMs),
  };
  const unseen = [
    detection ? null : "no HA decision was recorded (the target's failover is decided where pgdrill cannot see it)",
    promotion ? null : "no promotion was seen",
  ].filter((part) => part !== null);
  return { valid: true, metrics, ...(unseen.length > 0 ? { reason: unseen.join("; ") } : {}) };
}

/** Steps due at the same time are recorded within this of each other (the fault once its node is resolved). */
const SAME_MOMENT_MS = 50;

/**
 * The first sign after the fault that the HA mechanism acted: a promote began, or the target's
 * mechanism showed its decision (its plugin's detection, fed every context event in order).
 */
function detectionSign(context: HistoryContext, faultAt: number, oldPrimary: string | null): Sign | null {
  const readers = MECHANISMS.map((signs) => signs.detection(faultAt, oldPrimary));
  for (const event of context.events) {
    // A promote waits its detection delay (`after`) before acting: it counts if it acts after the fault. Steps due together
    // start together, and the fault is recorded once pgdrill acts on its node, a moment after a promote due with it began.
    const delay = isPromoteStart(event) ? (event.afterMs ?? 0) : 0;
    if (isPromoteStart(event) && event.t + delay >= faultAt - SAME_MOMENT_MS) {
      return {
        t: event.t + delay,
        by: delay > 0 ? `pgdrill's "${event.label}" acted after its ${formatMs(delay)} delay` : `pgdrill's "${event.label}" began`,
        mechanism: "pgdrill",
      };
    }
    for (const read of readers) {
      const sign = read(event);
      if (sign) return sign;
    }
  }
  return null;
}

/** The command's own word on what the HA system did (`pgdrill-event: <text>`), when nothing else showed it acting. */
function saidSign(cause: Disruption | undefined, faultAt: number): Sign | null {
  if (cause?.kind !== "fault") return null;
  const first = (cause.said ?? []).find((said) => said.t >= faultAt);
  return first ? { t: first.t, by: `the command said "${first.text}"`, mechanism: "ha-manager" } : null;
}

/**
 * When the new primary was promoted: the earlier of the role probe's first sample of it out of
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
  const probe = seen
    ? {
        t: seen.byT,
        afterT: seen.afterT,
        by: `the role probe saw ${seen.node} out of recovery`,
        mechanism: mechanism ?? ("pgdrill" as const),
      }
    : null;
  const word = mechanismWord(context, newPrimary, since);
  if (!probe) return word;
  if (!word || probe.t <= word.t) return probe;
  return { ...word, afterT: Math.min(probe.afterT, word.t) };
}

/**
 * The mechanism's own word that the new primary took over: the first such event at or after
 * `since` (pgdrill's promote returned, or the target's mechanism said so); a word its plugin is
 * not sure of (Patroni's leader key reaching the new primary) stands in only without a surer one.
 */
function mechanismWord(context: HistoryContext, newPrimary: string | null, since: number): Sign | null {
  const readers = MECHANISMS.map((signs) => signs.promotion(newPrimary));
  let standIn: Sign | null = null;
  for (const event of context.events) {
    if (event.t < since) continue;
    if (event.kind === "action" && event.action === "promote" && event.phase === "end" && event.ok !== false)
      return { t: event.t, by: `pgdrill's "${event.label}" returned`, mechanism: "pgdrill" };
    for (const read of readers) {
      const word = read(event);
      if (word?.sure) return word.sign;
      if (word && !standIn) standIn = word.sign;
    }
  }
  return standIn;
}

function isPromoteStart(event: HistoryEvent): event is ActionEvent {
  return event.kind === "action" && event.action === "promote" && event.phase === "start";
}
