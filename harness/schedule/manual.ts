/**
 * A manual step (game day): at its time the drill shows the instruction and waits for the
 * operator's confirmation (operator/desk.ts's OperatorDesk: Enter in the drill's terminal, or
 * `pgdrill confirm`). In the History:
 *
 * - an action "manual" starts when the instruction is shown and ends when it is confirmed (ok) or
 *   the wait ends (ok false, with why), so the report shows how long the operator took;
 * - on a confirmation, a fault of kind "manual" is injected at that moment, labelled with the
 *   instruction: a disruption like any fault (history/context.ts isDisruption), so failover,
 *   recovery and the anatomy measure from the moment the person said it was done. Nothing to heal;
 * - on a timeout, no fault (nothing is known to have happened) and a warning log line. The drill
 *   goes on: an exercise where a step was not done is still evidence, and the report says so;
 * - on the operator's word that it could not be done (`n` at the prompt, `pgdrill confirm --not-done
 *   "why"`), the same as a timeout, the action's error saying who said so and why.
 */
import { formatMs, toMs } from "../duration.ts";
import { InputError } from "../errors.ts";
import type { HistoryWriter } from "../history/writer.ts";
import { roundMs, type Clock } from "../clock.ts";
import type { ConfirmMode, OperatorDesk } from "../operator/desk.ts";
import type { ManualSpec, StepSpec } from "../scenario/schema.ts";
import { manualStepsOf } from "./plan.ts";

export interface ManualContext {
  history: HistoryWriter;
  clock: Clock;
  signal: AbortSignal;
  log: (line: string) => void;
  operator?: OperatorDesk;
}

/** The schedule entries that are manual steps, by index, with the id the plan gives each (m1, m2, … as written). */
export function manualSteps(steps: readonly StepSpec[]): Array<{ index: number; id: string; say: string }> {
  return manualStepsOf(steps);
}

/**
 * Refuses a scenario with manual steps when nobody can confirm them: no confirm mode, or "ask"
 * with no terminal to ask at. `flag` is how the caller sets the mode (the CLI's --confirm-manual).
 */
export function checkManualSteps(
  steps: readonly StepSpec[],
  mode: ConfirmMode | undefined,
  interactive: boolean,
  flag = "operator.confirm",
): void {
  const first = manualSteps(steps)[0];
  if (!first) return;
  const quoted = JSON.stringify(first.say.length > 60 ? `${first.say.slice(0, 57)}...` : first.say);
  if (mode === undefined) {
    throw new InputError(
      `schedule[${first.index}].manual`,
      `is a manual step (${quoted}), and nobody is set to confirm it`,
      `Set ${flag}: "ask" (a terminal), "command" (\`pgdrill confirm\`) or "auto" (confirmed at once).`,
    );
  }
  if (mode === "ask" && !interactive) {
    const how =
      flag === "operator.confirm"
        ? 'operator.confirm "command" or "auto"'
        : `${flag} command (confirm each with \`pgdrill confirm <run-dir>\` from elsewhere) or ` +
          `${flag} auto (confirmed at once, for CI)`;
    throw new InputError(
      `schedule[${first.index}].manual`,
      `is a manual step (${quoted}), and this run is not interactive (stdin is not a terminal), so nobody can press Enter`,
      `Run it in a terminal; or pass ${how}.`,
    );
  }
}

export async function runManualStep(id: string, spec: ManualSpec, context: ManualContext): Promise<void> {
  const { history, clock, log, operator } = context;
  const timeoutMs = toMs(spec.timeout);
  const label = `manual: ${spec.say}`;
  const shownAt = roundMs(clock.now());
  history.append({ kind: "action", t: shownAt, phase: "start", id, action: "manual", label });
  if (!operator || operator.mode === null) {
    // checkManualSteps refuses this before a drill starts; a caller that skipped it gets a record, not a hang.
    const error = "nobody is set to confirm manual steps";
    history.append({ kind: "action", t: shownAt, phase: "end", id, action: "manual", label, ok: false, error });
    history.append({
      kind: "log",
      t: shownAt,
      level: "warn",
      message: `manual step ${id} ("${spec.say}"): ${error}; recorded as not done (no fault)`,
    });
    return;
  }
  const command = `\`pgdrill confirm <run> --step ${id}\`, or --not-done "why"`;
  const how =
    operator.mode === "auto"
      ? "confirmed at once (--confirm-manual auto)"
      : operator.mode === "command"
        ? `confirm with ${command}`
        : `press Enter when done, n if it cannot be done (or ${command})`;
  log(`>>> MANUAL STEP ${id}: ${spec.say}  [${how}; waiting up to ${formatMs(timeoutMs)}]`);
  // The wait ends at the timeout (on the drill's clock) or when the drill ends.
  const waiting = new AbortController();
  const onDrillEnd = () => waiting.abort();
  context.signal.addEventListener("abort", onDrillEnd, { once: true });
  if (context.signal.aborted) waiting.abort();
  const timer = clock.sleepUntil(shownAt + timeoutMs, waiting.signal).then(() => waiting.abort());
  const confirmation = await operator.ask({ id, say: spec.say, timeoutMs }, waiting.signal);
  const t = roundMs(clock.now());
  waiting.abort();
  await timer;
  context.signal.removeEventListener("abort", onDrillEnd);
  if (confirmation?.notDone !== undefined) {
    // The operator's word that it could not be done: recorded as a timeout is (no fault), with why and who said so.
    const why = `reported not done by ${confirmation.by}: ${confirmation.notDone}`;
    history.append({ kind: "action", t, phase: "end", id, action: "manual", label, ok: false, error: why });
    history.append({
      kind: "log",
      t,
      level: "warn",
      message: `manual step ${id} ("${spec.say}"): ${why} (${formatMs(t - shownAt)} after it was shown); recorded as not done (no fault)`,
    });
    log(`${id}: ${why}; recorded as not done (no fault), the drill goes on`);
    return;
  }
  if (confirmation) {
    history.append({ kind: "fault", t, phase: "inject", id, fault: "manual", label: spec.say, nodes: [], ok: true });
    history.append({ kind: "action", t, phase: "end", id, action: "manual", label, ok: true });
    history.append({
      kind: "log",
      t,
      level: "info",
      message:
        `manual step ${id} confirmed by ${confirmation.by} ${formatMs(t - shownAt)} after it was shown` +
        `${confirmation.note ? `: ${confirmation.note}` : ""}`,
    });
    log(`${id} confirmed (${confirmation.by}) ${formatMs(t - shownAt)} after it was shown: "${spec.say}" counts as a fault from now`);
    return;
  }
  const why = context.signal.aborted ? "the drill ended before it was confirmed" : `not confirmed within ${formatMs(timeoutMs)}`;
  history.append({ kind: "action", t, phase: "end", id, action: "manual", label, ok: false, error: why });
  history.append({ kind: "log", t, level: "warn", message: `manual step ${id} ("${spec.say}"): ${why}; recorded as not done (no fault)` });
  log(`${id}: ${why}; recorded as not done (no fault), the drill goes on`);
}
