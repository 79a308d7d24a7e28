/**
 * All checkers, one per section of Metrics: the mapped type makes the compiler demand a checker
 * for every section, so a new metric cannot go unmeasured.
 */
import type { HistoryEvent } from "../history/events.ts";
import type { CheckOutcome, Metrics } from "../result.ts";
import { availabilityChecker } from "./availability.ts";
import { runChecker, type Checker, type CheckerRun } from "./checker.ts";
import { downtimeChecker } from "./downtime.ts";
import { failoverChecker } from "./failover.ts";
import { latencyChecker } from "./latency.ts";
import { operatorChecker } from "./operator.ts";
import { rolesChecker } from "./roles.ts";
import { splitBrainChecker } from "./split-brain.ts";
import { writesChecker } from "./writes.ts";

export type CheckName = keyof Metrics;
export type Checkers = { [K in CheckName]: Checker<Metrics[K]> };

export const CHECKERS: Checkers = {
  availability: availabilityChecker,
  downtime: downtimeChecker,
  failover: failoverChecker,
  writes: writesChecker,
  latency: latencyChecker,
  roles: rolesChecker,
  splitBrain: splitBrainChecker,
  operator: operatorChecker,
};

export interface ChecksResult {
  metrics: Metrics;
  checks: Record<CheckName, CheckOutcome>;
  /** Checkers that threw, with the error; each counts as `unknown`, and makes the run errored. */
  crashed: Array<{ check: CheckName; reason: string }>;
}

/** Runs every checker over the History; `checkers` is replaceable for tests. */
export function runChecks(events: readonly HistoryEvent[], checkers: Checkers = CHECKERS): ChecksResult {
  const metrics = {} as Metrics;
  const checks = {} as Record<CheckName, CheckOutcome>;
  const crashed: ChecksResult["crashed"] = [];
  // Generic in K so each checker's metrics land under its own key with their own type.
  const run = <K extends CheckName>(name: K): CheckerRun<Metrics[K]> => {
    const outcome = runChecker(checkers[name], events);
    metrics[name] = outcome.metrics;
    return outcome;
  };
  for (const name of Object.keys(checkers) as CheckName[]) {
    const outcome = run(name);
    checks[name] = { valid: outcome.valid, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) };
    if (outcome.crashed) crashed.push({ check: name, reason: outcome.reason ?? "crashed" });
  }
  return { metrics, checks, crashed };
}
