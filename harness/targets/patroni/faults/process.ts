/**
 * patroni's kill-process and pause-process: one process of a node, not the node. An HA manager's
 * node runs two processes that fail apart: PostgreSQL, and the manager that keeps it.
 */
import { z } from "zod";
import { defineFault } from "../../../fault/define.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

const managedProcess = z
  .enum(["postgres", "ha-manager"])
  .describe(
    '"postgres": PostgreSQL\'s postmaster (the HA manager restarts it: crash recovery, no failover); "ha-manager": the HA ' +
      "manager itself (Patroni), the database running on unmanaged.",
  );
/** The two processes of an HA manager's node: PostgreSQL's postmaster, and the manager (Patroni). */
export type ManagedProcess = z.output<typeof managedProcess>;
const processName = (process: ManagedProcess) => (process === "postgres" ? "PostgreSQL" : "the HA manager");

// The control only these faults use lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** One process of a node, not the node: PostgreSQL alone, or its HA manager alone. */
    processes: {
      /** SIGKILL it. */
      kill(node: string, process: ManagedProcess): Promise<void>;
      /** SIGSTOP it; `thaw` sends SIGCONT. */
      freeze(node: string, process: ManagedProcess): Promise<void>;
      thaw(node: string, process: ManagedProcess): Promise<void>;
      /**
       * Starts the HA manager again if it is not running (the heal of a kill); idempotent. For postgres, nothing: its manager restarts it.
       */
      revive(node: string, process: ManagedProcess): Promise<void>;
    };
  }
}

export const killProcessSchema = z
  .strictObject({
    kind: z.literal("kill-process"),
    node: nodeName.describe("The node whose process is SIGKILLed."),
    process: managedProcess,
  })
  .describe(
    "SIGKILL one process of a node, not the node: PostgreSQL alone, or the HA manager alone. Healed: a killed HA manager is started again.",
  );

export const killProcessFault = defineFault({
  schema: killProcessSchema,
  label: (spec) => `kill ${processName(spec.process)} on ${spec.node} (SIGKILL)`,
  color: "#bcbd22",
  requires: "processes",
  nodes: ["node"],
  inject: (spec, { control }) => control.kill(spec.node, spec.process),
  // A killed HA manager is started again; a killed PostgreSQL is its manager's to restart.
  heal: (spec, { control }) => control.revive(spec.node, spec.process),
});

export const pauseProcessSchema = z
  .strictObject({ kind: z.literal("pause-process"), node: nodeName.describe("The node whose process is frozen."), process: managedProcess })
  .describe("SIGSTOP one process of a node until healed (SIGCONT): a hung HA manager, or a hung postmaster.");

export const pauseProcessFault = defineFault({
  schema: pauseProcessSchema,
  label: (spec) => `freeze ${processName(spec.process)} on ${spec.node} (SIGSTOP)`,
  color: "#aec7e8",
  requires: "processes",
  nodes: ["node"],
  inject: (spec, { control }) => control.freeze(spec.node, spec.process),
  heal: (spec, { control }) => control.thaw(spec.node, spec.process),
});

/**
 * The public builder. patroni: SIGKILL PostgreSQL alone (Patroni restarts it) or Patroni alone (the database runs on unmanaged); healed by
 * starting it again.
 */
export const killProcess = (node: string, process: "postgres" | "ha-manager") => ({ kind: "kill-process" as const, node, process });
/** The public builder. patroni: SIGSTOP PostgreSQL's postmaster or Patroni until healed. */
export const pauseProcess = (node: string, process: "postgres" | "ha-manager") => ({ kind: "pause-process" as const, node, process });
