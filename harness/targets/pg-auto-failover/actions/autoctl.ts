/**
 * pg-auto-failover's own actions, as an operator types them: `pg_autoctl perform switchover` or
 * `perform failover` (the monitor chooses the new primary), and `pg_autoctl enable|disable
 * maintenance` on one node. Each is done when the monitor says so, not when the command returns.
 */
import { z } from "zod";
import { defineAction } from "../../../action/define.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

// The control only these actions use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** pg_autoctl's commands to the monitor. */
    autoctl: {
      /** `pg_autoctl perform switchover|failover`; resolves with the node the monitor made primary, once it reports it. */
      perform(operation: "switchover" | "failover"): Promise<string>;
      /** `pg_autoctl enable|disable maintenance` on the node; resolves once the monitor reports it in (or out of) maintenance. */
      maintenance(node: string, mode: "enable" | "disable", allowFailover: boolean): Promise<void>;
    };
  }
}

export const performSchema = z
  .strictObject({
    kind: z.literal("perform"),
    operation: z
      .enum(["switchover", "failover"])
      .describe(
        "switchover: the primary hands over once a standby caught up; failover: the same orchestration, named for an unplanned change. " +
          "Either way the monitor chooses the standby (candidate priority, then LSN).",
      ),
  })
  .describe(
    "pg_auto_failover: `pg_autoctl perform switchover|failover`. Done when the monitor reports the new primary; to promote a chosen " +
      "node, use `switchover: { to: <node> }` (`pg_autoctl perform promotion --name`).",
  );

export const performAction = defineAction({
  schema: performSchema,
  label: (spec) => `pg_autoctl perform ${spec.operation}`,
  requires: "autoctl",
  handsOver: true,
  run: async (spec, use) => {
    const primary = await use.bounded(use.control.perform(spec.operation));
    return `the monitor made ${primary} primary`;
  },
});

export const nodeMaintenanceSchema = z
  .strictObject({
    kind: z.literal("node-maintenance"),
    node: nodeName.describe("The data node to put in (or take out of) maintenance."),
    mode: z.enum(["enable", "disable"]).describe("enable: the monitor stops managing the node; disable: it manages it again."),
    allowFailover: z
      .boolean()
      .default(false)
      .describe("enable on the primary: let the monitor fail over first (pg_autoctl --allow-failover); refused on a primary without it."),
  })
  .describe(
    "pg_auto_failover: `pg_autoctl enable|disable maintenance` on one node; done when the monitor reports the node in (or out of) " +
      "maintenance.",
  );

export const nodeMaintenanceAction = defineAction({
  schema: nodeMaintenanceSchema,
  label: (spec) => `maintenance ${spec.mode} on ${spec.node}${spec.allowFailover ? " (failover allowed)" : ""}`,
  requires: "autoctl",
  node: "node",
  resolves: true,
  run: (spec, use) => use.bounded(use.control.maintenance(use.node!, spec.mode, spec.allowFailover)),
});

/** The public builder: `pg_autoctl perform switchover` (or failover); the monitor chooses the new primary. */
export const perform = (operation: "switchover" | "failover") => ({ kind: "perform" as const, operation });
/** The public builder: `pg_autoctl enable|disable maintenance` on a node. */
export const nodeMaintenance = (node: string, mode: "enable" | "disable", allowFailover = false) => ({
  kind: "node-maintenance" as const,
  node,
  mode,
  allowFailover,
});
