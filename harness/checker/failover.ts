/**
 * Failover, as clients of the write endpoint saw it. The write outage is the first non-ok write
 * invoked at or after the first disruption (a fault injected, or a switchover started); its cause
 * is the latest disruption at or before the outage began, and `faultAtMs`/`faultLabel` are that
 * event's own t and label, fault or action. Latency runs from that disruption to the completion of
 * the first ok write invoked after the outage began; "stable after" runs to the completion of the
 * first ok write after the last non-ok write, from which point writes kept succeeding. Without a
 * writes probe, the headline select1 probe stands in.
 *
 * Decisions:
 * - No fault injected, or a fault but no outage: latency and stable-after are 0 and the check is
 *   valid, with a reason saying no outage was observed. A client saw no failover cost, so a gate
 *   like `failover.latencyMs < 30000` passes, which is the truth about what clients saw.
 * - An outage that never ended: latency (or stable-after) is null, so a gate on it fails, and the
 *   check is invalid.
 */
import type { Disruption } from "../history/context.ts";
import { isCompleted, type CompletedOperation, type Operation } from "../history/operations.ts";
import type { Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { ProbeList } from "./probes.ts";

export type FailoverMetrics = Metrics["failover"];

export const failoverChecker = defineChecker<FailoverMetrics>({
  empty: () => ({ faultAtMs: null, faultLabel: null, latencyMs: null, stableAfterMs: null, originalPrimary: null, newPrimary: null }),
  start(context) {
    const probes = new ProbeList();
    // Which operations are the subject is known only at the end (are there writes at all?), so
    // every candidate is followed: all writes together, and each select1 probe.
    const writes = new OutageTracker(context.firstDisruptionAt);
    const select1 = new Map<string, OutageTracker>();
    return {
      operation(operation: Operation) {
        if (operation.type === "role") return;
        probes.note(operation);
        if (!isCompleted(operation)) return;
        if (operation.type === "write") writes.add(operation);
        else {
          let tracker = select1.get(operation.probe);
          if (!tracker) select1.set(operation.probe, (tracker = new OutageTracker(context.firstDisruptionAt)));
          tracker.add(operation);
        }
      },
      finish(): CheckerOutput<FailoverMetrics> {
        const originalPrimary = context.runStart?.primary ?? null;
        const hasWrites = probes.all.some((probe) => probe.type === "write");
        const fallback = probes.headline?.type === "select1" ? probes.headline.name : null;
        const tracker = hasWrites ? writes : fallback ? (select1.get(fallback) ?? new OutageTracker(context.firstDisruptionAt)) : null;
        const subject = hasWrites ? "writes" : fallback ? `probe "${fallback}"` : null;
        const base = { ...failoverChecker.empty(), originalPrimary };
        if (!tracker || !subject) return { valid: "unknown", metrics: base, reason: "no writes or select1 probe operations recorded" };

        const firstDisruptionAt = context.firstDisruptionAt;
        if (firstDisruptionAt === null) {
          return { valid: true, metrics: { ...base, latencyMs: 0, stableAfterMs: 0, newPrimary: originalPrimary }, reason: "no fault injected: no outage observed" };
        }
        const outage = tracker.outage;
        if (!outage) {
          const first = context.disruptions.find((disruption) => disruption.t === firstDisruptionAt)!;
          return {
            valid: true,
            metrics: { ...base, faultAtMs: first.t, faultLabel: first.label, latencyMs: 0, stableAfterMs: 0, newPrimary: tracker.lastOk?.node ?? originalPrimary },
            reason: `no outage observed in ${subject} after "${first.label}"`,
          };
        }

        const cause = context.disruptions.filter((disruption) => disruption.t <= outage.invokeT).reduce((latest: Disruption, disruption) => (disruption.t >= latest.t ? disruption : latest));
        const faultAtMs = cause.t;
        const { recovery, stable } = tracker;
        const metrics: FailoverMetrics = {
          ...base,
          faultAtMs,
          faultLabel: cause.label,
          latencyMs: recovery ? recovery.completeT - faultAtMs : null,
          stableAfterMs: stable ? stable.completeT - faultAtMs : null,
          newPrimary: recovery?.node ?? null,
        };
        if (!recovery) return { valid: false, metrics, reason: `${subject} never recovered after "${cause.label}"` };
        if (!stable) return { valid: false, metrics, reason: `${subject} recovered but were failing again when the drill ended` };
        return { valid: true, metrics };
      },
    };
  },
});

/**
 * Follows one stream of completed operations in invoke order: the outage (the first non-ok one
 * invoked at or after the first disruption), the recovery (the first ok one invoked after the outage
 * began), and stability (the first ok one after the latest non-ok one).
 */
class OutageTracker {
  private readonly firstDisruptionAt: number | null;
  outage: CompletedOperation | null = null;
  recovery: CompletedOperation | null = null;
  stable: CompletedOperation | null = null;
  lastOk: CompletedOperation | null = null;
  private lastBad: CompletedOperation | null = null;

  constructor(firstDisruptionAt: number | null) {
    this.firstDisruptionAt = firstDisruptionAt;
  }

  add(operation: CompletedOperation): void {
    if (operation.outcome === "ok") {
      this.lastOk = operation;
      if (this.outage && !this.recovery && operation.invokeT > this.outage.invokeT) this.recovery = operation;
      if (this.lastBad && !this.stable && operation.invokeT > this.lastBad.invokeT) this.stable = operation;
      return;
    }
    this.lastBad = operation;
    this.stable = null;
    if (!this.outage && this.firstDisruptionAt !== null && operation.invokeT >= this.firstDisruptionAt) this.outage = operation;
  }
}
