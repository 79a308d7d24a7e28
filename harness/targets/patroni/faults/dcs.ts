/** patroni's dcs-outage and dcs-partition: the HA manager loses its DCS (etcd), all of it or from one node. */
import { z } from "zod";
import { defineFault } from "../../../fault/define.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

// The control only these faults use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** The HA manager's DCS (etcd): its members, and the nodes' way to it. */
    dcs: {
      /** Kills a majority of the members, or all; resolves with the names of those killed. */
      killMembers(which: "majority" | "all"): Promise<string[]>;
      /** Starts every killed member again; idempotent. */
      startMembers(): Promise<void>;
      /** Cuts `node` off from every member (both ways); its clients and peers still reach it. */
      cutFrom(node: string): Promise<void>;
      healCut(node: string): Promise<void>;
    };
  }
}

export const dcsOutageSchema = z
  .strictObject({
    kind: z.literal("dcs-outage"),
    members: z
      .enum(["majority", "all"])
      .default("majority")
      .describe("Which DCS members go down: a majority (the DCS loses quorum), or all of them."),
  })
  .describe("Kill DCS members (etcd): the HA manager loses its leader key's store. Healed: they are started again.");

export const dcsOutageFault = defineFault({
  schema: dcsOutageSchema,
  label: (spec) => `DCS down (${spec.members === "all" ? "every member" : "a majority of members"} killed)`,
  color: "#393b79",
  requires: "dcs",
  // DCS members are not nodes a scenario names.
  nodes: [],
  async inject(spec, { control }) {
    const killed = await control.killMembers(spec.members);
    return `killed ${killed.join(", ")}`;
  },
  heal: (_spec, { control }) => control.startMembers(),
});

export const dcsPartitionSchema = z
  .strictObject({
    kind: z.literal("dcs-partition"),
    node: nodeName.describe("The node cut off from every DCS member; clients and the other nodes still reach it."),
  })
  .describe("Cut a node off from the DCS only (etcd), until healed: it can no longer renew or read the leader key.");

export const dcsPartitionFault = defineFault({
  schema: dcsPartitionSchema,
  label: (spec) => `cut ${spec.node} from the DCS`,
  color: "#6b6ecf",
  requires: "dcs",
  nodes: ["node"],
  // A cut from the DCS is iptables rules too: healing a partition on the node clears both.
  feasibility: { holds: { kind: "cut" } },
  inject: (spec, { control }) => control.cutFrom(spec.node),
  heal: (spec, { control }) => control.healCut(spec.node),
});

/** The public builder. patroni: kill a majority (or all) of the etcd members; healed by starting them again. */
export const dcsOutage = (options: Omit<z.input<typeof dcsOutageSchema>, "kind"> = {}) => ({ kind: "dcs-outage" as const, ...options });
/** The public builder. patroni: cut a node off from etcd only. */
export const dcsPartition = (node: string) => ({ kind: "dcs-partition" as const, node });
