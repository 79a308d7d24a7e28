/**
 * The verdict of one run (Chaos Toolkit's deviated vs errored), decided from the few facts that
 * matter, worst first:
 * - errored: the history has no run-start or no run-end (the harness was killed: the result is
 *   not `complete`), the run ended "errored" or "aborted", the steady state was not met, or a
 *   checker crashed. The drill's numbers cannot be trusted as a result.
 * - deviated: a gate failed. A checker that is `unknown` only for lack of data (no final read, no
 *   role probe) is not a broken harness: its metrics are null, and any gate on them fails.
 * - pass: otherwise, including with an empty gate.
 * A check that is invalid (lost writes, split brain) deviates the run only through a gate on its
 * metric: the gate is the user's statement of what matters, and the report shows every check.
 *
 * A pure function of its input: analyze.ts finds the facts in the History and the checkers'
 * results, and this decides.
 */
import type { RunEndEvent, SteadyStateEvent } from "../history/events.ts";
import type { GateResult, Verdict } from "../result.ts";
import { formatActual } from "./format.ts";

export interface VerdictInput {
  /** The history has a run-start event. */
  started: boolean;
  /** The run's last run-end event; null when the history has none. */
  runEnd: Pick<RunEndEvent, "status" | "error"> | null;
  /** The first steady-state check that failed; null when none did. */
  steadyStateFailure: Pick<SteadyStateEvent, "message"> | null;
  /** Checkers that threw, with the error. */
  crashed: ReadonlyArray<{ check: string; reason: string }>;
  gates: readonly GateResult[];
  /** The history's last line was cut short (and dropped). */
  truncated?: boolean;
}

export interface VerdictOutcome {
  verdict: Verdict;
  /** Why errored or deviated, in one line; null for a pass. */
  reason: string | null;
}

export function decideVerdict(input: VerdictInput): VerdictOutcome {
  const errored = erroredReason(input);
  if (errored !== null) return { verdict: "errored", reason: errored };
  const failed = input.gates.filter((gate) => !gate.pass);
  if (failed.length > 0) return { verdict: "deviated", reason: describeFailedGates(failed) };
  return { verdict: "pass", reason: null };
}

function erroredReason({ started, runEnd, steadyStateFailure, crashed, truncated }: VerdictInput): string | null {
  const truncatedNote = truncated ? " (its last line was cut short)" : "";
  if (!started) return `the history has no run-start event${truncatedNote}: it is not a pgdrill history or it was cut off`;
  if (!runEnd)
    return `the history has no run-end${truncatedNote}: the harness was killed or crashed mid-run; numbers cover what was recorded`;
  if (runEnd.status !== "completed") return `the run ${runEnd.status}${runEnd.error ? `: ${runEnd.error}` : ""}`;
  if (steadyStateFailure) return `steady state not met before any fault: ${steadyStateFailure.message}`;
  if (crashed.length > 0) return crashed.map((crash) => `${crash.check} ${crash.reason}`).join("; ");
  return null;
}

/** "2 gates failed: failover.latencyMs < 500 (actual 770); ...". */
export function describeFailedGates(failed: readonly GateResult[]): string {
  const parts = failed.map(
    (gate) => `${gate.metric} ${gate.expected} (actual ${formatActual(gate.actual)}${gate.note ? `: ${gate.note}` : ""})`,
  );
  return `${failed.length} gate${failed.length === 1 ? "" : "s"} failed: ${parts.join("; ")}`;
}
