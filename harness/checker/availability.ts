/**
 * Availability, as a share of time: for each probe (role probes excepted: they ask every node on
 * purpose, dead ones included), the share of its observed time during which it was served.
 *
 * - The observed span runs from the probe's first invoke to its last completion: what it saw,
 *   not the teardown after it, nor an operation that never completed.
 * - The time it was not served is its downtime windows (downtime.ts builds them, failures and
 *   stalls past the probe's `slo` alike), so `ratio` = 1 − (their total) / (the span), and the
 *   downtime checker's totals and this ratio agree by construction. `ratioLower`/`ratioUpper`
 *   come the same way from the windows' longest and shortest possible totals.
 * - `faultWindowRatio` is the headline's share over the part of its span from the first
 *   disruption (a fault injected or a switchover started) on, the windows clipped to it.
 * - The operation count stays beside it, named as one: `operationRatio` is ok / all completed
 *   operations (`faultWindowOperationRatio` over those invoked at or after the first disruption),
 *   with the ok, fail and info counts. A stalled client makes few attempts while it waits, so this
 *   count barely moves in a long outage; the share of time does.
 *
 * The headline is the first select1 probe, else the first writes probe.
 */
import type { Metrics, ProbeAvailability } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { OperationCounts, totals, windowPass, type ProbeTimeline } from "./downtime.ts";

export type AvailabilityMetrics = Metrics["availability"];

export const availabilityChecker = defineChecker<AvailabilityMetrics>({
  empty: () => ({
    ...availabilityOf({ windows: [], observed: null }, new OperationCounts(), null),
    probe: null,
    faultWindowRatio: null,
    faultWindowOperationRatio: null,
    byProbe: {},
  }),
  start(context) {
    const pass = windowPass(context);
    const faultAt = context.firstDisruptionAt;
    return {
      operation: pass.operation,
      finish(): CheckerOutput<AvailabilityMetrics> {
        const reading = pass.result();
        const byProbe: Record<string, ProbeAvailability> = {};
        for (const probe of reading.probes) byProbe[probe.name] = availabilityOf(probe.timeline, probe.counts, probe.sloMs);
        const headline = reading.headline;
        if (!headline) {
          return {
            valid: "unknown",
            metrics: { ...availabilityChecker.empty(), byProbe },
            reason: "no select1 or writes probe operations recorded",
          };
        }
        const own = byProbe[headline.name]!;
        const faultWindowRatio = faultAt === null ? null : shareServed(headline.timeline, faultAt);
        const faultWindowOperationRatio = faultAt === null ? null : headline.countsFromFault.ratio;
        const reason =
          own.observedFromMs === null
            ? `probe "${headline.name}" completed no operation`
            : `probe "${headline.name}" observed no time (its operations took 0 ms)`;
        return {
          valid: own.ratio === null ? "unknown" : true,
          metrics: { ...own, probe: headline.name, faultWindowRatio, faultWindowOperationRatio, byProbe },
          ...(own.ratio === null ? { reason } : {}),
        };
      },
    };
  },
});

/** A probe's availability from its timeline (the time) and its counts (the operations). */
function availabilityOf(timeline: ProbeTimeline, counts: OperationCounts, sloMs: number | null): ProbeAvailability {
  const observed = timeline.observed;
  const observedMs = observed ? observed.toMs - observed.fromMs : 0;
  const down = totals(timeline.windows);
  const share = (unavailableMs: number) => (observedMs > 0 ? 1 - unavailableMs / observedMs : null);
  return {
    ratio: share(down.totalMs),
    ratioLower: share(down.totalUpperMs),
    ratioUpper: share(down.totalLowerMs),
    observedFromMs: observed?.fromMs ?? null,
    observedToMs: observed?.toMs ?? null,
    observedMs,
    unavailableMs: down.totalMs,
    sloMs,
    operationRatio: counts.ratio,
    ok: counts.ok,
    fail: counts.fail,
    info: counts.info,
    stalled: counts.stalled,
  };
}

/** The share of the probe's observed span from `fromMs` on during which it was served; null when that part is empty. */
export function shareServed(timeline: ProbeTimeline, fromMs: number): number | null {
  const observed = timeline.observed;
  if (!observed) return null;
  const from = Math.max(fromMs, observed.fromMs);
  const spanMs = observed.toMs - from;
  if (spanMs <= 0) return null;
  let downMs = 0;
  for (const window of timeline.windows) downMs += Math.max(0, Math.min(window.endMs, observed.toMs) - Math.max(window.startMs, from));
  return 1 - downMs / spanMs;
}
