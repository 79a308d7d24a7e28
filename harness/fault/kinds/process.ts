/**
 * kill-process and pause-process: one process of a node, not the node. An HA manager's node runs
 * two processes that fail apart: PostgreSQL, and the manager that keeps it (Patroni, pg_autoctl's
 * keeper). Core faults since a second HA manager took them: whether a target can do them is its
 * `processes` capability's say.
 */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import type { ManagedProcess } from "../../targets/controls.ts";
import { defineFault } from "../define.ts";

const managedProcess = z
  // The control's names for the two processes (targets/controls.ts).
  .enum(["postgres", "ha-manager"] as const satisfies readonly ManagedProcess[])
  .describe(
    '"postgres": PostgreSQL\'s postmaster (the HA manager restarts it: crash recovery, no failover); "ha-manager": the HA ' +
      "manager itself (Patroni; pg_autoctl, the pg_auto_failover keeper), the database running on unmanaged.",
  );
const processName = (process: ManagedProcess) => (process === "postgres" ? "PostgreSQL" : "the HA manager");

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
 * The public builder: SIGKILL PostgreSQL alone (its HA manager restarts it) or the HA manager alone (the database runs on unmanaged);
 * healed by starting it again.
 */
export const killProcess = (node: string, process: ManagedProcess) => ({ kind: "kill-process" as const, node, process });
/** The public builder: SIGSTOP PostgreSQL's postmaster or its HA manager until healed. */
export const pauseProcess = (node: string, process: ManagedProcess) => ({ kind: "pause-process" as const, node, process });
