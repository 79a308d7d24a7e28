/**
 * The Schedule as a pure plan (Jepsen's generators, made concrete): from the scenario's steps to
 * a time-ordered list of things to do, with automatic heals for faults that have a `for`.
 * Deterministic: the same scenario always gives the same plan.
 */
import { toMs } from "../duration.ts";
import type { ActionSpec, FaultSpec, ManualSpec, StepSpec } from "../scenario/schema.ts";

export type PlannedStep =
  | { at: number; kind: "inject"; id: string; fault: FaultSpec }
  | { at: number; kind: "heal"; id: string; fault: FaultSpec }
  | { at: number; kind: "action"; id: string; action: ActionSpec }
  | { at: number; kind: "manual"; id: string; manual: ManualSpec };

/** A planned step and the index of the schedule entry it came from (for error messages). */
export type TracedStep = PlannedStep & { origin: number };

export function planSchedule(steps: readonly StepSpec[]): PlannedStep[] {
  return traceSchedule(steps).map(({ origin: _origin, ...step }) => step as PlannedStep);
}

/** The plan, each step still knowing which schedule entry wrote it. */
export function traceSchedule(steps: readonly StepSpec[]): TracedStep[] {
  const planned: TracedStep[] = [];
  let faults = 0;
  let actions = 0;
  let manuals = 0;
  steps.forEach((step, order) => {
    const at = toMs(step.at);
    if ("fault" in step) {
      const id = `f${++faults}`;
      planned.push({ at, kind: "inject", id, fault: step.fault, origin: order });
      if (step.for !== undefined) planned.push({ at: at + toMs(step.for), kind: "heal", id, fault: step.fault, origin: order });
    } else if ("manual" in step) {
      planned.push({ at, kind: "manual", id: `m${++manuals}`, manual: step.manual, origin: order });
    } else {
      planned.push({ at, kind: "action", id: `a${++actions}`, action: step.action, origin: order });
    }
  });
  // Stable by time, then by the order written: "kill at 6s" before "promote at 6s" if written so.
  return planned.sort((a, b) => a.at - b.at || a.origin - b.origin);
}

/**
 * The schedule's manual steps as the plan names them: m1, m2, … in the order the schedule lists
 * them (not their time), each with its entry's index and instruction. `pgdrill confirm --step`
 * and the History's events use these ids.
 */
export function manualStepsOf(steps: readonly StepSpec[]): Array<{ index: number; id: string; say: string }> {
  return traceSchedule(steps)
    .flatMap((step) => (step.kind === "manual" ? [{ index: step.origin, id: step.id, say: step.manual.say }] : []))
    .sort((a, b) => a.index - b.index);
}

/** When the first fault or action happens (the steady state must be judged before it). */
export function firstStepAt(plan: readonly PlannedStep[]): number | null {
  return plan.length > 0 ? plan[0]!.at : null;
}
