/** switchover: a planned change of primary through the HA system under test. */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineAction, type ActionReport } from "../define.ts";

export const switchoverSchema = z
  .strictObject({
    kind: z.literal("switchover"),
    to: nodeName.default("replica").describe('The instance to promote, or "replica" for any healthy replica.'),
  })
  .describe(
    "A planned switchover through the HA system (cnpg: `kubectl cnpg promote`; patroni: `patronictl switchover`); waits " +
      "until `to` is primary.",
  );

export const switchoverAction = defineAction({
  schema: switchoverSchema,
  label: (spec) => `switchover to ${spec.to}`,
  requires: "switchover",
  node: "to",
  resolves: true,
  handsOver: true,
  check: (spec, _context, report) => checkHandOverTarget(spec.to, "switch over", report),
  run: (_spec, use) => use.bounded(use.control.switchover(use.node!)),
});

/**
 * A hand-over aims at an instance or "replica", never the primary or the operator. Shared with
 * patroni's failover, which aims the same way.
 */
export function checkHandOverTarget(to: string, verb: string, report: ActionReport): void {
  if (["primary", "operator"].includes(to)) report(["to"], `cannot ${verb} to "${to}"`, 'Name an instance or "replica".');
}

/** The public builder. A planned switchover through the HA system: `kubectl cnpg promote`, `patronictl switchover`. */
export const switchover = (to = "replica") => ({ kind: "switchover" as const, to });
