/**
 * Availability: for each probe (role probes excepted: they ask every node on purpose, dead ones
 * included), the share of completed operations that were ok. The headline is the first select1
 * probe, else the first writes probe; `faultWindowRatio` is the headline over operations invoked
 * at or after the first disruption (a fault injected or a switchover started).
 */
import { isCompleted, type Operation } from "../history/operations.ts";
import type { Metrics, ProbeAvailability } from "../result.ts";
import { defineChecker, ratio, type CheckerOutput } from "./checker.ts";
import { ProbeList } from "./probes.ts";

export type AvailabilityMetrics = Metrics["availability"];

export const availabilityChecker = defineChecker<AvailabilityMetrics>({
  empty: () => ({ ...new Tally().result(), probe: null, faultWindowRatio: null, byProbe: {} }),
  start(context) {
    const probes = new ProbeList();
    const all = new Map<string, Tally>();
    const fromFault = new Map<string, Tally>();
    const faultAt = context.firstDisruptionAt;
    return {
      operation(operation: Operation) {
        if (operation.type === "role") return;
        probes.note(operation);
        if (!isCompleted(operation)) return;
        tallyOf(all, operation.probe).add(operation);
        if (faultAt !== null && operation.invokeT >= faultAt) tallyOf(fromFault, operation.probe).add(operation);
      },
      finish(): CheckerOutput<AvailabilityMetrics> {
        const byProbe: Record<string, ProbeAvailability> = {};
        for (const probe of probes.all) byProbe[probe.name] = (all.get(probe.name) ?? new Tally()).result();
        const headline = probes.headline;
        if (!headline) {
          return { valid: "unknown", metrics: { ...availabilityChecker.empty(), byProbe }, reason: "no select1 or writes probe operations recorded" };
        }
        const headlineTally = byProbe[headline.name]!;
        const faultWindowRatio = faultAt === null ? null : (fromFault.get(headline.name) ?? new Tally()).result().ratio;
        return {
          valid: headlineTally.ratio === null ? "unknown" : true,
          metrics: { ...headlineTally, probe: headline.name, faultWindowRatio, byProbe },
          ...(headlineTally.ratio === null ? { reason: `probe "${headline.name}" completed no operation` } : {}),
        };
      },
    };
  },
});

class Tally {
  private ok = 0;
  private fail = 0;
  private info = 0;

  add(operation: Operation): void {
    if (operation.outcome === "ok") this.ok += 1;
    else if (operation.outcome === "fail") this.fail += 1;
    else this.info += 1;
  }

  result(): ProbeAvailability {
    return { ratio: ratio(this.ok, this.ok + this.fail + this.info), ok: this.ok, fail: this.fail, info: this.info };
  }
}

function tallyOf(tallies: Map<string, Tally>, probe: string): Tally {
  let tally = tallies.get(probe);
  if (!tally) tallies.set(probe, (tally = new Tally()));
  return tally;
}
