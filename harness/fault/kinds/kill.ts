/** kill: SIGKILL a node's PostgreSQL. Nothing to undo: the node stays down until something restarts it. */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { targetPlugin } from "../../targets/registry.ts";
import { defineFault } from "../define.ts";

export const killSchema = z
  .strictObject({ kind: z.literal("kill"), node: nodeName.describe("The node to SIGKILL.") })
  .describe("SIGKILL a node's PostgreSQL.");

export const killFault = defineFault({
  schema: killSchema,
  label: (spec, target) => `kill ${spec.node} (${(target === undefined ? undefined : targetPlugin(target)?.killedBy) ?? "SIGKILL"})`,
  color: "#d62728",
  requires: "kill",
  nodes: ["node"],
  feasibility: { holds: { kind: "down", how: "killed" }, reachesPaused: true },
  inject: (spec, { control }) => control.kill(spec.node),
});

/** The public builder: `kill("primary")`. */
export const kill = (node: string) => ({ kind: "kill" as const, node });
