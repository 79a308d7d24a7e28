/**
 * A Checker is a pure function from the History to a validity and the metrics it measured
 * (Jepsen). `runChecker` is the only way checkers are called: one that throws yields `unknown`
 * with the error as the reason and its empty metrics, never a pass, and is marked `crashed` so the
 * verdict can tell a broken checker from one that lacked data.
 */
import { errorMessage } from "../errors.ts";
import type { HistoryEvent } from "../history/events.ts";
import type { Validity } from "../result.ts";

export interface CheckerOutput<M> {
  valid: Validity;
  metrics: M;
  reason?: string;
}

export interface Checker<M> {
  /** Metrics when nothing could be measured: all counts zero, all measurements null. */
  empty: () => M;
  check: (events: readonly HistoryEvent[]) => CheckerOutput<M>;
}

export interface CheckerRun<M> extends CheckerOutput<M> {
  /** The checker threw; its validity is `unknown` and its metrics are `empty()`. */
  crashed: boolean;
}

export function runChecker<M>(checker: Checker<M>, events: readonly HistoryEvent[]): CheckerRun<M> {
  try {
    return { ...checker.check(events), crashed: false };
  } catch (error) {
    return { valid: "unknown", metrics: checker.empty(), reason: `checker crashed: ${errorMessage(error)}`, crashed: true };
  }
}

/** ok / all, or null when there were no operations. */
export function ratio(ok: number, total: number): number | null {
  return total > 0 ? ok / total : null;
}
