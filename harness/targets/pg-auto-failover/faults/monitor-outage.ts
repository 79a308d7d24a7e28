/**
 * pg-auto-failover's monitor-outage: the monitor, the only one that decides failovers, goes away
 * and comes back at the heal. Unlike `kill: { node: monitor }`, which loses it for good, the
 * container and its disk stay, so a drill sees both what happens without it and what it does once
 * it is back (its startup_grace_period first, then the failover it could not make).
 */
import { z } from "zod";
import { defineFault } from "../../../fault/define.ts";

// The control only this fault uses lives here, not in the core's Controls.
declare module "../../controls.ts" {
  interface Controls {
    /** The pg_auto_failover monitor as a whole. */
    monitor: {
      /** Takes it down: SIGKILL to its pg_autoctl and PostgreSQL (the container and its data stay), or the cgroup freezer. */
      down(how: "kill" | "freeze"): Promise<void>;
      /** Brings it back (starts pg_autoctl run again, or thaws it); resolves once it serves. Idempotent. */
      up(): Promise<void>;
    };
  }
}

export const monitorOutageSchema = z
  .strictObject({
    kind: z.literal("monitor-outage"),
    how: z
      .enum(["kill", "freeze"])
      .default("kill")
      .describe(
        "kill: SIGKILL every process of the monitor (a crash; its data survives, and the heal starts pg_autoctl again); freeze: the " +
          "cgroup freezer (a hung monitor; the heal thaws it).",
      ),
  })
  .describe("pg_auto_failover: take the monitor down until healed. While it is down no failover can be decided.");

export const monitorOutageFault = defineFault({
  schema: monitorOutageSchema,
  label: (spec) => `monitor down (${spec.how === "kill" ? "SIGKILL" : "frozen"})`,
  color: "#843c39",
  requires: "monitor",
  // The monitor is no data node a scenario names.
  nodes: [],
  inject: (spec, { control }) => control.down(spec.how),
  heal: (_spec, { control }) => control.up(),
});

/** The public builder: the monitor down until healed, killed (its data kept) or frozen. */
export const monitorOutage = (how: "kill" | "freeze" = "kill") => ({ kind: "monitor-outage" as const, how });
