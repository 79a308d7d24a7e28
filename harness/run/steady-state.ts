/**
 * The steady-state check before the first fault (Chaos Toolkit's hypothesis): over the window,
 * every probe (role probes excepted, as for availability) must have been served for at least
 * `steadyState.minAvailability` of the time.
 *
 * "Served for a share of the time" is availability.ratio's definition, computed by the same
 * checker (checker/availability.ts, on checker/downtime.ts's windows) over the window's operations
 * alone: 1 − the probe's downtime / its observed span (first invoke → last completion in the
 * window). An operation still in flight when the window ends is not observed, as an operation that
 * never completed is not in the analysis. Each probe is judged, not only the headline, so a
 * writes probe that cannot write fails the baseline even when select1 is fine; `availability` in
 * the steady-state event is the lowest share.
 */
import { availabilityChecker } from "../checker/availability.ts";
import { runChecker } from "../checker/checker.ts";
import { formatMs } from "../duration.ts";
import type { HistoryEvent, RunStartEvent, SteadyStateEvent } from "../history/events.ts";
import type { ProbeAvailability } from "../result.ts";

export type SteadyStateJudgement = Omit<SteadyStateEvent, "kind" | "t">;

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/**
 * Judges a window's events: `events` holds the run-start (for the probes' slo) and the probe
 * operations of the window. Pure, so a hand-made History can be judged as a drill judges its own.
 */
export function judgeSteadyState(events: readonly HistoryEvent[], required: number): SteadyStateJudgement {
  const checked = runChecker(availabilityChecker, events);
  const probes = Object.entries(checked.metrics.byProbe);
  const fail = (message: string): SteadyStateJudgement => ({
    ok: false,
    availability: null,
    required,
    message: `steady state: ${message}`,
  });
  if (checked.crashed) return fail(`could not be judged (${checked.reason ?? "the availability checker crashed"})`);
  if (probes.length === 0) return fail("no probe operation completed in the window");
  const unobserved = probes.filter(([, probe]) => probe.ratio === null).map(([name]) => name);
  if (unobserved.length > 0)
    return fail(`no operation of ${unobserved.map((name) => `"${name}"`).join(", ")} completed in the window (it observed no time)`);

  const shares = probes.map(([name, probe]) => ({ name, probe, ratio: probe.ratio! }));
  const lowest = shares.reduce((low, each) => (each.ratio < low.ratio ? each : low));
  const below = shares.filter((each) => each.ratio < required);
  const ok = below.length === 0;
  // The headline first, then the others; the ones below the requirement in detail.
  const headline = checked.metrics.probe;
  const ordered = [...shares].sort((a, b) => Number(b.name === headline) - Number(a.name === headline));
  const parts = ordered.map((each) =>
    below.includes(each) ? describeBelow(each.name, each.probe) : `${each.name} ${percent(each.ratio)}`,
  );
  return {
    ok,
    availability: lowest.ratio,
    required,
    message: `steady state: served ${parts.join(", ")} of the time, required ${percent(required)} (share of time, as availability.ratio)`,
  };
}

/** "writes 62.3% (down 754 ms of 2.00 s observed; 12 of 40 operations not ok)". */
function describeBelow(name: string, probe: ProbeAvailability): string {
  const total = probe.ok + probe.fail + probe.info;
  const notOk = probe.fail + probe.info;
  const stalls = probe.stalled > 0 ? `, ${probe.stalled} slower than the slo` : "";
  return (
    `${name} ${percent(probe.ratio!)} (down ${formatMs(probe.unavailableMs)} of ${formatMs(probe.observedMs)} observed; ` +
    `${notOk} of ${total} operations not ok${stalls})`
  );
}

/**
 * Collects the steady-state window's probe operations as a drill appends them (feed it every
 * History event), then judges them once the window is over. Keeps only the window's operations.
 */
export class SteadyStateWindow {
  private readonly events: HistoryEvent[];
  private readonly windowEnd: number;
  private judged = false;

  /** `runStart`: the drill's run-start event (its probe records carry the slo). */
  constructor(runStart: RunStartEvent, windowEnd: number) {
    this.events = [runStart];
    this.windowEnd = windowEnd;
  }

  add = (event: HistoryEvent): void => {
    if (this.judged || event.t > this.windowEnd) return;
    if ((event.kind === "invoke" || event.kind === "complete") && event.type !== "role") this.events.push(event);
  };

  judge(required: number): SteadyStateJudgement {
    this.judged = true;
    return judgeSteadyState(this.events, required);
  }
}
