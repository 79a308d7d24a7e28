/** stop: PostgreSQL's own shutdown of a node. Nothing to undo: the node stays down until something restarts it. */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineFault } from "../define.ts";

export const stopSchema = z
  .strictObject({
    kind: z.literal("stop"),
    node: nodeName.describe("The node to stop."),
    mode: z
      .enum(["smart", "fast", "immediate"])
      .default("fast")
      .describe("PostgreSQL shutdown mode; fast is what `docker stop` with a sane stop signal does."),
  })
  .describe("Shut a node's PostgreSQL down.");

export const stopFault = defineFault({
  schema: stopSchema,
  label: (spec) => `stop ${spec.node} (${spec.mode} shutdown)`,
  color: "#ff7f0e",
  requires: "stop",
  nodes: ["node"],
  feasibility: { holds: { kind: "down", how: "stopped" }, reachesPaused: true },
  inject: (spec, { control }) => control.stop(spec.node, spec.mode),
});

/** The public builder: `stop("primary", { mode: "immediate" })`. */
export const stop = (node: string, options: Omit<z.input<typeof stopSchema>, "kind" | "node"> = {}) => ({
  kind: "stop" as const,
  node,
  ...options,
});
