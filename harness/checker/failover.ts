/**
 * Failover, as clients of the write endpoint saw it. The write outage is the first non-ok write
 * invoked at or after the first fault; its cause is the latest fault injected at or before the
 * outage began. Latency runs from that fault to the completion of the first ok write invoked after
 * the outage began; "stable after" runs to the completion of the first ok write after the last
 * non-ok write, from which point writes kept succeeding. Without a writes probe, the headline
 * select1 probe stands in.
 *
 * Decisions:
 * - No fault injected, or a fault but no outage: latency and stable-after are 0 and the check is
 *   valid, with a reason saying no outage was observed. A client saw no failover cost, so a gate
 *   like `failover.latencyMs < 30000` passes, which is the truth about what clients saw.
 * - An outage that never ended: latency (or stable-after) is null, so a gate on it fails, and the
 *   check is invalid.
 */
import type { HistoryEvent } from "../history/events.ts";
import type { Metrics } from "../result.ts";
import type { Checker, CheckerOutput } from "./checker.ts";
import { completedOf, isCompleted, viewOf, type CompletedOperation } from "./operations.ts";

export type FailoverMetrics = Metrics["failover"];

export const failoverChecker: Checker<FailoverMetrics> = {
  empty: () => ({ faultAtMs: null, faultLabel: null, latencyMs: null, stableAfterMs: null, originalPrimary: null, newPrimary: null }),
  check(events: readonly HistoryEvent[]): CheckerOutput<FailoverMetrics> {
    const view = viewOf(events);
    const originalPrimary = view.runStart?.primary ?? null;
    const writes = view.operations.filter((operation): operation is CompletedOperation => operation.type === "write" && isCompleted(operation));
    const hasWrites = view.probes.some((probe) => probe.type === "write");
    const fallback = view.headline?.type === "select1" ? view.headline.name : null;
    const operations = hasWrites ? writes : fallback ? completedOf(view, fallback) : [];
    const subject = hasWrites ? "writes" : fallback ? `probe "${fallback}"` : null;
    const base = { ...failoverChecker.empty(), originalPrimary };
    if (!subject) return { valid: "unknown", metrics: base, reason: "no writes or select1 probe operations recorded" };

    const firstFaultAt = view.firstFaultAt;
    if (firstFaultAt === null) {
      return { valid: true, metrics: { ...base, latencyMs: 0, stableAfterMs: 0, newPrimary: originalPrimary }, reason: "no fault injected: no outage observed" };
    }
    const outage = operations.find((operation) => operation.outcome !== "ok" && operation.invokeT >= firstFaultAt);
    if (!outage) {
      const first = view.injects.find((inject) => inject.t === firstFaultAt)!;
      const lastOk = operations.findLast((operation) => operation.outcome === "ok");
      return {
        valid: true,
        metrics: { ...base, faultAtMs: first.t, faultLabel: first.label, latencyMs: 0, stableAfterMs: 0, newPrimary: lastOk?.node ?? originalPrimary },
        reason: `no outage observed in ${subject} after "${first.label}"`,
      };
    }

    const cause = view.injects.filter((inject) => inject.t <= outage.invokeT).reduce((latest, inject) => (inject.t >= latest.t ? inject : latest));
    const faultAtMs = cause.t;
    const recovery = operations.find((operation) => operation.outcome === "ok" && operation.invokeT > outage.invokeT);
    const lastBad = operations.findLast((operation) => operation.outcome !== "ok")!;
    const stable = operations.find((operation) => operation.outcome === "ok" && operation.invokeT > lastBad.invokeT);
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
