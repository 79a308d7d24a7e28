/**
 * The pg-auto-failover target's observation: what the monitor said, read from its own tables by
 * the observer (observer.ts). Declared here, with the shape that validates it when a History is
 * read back.
 */
import type { Shape } from "../../history/validate.ts";
import { boolean, nullable, number, oneOf, optional, string } from "../../history/validate.ts";

/** pg_auto_failover's node health, as the monitor's `health` column says it (-1, 0, 1). */
export type NodeHealth = "unknown" | "bad" | "good";

/**
 * One thing the monitor said, by subject:
 * - `event`: a row of `pgautofailover.event`, in event id order (the monitor's own log of its state
 *   machine: "Setting goal state of node 2 … to prepare_promotion after node 1 … became unhealthy");
 * - `node`: a data node's row of `pgautofailover.node` changed (its reported or goal state, its health,
 *   whether its PostgreSQL runs), recorded on change only;
 * - `reachable`: whether pgdrill could read the monitor at all, on change (a monitor that is down
 *   decides nothing).
 */
export interface MonitorEvent {
  kind: "monitor";
  t: number;
  subject: "event" | "node" | "reachable";
  /** The node (its pg_auto_failover name) the event or row is about. */
  node?: string;
  /** `event`: the monitor's event id. */
  eventId?: number;
  /** `event`: when the monitor wrote it (its eventtime, ISO 8601); `t` is when pgdrill read it. */
  at?: string;
  /** The state the node reported, and the goal the monitor assigned it ("primary", "prepare_promotion", …). */
  reportedState?: string;
  goalState?: string;
  /** `event`: the monitor's own words. */
  description?: string;
  /** `node`: the monitor's health verdict of the node. */
  health?: NodeHealth;
  /** `node`: whether the keeper last reported its PostgreSQL running. */
  pgRunning?: boolean | null;
  /** `reachable`: whether the monitor answered; with the error when it did not. */
  reachable?: boolean;
  error?: string;
}

declare module "../../history/events.ts" {
  interface Observations {
    monitor: MonitorEvent;
  }
}

export const monitorEventShape: Shape<MonitorEvent> = {
  subject: oneOf({ event: true, node: true, reachable: true }),
  node: optional(string),
  eventId: optional(number),
  at: optional(string),
  reportedState: optional(string),
  goalState: optional(string),
  description: optional(string),
  health: optional(oneOf({ unknown: true, bad: true, good: true })),
  pgRunning: optional(nullable(boolean)),
  reachable: optional(boolean),
  error: optional(string),
};

/** States in which a node serves writes once it reports them (wait_primary: no standby in sync yet). */
export const WRITING_STATES: readonly string[] = ["single", "wait_primary", "primary", "join_primary", "apply_settings"];
/** The states a standby passes through while the monitor promotes it, in order. */
export const PROMOTING_STATES: readonly string[] = ["prepare_promotion", "stop_replication"];
