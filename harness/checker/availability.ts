/**
 * Availability: for each probe (role probes excepted: they ask every node on purpose, dead ones
 * included), the share of completed operations that were ok. The headline is the first select1
 * probe, else the first writes probe; `faultWindowRatio` is the headline over operations invoked
 * at or after the first fault.
 */
import type { HistoryEvent } from "../history/events.ts";
import type { Metrics, ProbeAvailability } from "../result.ts";
import { ratio, type Checker, type CheckerOutput } from "./checker.ts";
import { completedOf, viewOf, type CompletedOperation } from "./operations.ts";

export type AvailabilityMetrics = Metrics["availability"];

export const availabilityChecker: Checker<AvailabilityMetrics> = {
  empty: () => ({ ...tally([]), probe: null, faultWindowRatio: null, byProbe: {} }),
  check(events: readonly HistoryEvent[]): CheckerOutput<AvailabilityMetrics> {
    const view = viewOf(events);
    const byProbe: Record<string, ProbeAvailability> = {};
    for (const probe of view.probes) {
      if (probe.type !== "role") byProbe[probe.name] = tally(completedOf(view, probe.name));
    }
    const headline = view.headline;
    if (!headline) {
      return { valid: "unknown", metrics: { ...availabilityChecker.empty(), byProbe }, reason: "no select1 or writes probe operations recorded" };
    }
    const operations = completedOf(view, headline.name);
    const faultAt = view.firstFaultAt;
    const inWindow = faultAt === null ? [] : operations.filter((operation) => operation.invokeT >= faultAt);
    const headlineTally = tally(operations);
    return {
      valid: headlineTally.ratio === null ? "unknown" : true,
      metrics: { ...headlineTally, probe: headline.name, faultWindowRatio: tally(inWindow).ratio, byProbe },
      ...(headlineTally.ratio === null ? { reason: `probe "${headline.name}" completed no operation` } : {}),
    };
  },
};

function tally(operations: readonly CompletedOperation[]): ProbeAvailability {
  let ok = 0;
  let fail = 0;
  let info = 0;
  for (const operation of operations) {
    if (operation.outcome === "ok") ok += 1;
    else if (operation.outcome === "fail") fail += 1;
    else info += 1;
  }
  return { ratio: ratio(ok, ok + fail + info), ok, fail, info };
}
