/**
 * The container pair's promote: pgdrill promotes the standby itself, standing in for a failover
 * manager, after the detection delay one would take, and repoints `rw` (and the pooler) to it.
 */
import { z } from "zod";
import { defineAction } from "../../../action/define.ts";
import { toMs } from "../../../duration.ts";
import { duration, nodeName } from "../../../scenario/schema-parts.ts";

// The control only this action uses lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** pgdrill promotes a standby itself (it stands in for a failover manager). */
    promotion: {
      /** Promotes a standby to primary and waits until it accepts writes. */
      promote(node: string): Promise<void>;
      /** Repoints `rw` (what a service or DNS switch does after a failover), and a pooler in front of it. */
      repoint(endpoint: "rw", node: string): Promise<void>;
    };
  }
}

export const promoteSchema = z
  .strictObject({
    kind: z.literal("promote"),
    node: nodeName.describe("The standby to promote."),
    after: duration.default(0).describe("Detection delay before promoting, as a failure detector would take."),
  })
  .describe("Promote a standby to primary (what a failover manager does); clients follow the new primary.");

export const promoteAction = defineAction({
  schema: promoteSchema,
  label: (spec) => `promote ${spec.node}`,
  requires: "promotion",
  node: "node",
  afterMs: (spec) => toMs(spec.after),
  needsNodeUp: { verb: "promote" },
  check(spec, context, report) {
    if (spec.node === context.rw) {
      report(["node"], `"${context.rw}" is already the primary at that point`, "Promote a standby.");
    }
    context.rw = spec.node;
  },
  async run(spec, use) {
    // The detection delay a failure detector would take before acting.
    if (!(await use.sleep(toMs(spec.after)))) throw new Error("aborted before promotion");
    await use.bounded(use.control.promote(spec.node));
    await use.control.repoint("rw", spec.node);
    use.repointed("rw", spec.node);
    return `rw → ${spec.node}`;
  },
});

/** The public builder: `promote("standby", { after: "5s" })`. */
export const promote = (node: string, options: Omit<z.input<typeof promoteSchema>, "kind" | "node"> = {}) => ({
  kind: "promote" as const,
  node,
  ...options,
});
