/** Property-based checks of the Schedule plan: ordered, complete, heals after their injects. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findImpossibleStep } from "../../harness/schedule/feasibility.ts";
import { planSchedule } from "../../harness/schedule/plan.ts";
import type { StepSpec } from "../../harness/scenario/schema.ts";

const step: fc.Arbitrary<StepSpec> = fc.oneof(
  fc.record({
    at: fc.integer({ min: 0, max: 60_000 }),
    fault: fc.constantFrom({ kind: "pause" as const, node: "primary" }, { kind: "kill" as const, node: "standby" }),
    for: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
  }).map(({ for: duration, ...rest }) => (duration === undefined ? rest : { ...rest, for: duration })),
  fc.record({ at: fc.integer({ min: 0, max: 60_000 }), action: fc.constant({ kind: "heal" as const }) }),
);

describe("planSchedule properties", () => {
  it("is sorted by time, has one entry per step plus one heal per `for`, and heals come after their inject", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const plan = planSchedule(steps);
        const withFor = steps.filter((s) => "fault" in s && s.for !== undefined).length;
        expect(plan).toHaveLength(steps.length + withFor);
        for (let i = 1; i < plan.length; i += 1) expect(plan[i]!.at).toBeGreaterThanOrEqual(plan[i - 1]!.at);
        for (const heal of plan.filter((p) => p.kind === "heal")) {
          const inject = plan.find((p) => p.kind === "inject" && p.id === heal.id)!;
          expect(plan.indexOf(inject)).toBeLessThan(plan.indexOf(heal));
        }
      }),
    );
  });

  it("is deterministic", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
        expect(planSchedule(steps)).toEqual(planSchedule(steps));
      }),
    );
  });

  it("refuses pauses of one node exactly when their windows overlap", () => {
    const pauses = fc.array(
      fc.record({ at: fc.integer({ min: 0, max: 20 }).map((n) => n * 500), for: fc.option(fc.integer({ min: 1, max: 10 }).map((n) => n * 500), { nil: undefined }) }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(pauses, (entries) => {
        const steps: StepSpec[] = entries.map(({ at, for: duration }) => ({ at, ...(duration === undefined ? {} : { for: duration }), fault: { kind: "pause", node: "primary" } }));
        // A window is [at, at + for); without `for` it lasts to the end. Touching windows do not overlap.
        const windows = entries.map(({ at, for: duration }) => [at, duration === undefined ? Infinity : at + duration] as const);
        const overlap = windows.some(([a0, a1], i) => windows.some(([b0, b1], j) => i < j && a0 < b1 && b0 < a1));
        const problem = findImpossibleStep({ kind: "container-pair" } as Parameters<typeof findImpossibleStep>[0], steps);
        expect(problem !== null).toBe(overlap);
        if (problem) expect(problem.problem).toMatch(/cannot pause "primary"/);
      }),
    );
  });
});
