/** cnpg's delete-pod: delete an instance's pod as `kubectl delete pod` does. The operator recreates it: nothing to undo. */
import { z } from "zod";
import { toMs } from "../../../duration.ts";
import { defineFault } from "../../../fault/define.ts";
import { duration, nodeName } from "../../../scenario/schema-parts.ts";

// The control only these faults use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** Delete a pod with a grace period in seconds, or the pod's own when undefined. */
    pods: { deletePod(node: string, graceSeconds: number | undefined): Promise<void> };
  }
}

export const deletePodSchema = z
  .strictObject({
    kind: z.literal("delete-pod"),
    node: nodeName.describe('The instance whose pod is deleted, "primary", "replica" or "operator".'),
    grace: duration.optional().describe("Grace period; omitted: the pod's own (CloudNativePG's stopDelay)."),
  })
  .describe("cnpg: delete a pod the way `kubectl delete pod` does, with its own or a given grace period.");

export const deletePodFault = defineFault({
  schema: deletePodSchema,
  label: (spec) => `delete pod ${spec.node}${spec.grace === undefined ? "" : ` (grace ${toMs(spec.grace) / 1000} s)`}`,
  color: "#e377c2",
  requires: "pods",
  nodes: ["node"],
  inject: (spec, { control }) => control.deletePod(spec.node, spec.grace === undefined ? undefined : Math.round(toMs(spec.grace) / 1000)),
});

/** The public builder. cnpg: delete a pod as `kubectl delete pod` does (its own grace period unless given). */
export const deletePod = (node: string, options: Omit<z.input<typeof deletePodSchema>, "kind" | "node"> = {}) => ({
  kind: "delete-pod" as const,
  node,
  ...options,
});
