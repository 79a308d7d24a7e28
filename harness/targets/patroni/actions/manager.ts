/** patroni's failover and maintenance: the HA manager's own commands. */
import { z } from "zod";
import { defineAction } from "../../../action/define.ts";
import { checkHandOverTarget } from "../../../action/kinds/switchover.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

// The control only these actions use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** The HA manager's own commands. */
    manager: {
      /** A manual failover to `node` (patronictl failover); resolves once it is primary. */
      failover(node: string): Promise<void>;
      /** Maintenance mode on (the manager stops acting) or off. */
      maintenance(mode: "pause" | "resume"): Promise<void>;
    };
  }
}

export const failoverSchema = z
  .strictObject({
    kind: z.literal("failover"),
    to: nodeName.describe("The replica to make primary."),
  })
  .describe(
    "A manual failover through the HA manager (patroni: what `patronictl failover --candidate` does, POST /failover): unlike " +
      "a switchover it needs no healthy leader; waits until `to` is primary.",
  );

export const failoverAction = defineAction({
  schema: failoverSchema,
  label: (spec) => `failover to ${spec.to}`,
  requires: "manager",
  node: "to",
  resolves: true,
  handsOver: true,
  check: (spec, _context, report) => checkHandOverTarget(spec.to, "fail over", report),
  run: (_spec, use) => use.bounded(use.control.failover(use.node!)),
});

export const maintenanceSchema = z
  .strictObject({
    kind: z.literal("maintenance"),
    mode: z
      .enum(["pause", "resume"])
      .describe("pause: the HA manager stops acting (no failover, whatever happens); resume: it acts again."),
  })
  .describe("Maintenance mode of the HA manager (patroni: `patronictl pause` / `resume`).");

export const maintenanceAction = defineAction({
  schema: maintenanceSchema,
  label: (spec) => `maintenance ${spec.mode}`,
  requires: "manager",
  run: (spec, use) => use.bounded(use.control.maintenance(spec.mode)),
});

/** The public builder. patroni: a manual failover, as `patronictl failover --candidate` does. */
export const failover = (to: string) => ({ kind: "failover" as const, to });
/** The public builder. patroni: maintenance mode (`patronictl pause` / `resume`). */
export const maintenance = (mode: "pause" | "resume") => ({ kind: "maintenance" as const, mode });
