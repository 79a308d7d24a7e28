/**
 * The write outage as clients of the write endpoint saw it: how it ended (recovery) and whether it
 * ended on another primary (failover). Two checkers read one fold of the same operations.
 *
 * The outage is the first non-ok write invoked at or after the first disruption (a fault injected,
 * or a switchover started); its cause is the latest disruption at or before the outage began, and
 * `faultAtMs`/`faultLabel` are that event's own t and label, fault or action. Recovery runs from
 * that disruption to the completion of the first ok write invoked after the outage began; "stable
 * after" runs to the completion of the first ok write after the last non-ok write, from which
 * point writes kept succeeding. Without a writes probe, the headline select1 probe stands in.
 *
 * Error bars: the disruption's time is exact, and so is the completion of the first ok write; the
 * moment writes became possible again is not seen. It lies after the invoke of the last non-ok
 * write before that first ok one (it was refused at some moment after it was sent) and before the
 * first ok write's completion (it had committed by then): `latencyLowerMs` and `latencyUpperMs`,
 * as this client stream saw it. The upper bound is the measured latency.
 *
 * A failover is a recovery on another primary. The node that served the first ok write after the
 * outage is compared with the one that served the last ok write before it (the run-start primary
 * when there was none). Another name is a failover. The same name is checked against the role
 * probe, when it sampled that node before the outage and after the recovery: another server
 * (`inet_server_addr()`) or another timeline behind the same name is a failover too — how a managed
 * endpoint, whose name never changes, fails over. The same server on a new timeline is not: it
 * was promoted again (Patroni demotes a leader that loses its DCS and takes it back afterwards).
 * Without such samples the name decides, and the reason says so.
 *
 * Decisions:
 * - No fault injected, or a fault but no outage: recovery latency and stable-after are 0 and the
 *   checks are valid, with a reason saying no outage was observed: clients saw no cost. A failover
 *   without an outage (a switchover no write noticed) has latency 0; no failover has null.
 * - No failover (the same primary came back: a pause, an isolation, a restart): the failover's
 *   latency, bounds and stable-after are null, so a gate like `failover.latencyMs < 30000` fails
 *   with "no failover: recovered on the same primary" instead of passing on a recovery; the
 *   failover check is still valid (nothing went wrong), and `recovery.*` carries the figures.
 * - An outage that never ended: recovery latency (or stable-after) is null, so a gate on it fails,
 *   and both checks are invalid; whether a failover happened is unknown (null).
 */
import type { Disruption, HistoryContext } from "../history/context.ts";
import type { RoleValue } from "../history/events.ts";
import { isCompleted, type CompletedOperation, type Operation } from "../history/operations.ts";
import type { Metrics } from "../result.ts";
import { defineChecker, sharedPass, type CheckerOutput, type SharedPass } from "./checker.ts";
import { ProbeList } from "./probes.ts";

export type FailoverMetrics = Metrics["failover"];
export type RecoveryMetrics = Metrics["recovery"];

const emptyFailover = (): FailoverMetrics => ({
  faultAtMs: null,
  faultLabel: null,
  happened: null,
  evidence: null,
  latencyMs: null,
  latencyLowerMs: null,
  latencyUpperMs: null,
  stableAfterMs: null,
  originalPrimary: null,
  newPrimary: null,
});
const emptyRecovery = (): RecoveryMetrics => ({
  latencyMs: null,
  latencyLowerMs: null,
  latencyUpperMs: null,
  stableAfterMs: null,
  node: null,
});

/** What one fold over the operations found: both checkers' outputs, and what the failover's anatomy reads beside them. */
export interface OutageReading {
  failover: CheckerOutput<FailoverMetrics>;
  recovery: CheckerOutput<RecoveryMetrics>;
  /** Every select1 and writes probe's own outage, in order of its first operation. */
  probes: Array<{ name: string; type: "select1" | "write"; outage: ProbeOutage }>;
  /** Each node's turns from in recovery to primary, as the role probe saw them. */
  promotions: ReadonlyMap<string, readonly Promotion[]>;
  /** Each node's turns from refusing writes (in recovery, or promoted but read-only) to accepting them. */
  writable: ReadonlyMap<string, readonly WritableTurn[]>;
}

/** One probe's outage after the first disruption, as t values (ms since run start); null: not seen. */
export interface ProbeOutage {
  /** Invoke of its first non-ok operation at or after the first disruption. */
  startedAt: number | null;
  /** Completion of its first ok operation invoked after that. */
  recoveredAt: number | null;
}

/** A node seen in recovery and then as a primary: the promotion happened between the two samples. */
export interface Promotion {
  node: string;
  /** Invoke of the last sample that saw it in recovery: it was not yet a primary at some moment after this. */
  afterT: number;
  /** Completion of the first sample that saw it as a primary: it accepted writes by then. */
  byT: number;
}

/** A node seen refusing writes and then accepting them: it became writable between the two samples. */
export interface WritableTurn extends Promotion {
  /** The sample before saw it promoted but read-only, so it was promoted earlier than it became writable. */
  readOnly: boolean;
}

export const failoverChecker = defineChecker<FailoverMetrics>({
  empty: emptyFailover,
  start(context) {
    const pass = outagePass(context);
    return { operation: pass.operation, finish: () => pass.result().failover };
  },
});

export const recoveryChecker = defineChecker<RecoveryMetrics>({
  empty: emptyRecovery,
  start(context) {
    const pass = outagePass(context);
    return { operation: pass.operation, finish: () => pass.result().recovery };
  },
});

/** The outage fold, once per History however many checkers read it. */
export function outagePass(context: HistoryContext): SharedPass<OutageReading> {
  return sharedPass(context, outageFold, outageFold);
}

/** The fold: every candidate subject is followed, since which one it is (are there writes at all?) is known only at the end. */
export function outageFold(context: HistoryContext): { operation: (operation: Operation) => void; finish: () => OutageReading } {
  const probes = new ProbeList();
  const writes = new OutageTracker(context.firstDisruptionAt);
  const byProbe = new Map<string, OutageTracker>();
  const trackers: OutageTracker[] = [writes];
  const promotions = new PromotionTracker();
  return {
    operation(operation: Operation) {
      if (operation.type === "role") {
        const sample = identityOf(operation);
        if (sample) for (const tracker of trackers) tracker.role(sample);
        if (isCompleted(operation)) promotions.add(operation);
        return;
      }
      probes.note(operation);
      if (!isCompleted(operation)) return;
      if (operation.type === "write") writes.add(operation);
      let tracker = byProbe.get(operation.probe);
      if (!tracker) {
        byProbe.set(operation.probe, (tracker = new OutageTracker(context.firstDisruptionAt)));
        if (operation.type !== "write") trackers.push(tracker);
      }
      tracker.add(operation);
    },
    finish(): OutageReading {
      const hasWrites = probes.all.some((probe) => probe.type === "write");
      const fallback = probes.headline?.type === "select1" ? probes.headline.name : null;
      const tracker = hasWrites ? writes : fallback ? (byProbe.get(fallback) ?? new OutageTracker(context.firstDisruptionAt)) : null;
      const subject = hasWrites ? "writes" : fallback ? `probe "${fallback}"` : null;
      const own = probes.all.flatMap((probe) => {
        const tracker = byProbe.get(probe.name);
        if (!tracker || probe.type === "role") return [];
        return [
          {
            name: probe.name,
            type: probe.type,
            outage: { startedAt: tracker.outage?.invokeT ?? null, recoveredAt: tracker.recovery?.completeT ?? null },
          },
        ];
      });
      return { ...read(context, tracker, subject), probes: own, promotions: promotions.byNode, writable: promotions.writableByNode };
    },
  };
}

function read(
  context: HistoryContext,
  tracker: OutageTracker | null,
  subject: string | null,
): Pick<OutageReading, "failover" | "recovery"> {
  const originalPrimary = context.runStart?.primary ?? null;
  const base: FailoverMetrics = { ...emptyFailover(), originalPrimary };
  if (!tracker || !subject) {
    const reason = "no writes or select1 probe operations recorded";
    return { failover: { valid: "unknown", metrics: base, reason }, recovery: { valid: "unknown", metrics: emptyRecovery(), reason } };
  }
  const noCost = { latencyMs: 0, latencyLowerMs: 0, latencyUpperMs: 0, stableAfterMs: 0 };

  const firstDisruptionAt = context.firstDisruptionAt;
  if (firstDisruptionAt === null) {
    const reason = "no fault injected: no outage observed";
    const node = tracker.lastOk?.node ?? originalPrimary;
    return {
      failover: { valid: true, metrics: { ...base, happened: false, newPrimary: node }, reason: `no failover: ${reason}` },
      recovery: { valid: true, metrics: { ...noCost, node }, reason },
    };
  }

  const outage = tracker.outage;
  if (!outage) {
    const first = context.disruptions.find((disruption) => disruption.t === firstDisruptionAt)!;
    const reason = `no outage observed in ${subject} after "${first.label}"`;
    const node = tracker.lastOk?.node ?? originalPrimary;
    const before = tracker.okBeforeDisruption?.node ?? originalPrimary;
    const change = primaryChange(before, node, tracker.identitiesAtDisruption, tracker.latestIdentity(node, firstDisruptionAt));
    const at = {
      ...base,
      ...(change.happened ? change.servers : {}),
      faultAtMs: first.t,
      faultLabel: first.label,
      newPrimary: node,
      happened: change.happened,
      evidence: change.evidence,
    };
    return {
      failover: {
        valid: true,
        metrics: change.happened ? { ...at, ...noCost } : at,
        reason: change.happened ? `${reason}; the primary changed (${change.evidence})` : `no failover: ${reason}`,
      },
      recovery: { valid: true, metrics: { ...noCost, node }, reason },
    };
  }

  const cause = context.disruptions
    .filter((disruption) => disruption.t <= outage.invokeT)
    .reduce((latest: Disruption, disruption) => (disruption.t >= latest.t ? disruption : latest));
  const faultAtMs = cause.t;
  const { recovery, stable, lastBadBeforeRecovery } = tracker;
  const recoveryMetrics: RecoveryMetrics = {
    latencyMs: recovery ? recovery.completeT - faultAtMs : null,
    latencyLowerMs: recovery && lastBadBeforeRecovery ? Math.max(0, lastBadBeforeRecovery.invokeT - faultAtMs) : null,
    latencyUpperMs: recovery ? recovery.completeT - faultAtMs : null,
    stableAfterMs: stable ? stable.completeT - faultAtMs : null,
    node: recovery?.node ?? null,
  };
  const at: FailoverMetrics = { ...base, faultAtMs, faultLabel: cause.label, newPrimary: recoveryMetrics.node };
  if (!recovery) {
    const reason = `${subject} never recovered after "${cause.label}"`;
    return { failover: { valid: false, metrics: at, reason }, recovery: { valid: false, metrics: recoveryMetrics, reason } };
  }

  const before = tracker.okBeforeOutage?.node ?? originalPrimary;
  // A restore in the outage rebuilt the cluster: a new server (or leader) behind the name is what a restore makes, not a failover.
  const restored = context.events.some(
    (e) => e.kind === "backup" && e.subject === "restore" && e.phase === "started" && e.t >= outage.invokeT && e.t <= recovery.completeT,
  );
  const change = restored
    ? { happened: false, evidence: "restored from a backup during the outage: a restore, not a failover" }
    : primaryChange(before, recovery.node, tracker.identitiesAtOutage, tracker.identityAfterRecovery);
  const failoverMetrics: FailoverMetrics = change.happened
    ? {
        ...at,
        ...change.servers,
        happened: true,
        evidence: change.evidence,
        latencyMs: recoveryMetrics.latencyMs,
        latencyLowerMs: recoveryMetrics.latencyLowerMs,
        latencyUpperMs: recoveryMetrics.latencyUpperMs,
        stableAfterMs: recoveryMetrics.stableAfterMs,
      }
    : { ...at, happened: false, evidence: change.evidence };
  const unstable = stable ? null : `${subject} recovered but were failing again when the drill ended`;
  const failoverReason = change.happened
    ? undefined
    : `no failover: recovered on the same primary${recovery.node ? ` (${recovery.node})` : ""}; ${change.evidence}`;
  return {
    failover: unstable
      ? { valid: false, metrics: failoverMetrics, reason: unstable }
      : { valid: true, metrics: failoverMetrics, ...(failoverReason ? { reason: failoverReason } : {}) },
    recovery: unstable ? { valid: false, metrics: recoveryMetrics, reason: unstable } : { valid: true, metrics: recoveryMetrics },
  };
}

/** Who a node was, from one role sample: the server behind its name and its timeline. */
interface Identity {
  node: string;
  invokeT: number;
  server: string | null;
  timeline: number | null;
}

function identityOf(operation: Operation): Identity | null {
  if (operation.outcome !== "ok" || operation.node === null) return null;
  const value = operation.value as RoleValue | null;
  if (typeof value !== "object" || value === null || typeof value.primary !== "boolean") return null;
  return { node: operation.node, invokeT: operation.invokeT, server: value.server ?? null, timeline: value.timeline };
}

/**
 * Did the primary change between the node that served before and the one that served after? By
 * name first; the same name by the role probe's view of that node, before and after.
 */
function primaryChange(
  before: string | null,
  after: string | null,
  identitiesBefore: ReadonlyMap<string, Identity>,
  identityAfter: Identity | null,
): { happened: boolean; evidence: string; servers?: { originalPrimaryServer: string; newPrimaryServer: string } } {
  if (before !== null && after !== null && before !== after) return { happened: true, evidence: `node ${before} → ${after}` };
  const name = after ?? before ?? "?";
  const earlier = after === null ? undefined : identitiesBefore.get(after);
  const later = identityAfter !== null && identityAfter.node === after ? identityAfter : null;
  if (!earlier || !later)
    return {
      happened: false,
      evidence: `the same node (${name}); no role samples of it before and after to tell a server change behind the name`,
    };
  if (earlier.server !== null && later.server !== null && earlier.server !== later.server)
    return {
      happened: true,
      evidence: `server ${earlier.server} → ${later.server} behind ${name}`,
      // The name does not say which server took over (an endpoint's "primary"): the reports name it.
      servers: { originalPrimaryServer: earlier.server, newPrimaryServer: later.server },
    };
  if (earlier.timeline !== null && later.timeline !== null && earlier.timeline !== later.timeline) {
    // The same server on a new timeline was promoted again (an HA manager that demoted it when it
    // lost its DCS, then took it back): the same primary. Only a name that hides its server fails over this way.
    if (earlier.server !== null && later.server !== null)
      return {
        happened: false,
        evidence: `the same node (${name}), server ${later.server}, promoted again: timeline ${earlier.timeline} → ${later.timeline}`,
      };
    return { happened: true, evidence: `timeline ${earlier.timeline} → ${later.timeline} on ${name}` };
  }
  const same = [
    earlier.server !== null && later.server !== null ? `server ${later.server}` : null,
    earlier.timeline !== null && later.timeline !== null ? `timeline ${later.timeline}` : null,
  ].filter((part) => part !== null);
  return {
    happened: false,
    evidence:
      same.length > 0
        ? `the same node (${name}), ${same.join(", ")} before and after`
        : `the same node (${name}); its role samples name no server or timeline`,
  };
}

/**
 * Follows one stream of completed operations in invoke order: the outage (the first non-ok one
 * invoked at or after the first disruption), the recovery (the first ok one invoked after the outage
 * began), and stability (the first ok one after the latest non-ok one); beside them, the role
 * probe's samples, to know who each node was before the outage and after the recovery.
 */
class OutageTracker {
  private readonly firstDisruptionAt: number | null;
  outage: CompletedOperation | null = null;
  recovery: CompletedOperation | null = null;
  stable: CompletedOperation | null = null;
  lastOk: CompletedOperation | null = null;
  /** The last ok operation invoked before the first disruption, and before the outage. */
  okBeforeDisruption: CompletedOperation | null = null;
  okBeforeOutage: CompletedOperation | null = null;
  /** The last non-ok operation invoked before the recovery: its invoke is the recovery's lower bound. */
  lastBadBeforeRecovery: CompletedOperation | null = null;
  /** Each node's latest identity, and as it was when the disruption began and when the outage began. */
  private readonly identities = new Map<string, Identity>();
  identitiesAtDisruption: ReadonlyMap<string, Identity> = new Map();
  identitiesAtOutage: ReadonlyMap<string, Identity> = new Map();
  /** The recovery node's first identity sampled at or after the recovery's invoke. */
  identityAfterRecovery: Identity | null = null;
  private disruptionSeen = false;
  private lastBad: CompletedOperation | null = null;

  constructor(firstDisruptionAt: number | null) {
    this.firstDisruptionAt = firstDisruptionAt;
  }

  add(operation: CompletedOperation): void {
    this.passTime(operation.invokeT);
    if (operation.outcome === "ok") {
      this.lastOk = operation;
      if (!this.disruptionSeen) this.okBeforeDisruption = operation;
      if (!this.outage) this.okBeforeOutage = operation;
      if (this.outage && !this.recovery && operation.invokeT > this.outage.invokeT) {
        this.recovery = operation;
        this.lastBadBeforeRecovery = this.lastBad;
      }
      if (this.lastBad && !this.stable && operation.invokeT > this.lastBad.invokeT) this.stable = operation;
      return;
    }
    this.lastBad = operation;
    this.stable = null;
    if (!this.outage && this.firstDisruptionAt !== null && operation.invokeT >= this.firstDisruptionAt) {
      this.outage = operation;
      this.identitiesAtOutage = new Map(this.identities);
    }
  }

  role(sample: Identity): void {
    this.passTime(sample.invokeT);
    this.identities.set(sample.node, sample);
    if (this.recovery && !this.identityAfterRecovery && sample.node === this.recovery.node && sample.invokeT >= this.recovery.invokeT)
      this.identityAfterRecovery = sample;
  }

  /** The node's latest identity, if it was sampled at or after `since`. */
  latestIdentity(node: string | null, since: number): Identity | null {
    const identity = node === null ? undefined : this.identities.get(node);
    return identity && identity.invokeT >= since ? identity : null;
  }

  private passTime(invokeT: number): void {
    if (this.disruptionSeen || this.firstDisruptionAt === null || invokeT < this.firstDisruptionAt) return;
    this.disruptionSeen = true;
    this.identitiesAtDisruption = new Map(this.identities);
  }
}

/**
 * Follows each node's role samples for the moments it turned from in recovery to primary, and from
 * refusing writes to accepting them (the same moments in older histories, whose samples did not
 * say whether a primary was writable).
 */
class PromotionTracker {
  readonly byNode = new Map<string, Promotion[]>();
  readonly writableByNode = new Map<string, WritableTurn[]>();
  /** Each node's latest sample that saw it in recovery, until a primary sample follows. */
  private readonly inRecovery = new Map<string, number>();
  /** Each node's latest sample that saw it refuse writes, until a writable sample follows. */
  private readonly refusing = new Map<string, { t: number; readOnly: boolean }>();

  add(operation: CompletedOperation): void {
    const node = operation.node;
    const value = operation.value as RoleValue | null | undefined;
    if (operation.outcome !== "ok" || node === null || typeof value !== "object" || value === null) return;
    const writable = value.writable ?? value.primary;
    const refused = this.refusing.get(node);
    if (!writable) this.refusing.set(node, { t: operation.invokeT, readOnly: value.primary });
    else if (refused) {
      this.refusing.delete(node);
      push(this.writableByNode, node, { node, afterT: refused.t, byT: operation.completeT, readOnly: refused.readOnly });
    }
    if (!value.primary) {
      this.inRecovery.set(node, operation.invokeT);
      return;
    }
    const afterT = this.inRecovery.get(node);
    if (afterT === undefined) return;
    this.inRecovery.delete(node);
    push(this.byNode, node, { node, afterT, byT: operation.completeT });
  }
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}
