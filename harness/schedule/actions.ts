/**
 * What each action needs of the target, as the fault catalog says it for faults: validation
 * refuses an action the target cannot do from this one declaration, and the runner asks the
 * started target for exactly this control. In this order, a target's "cannot do" message lists them.
 */
import type { ActionSpec } from "../scenario/steps.ts";
import type { Capability } from "../targets/controls.ts";

export const ACTION_REQUIRES = {
  promote: "promotion",
  switchover: "switchover",
  failover: "manager",
  maintenance: "manager",
  // Heals whatever faults are active, through the faults' own heals.
  heal: null,
} as const satisfies { [K in ActionSpec["kind"]]: Capability | null };
