/** cnpg's node-down: the Kubernetes node under an instance goes down (its kind node killed); healed by starting it again. */
import { z } from "zod";
import { defineFault } from "../../../fault/define.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

// The control only these faults use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /**
     * The machine under a node: a Kubernetes node taken down with every pod on it, and started again. Resolve with what was done, for the
     * History.
     */
    hosts: { down(node: string): Promise<string>; up(node: string): Promise<string | void> };
  }
}

export const nodeDownSchema = z
  .strictObject({
    kind: z.literal("node-down"),
    node: nodeName.describe('The instance whose Kubernetes node goes down, "primary" or "replica".'),
  })
  .describe(
    "cnpg: the Kubernetes node hosting an instance goes down at once, as a crashed machine does (its kind node container " +
      "killed), with every pod on it; healed: the node is started again and rejoins. Kubernetes' node grace period, not the " +
      "operator, sets the pace.",
  );

export const nodeDownFault = defineFault({
  schema: nodeDownSchema,
  label: (spec) => `node of ${spec.node} down`,
  color: "#5b3a29",
  requires: "hosts",
  nodes: ["node"],
  inject: (spec, { control }) => control.down(spec.node),
  heal: (spec, { control }) => control.up(spec.node),
});

/** The public builder. cnpg: the Kubernetes node hosting an instance goes down (its kind node killed); healed by starting it again. */
export const nodeDown = (node: string) => ({ kind: "node-down" as const, node });
