/**
 * The patroni target's observation: what the HA manager said, from polling its members' REST APIs
 * (observer.ts). Declared here, with the shape that validates it when a History is read back.
 */
import type { Shape } from "../../history/validate.ts";
import { nullable, number, oneOf, optional, string } from "../../history/validate.ts";

/**
 * The leader changed (`subject: "leader"`, `leader` null while no member holds the leader key), or
 * one member's role, state, timeline or lag changed (`subject: "member"`). Recorded on change only.
 */
export interface HaEvent {
  kind: "ha";
  t: number;
  /** The HA manager, e.g. "patroni". */
  manager: string;
  subject: "leader" | "member";
  /** The member's name (subject "member"). */
  name?: string;
  /** The leader key's holder, null when none (subject "leader"). */
  leader?: string | null;
  /** The member's role as the manager names it: "primary", "replica", "standby_leader", …; null when its API did not answer. */
  role?: string | null;
  /** The member's state: "running", "starting", "stopped", "crashed", …; null when its API did not answer. */
  state?: string | null;
  timeline?: number | null;
  /** Replication lag behind the leader, in bytes, as the manager reports it. */
  lagBytes?: number | null;
}

declare module "../../history/events.ts" {
  interface Observations {
    ha: HaEvent;
  }
}

export const haEventShape: Shape<HaEvent> = {
  manager: string,
  subject: oneOf({ leader: true, member: true }),
  name: optional(string),
  leader: optional(nullable(string)),
  role: optional(nullable(string)),
  state: optional(nullable(string)),
  timeline: optional(nullable(number)),
  lagBytes: optional(nullable(number)),
};
