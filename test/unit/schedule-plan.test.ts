import { describe, expect, it } from "vitest";
import { planSchedule, firstStepAt } from "../../harness/schedule/plan.ts";
import type { StepSpec } from "../../harness/scenario/schema.ts";

describe("planSchedule", () => {
  it("orders steps by time and keeps the written order for steps at the same time", () => {
    const steps: StepSpec[] = [
      { at: "6s", action: { kind: "promote", node: "standby", after: 0 } },
      { at: "3s", fault: { kind: "partition", between: ["primary", "standby"], oneWay: false } },
      { at: "6s", fault: { kind: "kill", node: "primary" } },
    ];
    const plan = planSchedule(steps);
    expect(plan.map((step) => [step.at, step.kind, step.id])).toEqual([
      [3000, "inject", "f1"],
      [6000, "action", "a1"],
      [6000, "inject", "f2"],
    ]);
    expect(firstStepAt(plan)).toBe(3000);
  });

  it("adds a heal at at + for, with the id of the fault it heals", () => {
    const plan = planSchedule([{ at: "3s", for: "2.5s", fault: { kind: "pause", node: "primary" } }]);
    expect(plan).toEqual([
      { at: 3000, kind: "inject", id: "f1", fault: { kind: "pause", node: "primary" } },
      { at: 5500, kind: "heal", id: "f1", fault: { kind: "pause", node: "primary" } },
    ]);
  });

  it("is empty for an empty schedule", () => {
    expect(planSchedule([])).toEqual([]);
    expect(firstStepAt([])).toBeNull();
  });
});
