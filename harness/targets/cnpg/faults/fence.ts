/** cnpg's fence: fence an instance (cnpg.io/fencedInstances): PostgreSQL stops, the pod stays; healed by unfencing. */
import { z } from "zod";
import { defineFault } from "../../../fault/define.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

// The control only these faults use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** Fence an instance: PostgreSQL stops, the pod stays. */
    fencing: { fence(node: string): Promise<void>; unfence(node: string): Promise<void> };
  }
}

export const fenceSchema = z
  .strictObject({ kind: z.literal("fence"), node: nodeName.describe('The instance to fence, "primary" or "replica".') })
  .describe("cnpg: fence an instance (cnpg.io/fencedInstances): PostgreSQL stops, the pod stays.");

export const fenceFault = defineFault({
  schema: fenceSchema,
  label: (spec) => `fence ${spec.node}`,
  color: "#8c564b",
  requires: "fencing",
  nodes: ["node"],
  feasibility: { holds: { kind: "fence" } },
  inject: (spec, { control }) => control.fence(spec.node),
  heal: (spec, { control }) => control.unfence(spec.node),
});

/** The public builder. cnpg: fence an instance (cnpg.io/fencedInstances); healed by unfencing. */
export const fence = (node: string) => ({ kind: "fence" as const, node });
