/**
 * The Schedule as a pure plan (Jepsen's generators, made concrete): from the scenario's steps to
 * a time-ordered list of things to do, with automatic heals for faults that have a `for`.
 * Deterministic: the same scenario always gives the same plan.
 */
import { toMs } from "../duration.ts";
import type { ActionSpec, FaultSpec, StepSpec } from "../scenario/schema.ts";

export type PlannedStep =
  | { at: number; kind: "inject"; id: string; fault: FaultSpec }
  | { at: number; kind: "heal"; id: string; fault: FaultSpec }
  | { at: number; kind: "action"; id: string; action: ActionSpec };

export function planSchedule(steps: readonly StepSpec[]): PlannedStep[] {
  const planned: Array<PlannedStep & { order: number }> = [];
  let faults = 0;
  let actions = 0;
  steps.forEach((step, order) => {
    const at = toMs(step.at);
    if ("fault" in step) {
      const id = `f${++faults}`;
      planned.push({ at, kind: "inject", id, fault: step.fault, order });
      if (step.for !== undefined) planned.push({ at: at + toMs(step.for), kind: "heal", id, fault: step.fault, order });
    } else {
      planned.push({ at, kind: "action", id: `a${++actions}`, action: step.action, order });
    }
  });
  // Stable by time, then by the order written: "kill at 6s" before "promote at 6s" if written so.
  planned.sort((a, b) => a.at - b.at || a.order - b.order);
  return planned.map(({ order: _order, ...step }) => step as PlannedStep);
}

/** When the first fault or action happens (the steady state must be judged before it). */
export function firstStepAt(plan: readonly PlannedStep[]): number | null {
  return plan.length > 0 ? plan[0]!.at : null;
}
