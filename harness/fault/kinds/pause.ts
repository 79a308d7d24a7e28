/** pause: freeze a node (the cgroup freezer, `docker pause`) until healed. */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineFault } from "../define.ts";

export const pauseSchema = z
  .strictObject({ kind: z.literal("pause"), node: nodeName.describe("The node to freeze.") })
  .describe("Freeze a node (docker pause) until healed.");

export const pauseFault = defineFault({
  schema: pauseSchema,
  label: (spec) => `pause ${spec.node}`,
  color: "#9467bd",
  requires: "freeze",
  nodes: ["node"],
  feasibility: { holds: { kind: "pause" } },
  inject: (spec, { control }) => control.pause(spec.node),
  heal: (spec, { control }) => control.unpause(spec.node),
});

/** The public builder: `pause("standby")`. */
export const pause = (node: string) => ({ kind: "pause" as const, node });
