/** The schedule's schemas: faults, actions, and the steps that place them in time. */
import { z } from "zod";
import { ACTION_SCHEMAS } from "../action/registry.ts";
import { FAULT_SCHEMAS } from "../fault/registry.ts";
import { byKind, duration, faultFor } from "./schema-parts.ts";

// Each fault's options live in its module; the union is the fault registry's.
export const fault = byKind("fault", FAULT_SCHEMAS).describe("What goes wrong, and on which node.");

// Each action's options live in its module; the union is the action registry's.
export const action = byKind("action", ACTION_SCHEMAS).describe("What the operator (or pgdrill standing in for one) does.");

export const faultStep = z
  .strictObject({
    at: duration.describe("When, from the start of the drill."),
    fault,
    for: faultFor
      .optional()
      .describe("Heal this fault automatically after this long; omitted: it stays until the drill ends or a heal action."),
  })
  .describe("A fault at a time.");
export const actionStep = z
  .strictObject({ at: duration.describe("When, from the start of the drill."), action })
  .describe("An action at a time.");
// A game day's step: a person does it (schedule/manual.ts shows `say`, waits for a confirmation,
// and records the confirmation as the fault's start).
export const manual = z
  .strictObject({
    say: z
      .string()
      .trim()
      .min(1, { message: 'must say what the operator is to do, e.g. "Run: kubectl delete pod db-1"' })
      .max(500)
      .describe('The instruction shown to the operator, e.g. "Run: kubectl delete pod db-1".'),
    timeout: duration
      .default("5m")
      .describe("How long to wait for the confirmation; past it the step is recorded as not done (no fault) and the drill goes on."),
  })
  .describe("What a person is to do at this point.");
export const manualStep = z
  .strictObject({ at: duration.describe("When, from the start of the drill, the instruction is shown."), manual })
  .describe(
    "A manual step (game day): the drill shows `say`, waits for the operator's confirmation (Enter, or `pgdrill confirm`), " +
      'and records it as a fault of kind "manual" injected then.',
  );
export const step = z.union([faultStep, actionStep, manualStep], {
  error: () => 'each schedule entry needs "at" and exactly one of "fault", "action" or "manual"',
});

export type FaultSpec = z.output<typeof fault>;
export type ActionSpec = z.output<typeof action>;
export type StepSpec = z.output<typeof step>;
export type ManualSpec = z.output<typeof manual>;
