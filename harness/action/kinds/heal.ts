/** heal: heal every fault still active, each through its own heal. */
import { z } from "zod";
import { defineAction } from "../define.ts";

export const healSchema = z.strictObject({ kind: z.literal("heal") }).describe("Heal every fault still active.");

export const healAction = defineAction({
  schema: healSchema,
  label: () => "heal all faults",
  // Heals whatever faults are active, through the faults' own heals.
  requires: null,
  healsAll: true,
  run: (_spec, use) => use.healFaults(),
});

/** The public builder: `heal()`. */
export const heal = () => ({ kind: "heal" as const });
