/** partition: cut nodes off the network (iptables DROP rules in their namespaces) until healed. */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineFault } from "../define.ts";

export const partitionSchema = z
  .strictObject({
    kind: z.literal("partition"),
    isolate: nodeName.optional().describe("Cut one node off from everything, clients included."),
    between: z.tuple([nodeName, nodeName]).optional().describe("Cut two nodes off from each other only; clients still reach both."),
    oneWay: z.boolean().default(false).describe("With `between: [a, b]`: drop only what b sends to a."),
  })
  .superRefine((value, ctx) => {
    if ((value.isolate === undefined) === (value.between === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: 'give exactly one of "isolate: <node>" or "between: [<node>, <node>]"',
      });
    }
    if (value.between && value.between[0] === value.between[1]) {
      ctx.addIssue({ code: "custom", path: ["between"], message: "must name two different nodes" });
    }
    if (value.oneWay && value.isolate !== undefined) {
      ctx.addIssue({ code: "custom", path: ["oneWay"], message: 'only applies with "between"' });
    }
  })
  // The refinement's first rule, for editors.
  .meta({ oneOf: [{ required: ["isolate"] }, { required: ["between"] }] })
  .describe("Cut nodes off the network: one from everything (isolate), or two from each other (between).");

export const partitionFault = defineFault({
  schema: partitionSchema,
  label: (spec) =>
    spec.isolate !== undefined
      ? `isolate ${spec.isolate}`
      : `partition ${spec.between![0]} ${spec.oneWay ? "←" : "↔"} ${spec.between![1]}${spec.oneWay ? " (one-way)" : ""}`,
  color: "#1f77b4",
  requires: "network",
  nodes: ["isolate", "between"],
  feasibility: { holds: { kind: "cut" }, verb: "cut off" },
  async inject(spec, { control }) {
    if (spec.isolate !== undefined) {
      await control.cut({ node: spec.isolate, from: "all", direction: "both" });
      return;
    }
    const [a, b] = spec.between!;
    if (spec.oneWay) {
      // One-way: a stops hearing b; a's packets still reach b.
      await control.cut({ node: a, from: b, direction: "inbound" });
    } else {
      await control.cut({ node: a, from: b, direction: "both" });
      await control.cut({ node: b, from: a, direction: "both" });
    }
  },
  async heal(spec, { control }) {
    for (const node of spec.isolate !== undefined ? [spec.isolate] : spec.between!) await control.healCuts(node);
  },
});

/** The public builder: `partition({ between: ["primary", "standby"] })`. */
export const partition = (options: Omit<z.input<typeof partitionSchema>, "kind">) => ({ kind: "partition" as const, ...options });
