/**
 * All checkers, one per section of Metrics: the core's, and the targets' own from their plugins
 * (the registry's TARGET_CHECKS). The mapped type makes the compiler demand a checker for every
 * section, a target's included, so a new metric cannot go unmeasured.
 */
import type { HistoryContext } from "../history/context.ts";
import type { HistoryEvent } from "../history/events.ts";
import type { Operation } from "../history/operations.ts";
import { splitHistory } from "../history/read-model.ts";
import type { CheckOutcome, CoreMetrics, Metrics } from "../result.ts";
import { TARGET_CHECKS } from "../targets/registry.ts";
import { alertsChecker } from "./alerts.ts";
import { anatomyChecker } from "./anatomy.ts";
import { availabilityChecker } from "./availability.ts";
import { clientsChecker } from "./clients.ts";
import { GuardedFold, type CheckerRun, type CheckerSpec } from "./checker.ts";
import { downtimeChecker } from "./downtime.ts";
import { failoverChecker, recoveryChecker } from "./failover.ts";
import { latencyChecker } from "./latency.ts";
import { restoreChecker } from "./restore.ts";
import { rolesChecker } from "./roles.ts";
import { splitBrainChecker } from "./split-brain.ts";
import { writesChecker } from "./writes.ts";

export type CheckName = keyof Metrics;
export type Checkers = { [K in CheckName]: CheckerSpec<Metrics[K]> };

const CORE_CHECKERS: { [K in keyof CoreMetrics]: CheckerSpec<CoreMetrics[K]> } = {
  availability: availabilityChecker,
  downtime: downtimeChecker,
  failover: failoverChecker,
  recovery: recoveryChecker,
  anatomy: anatomyChecker,
  writes: writesChecker,
  latency: latencyChecker,
  clients: clientsChecker,
  roles: rolesChecker,
  splitBrain: splitBrainChecker,
  alerts: alertsChecker,
  restore: restoreChecker,
};

// Core first, so result.json keeps its sections in the order it always had.
export const CHECKERS: Checkers = { ...CORE_CHECKERS, ...TARGET_CHECKS };

export interface ChecksResult {
  metrics: Metrics;
  checks: Record<CheckName, CheckOutcome>;
  /** Checkers that threw, with the error; each counts as `unknown`, and makes the run errored. */
  crashed: Array<{ check: CheckName; reason: string }>;
}

/**
 * Every checker folding over one History at once: start with the context, feed each operation
 * (in invoke order), finish. `checkers` is replaceable for tests.
 */
export class CheckSession {
  private readonly folds: { [K in CheckName]: GuardedFold<Metrics[K]> };
  /** The same folds as a list: `operation` runs half a million times on a long drill. */
  private readonly list: ReadonlyArray<GuardedFold<unknown>>;

  constructor(context: HistoryContext, checkers: Checkers = CHECKERS) {
    // Generic in K so each fold keeps its own metrics type.
    const guard = <K extends CheckName>(name: K): GuardedFold<Metrics[K]> => new GuardedFold(checkers[name], context);
    this.folds = {} as { [K in CheckName]: GuardedFold<Metrics[K]> };
    for (const name of Object.keys(checkers) as CheckName[]) (this.folds as Record<CheckName, unknown>)[name] = guard(name);
    this.list = Object.values(this.folds);
  }

  operation(operation: Operation): void {
    for (const fold of this.list) fold.operation(operation);
  }

  finish(): ChecksResult {
    const metrics = {} as Metrics;
    const checks = {} as Record<CheckName, CheckOutcome>;
    const crashed: ChecksResult["crashed"] = [];
    const finishOne = <K extends CheckName>(name: K): CheckerRun<Metrics[K]> => {
      const outcome = this.folds[name].finish();
      metrics[name] = outcome.metrics;
      return outcome;
    };
    for (const name of Object.keys(this.folds) as CheckName[]) {
      const outcome = finishOne(name);
      checks[name] = { valid: outcome.valid, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) };
      if (outcome.crashed) crashed.push({ check: name, reason: outcome.reason ?? "crashed" });
    }
    return { metrics, checks, crashed };
  }
}

/** Every checker over a History held in memory. */
export function runChecks(events: readonly HistoryEvent[], checkers: Checkers = CHECKERS): ChecksResult {
  const { context, operations } = splitHistory(events);
  return checkOperations(context, operations, checkers);
}

/** Every checker over operations already split from their context. */
export function checkOperations(context: HistoryContext, operations: readonly Operation[], checkers: Checkers = CHECKERS): ChecksResult {
  const session = new CheckSession(context, checkers);
  for (const operation of operations) session.operation(operation);
  return session.finish();
}
