/**
 * The sending side of the operator's requests, for `pgdrill mark` and `pgdrill confirm`: finds the
 * running drill, appends a request to its request file (operator/requests.ts) and waits for the
 * drill's reply.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { ManualStepInfo } from "../operator/desk.ts";
import { cleanNote, OPERATOR_FILE, REPLY_FILE, type OperatorReply, type OperatorRequest, type RequestType } from "../operator/requests.ts";
import { findRunDir, runEndOf } from "../run/abort.ts";
import type { StepSpec } from "../scenario/schema.ts";
import { manualStepsOf } from "../schedule/plan.ts";

/** How long `pgdrill confirm` waits for the drill's answer by default (the drill reads requests every 100 ms). */
export const REPLY_WAIT_MS = 10_000;

/**
 * `--step`'s value as a step id: "m2" as the drill shows it, or "2", the step's number among the
 * schedule's manual steps in the order written (which is how the plan numbers them).
 */
export function parseStepOption(value: string): string {
  const match = /^\s*[mM]?([1-9]\d{0,3})\s*$/.exec(value);
  if (!match) {
    throw new InputError(
      "--step",
      `${JSON.stringify(value)} is not a manual step`,
      'Give its id as the drill shows it (">>> MANUAL STEP m2"), e.g. --step m2, or its number among the schedule\'s manual ' +
        "steps in the order written, e.g. --step 2.",
    );
  }
  return `m${match[1]}`;
}

/**
 * `pgdrill mark` / `pgdrill confirm`: finds the running drill (a run directory or a run id, as
 * `pgdrill stop` does) and appends the request. Refused for a run that has ended, and for a step
 * the run's schedule (its scenario.json) does not have. `text` is a mark's or a confirmation's note,
 * or why a step was not done. Returns the request's id, which the drill's reply carries.
 */
export function sendOperatorRequest(
  runDirOrId: string,
  type: RequestType,
  text: string,
  options: { step?: string; cwd?: string } = {},
): { runDir: string; id: string } {
  const clean = cleanNote(text);
  if (type === "mark" && !clean)
    throw new InputError("note", "is empty", 'Say what happened, e.g. pgdrill mark <run> "deleted the primary pod".');
  if (type === "not-done" && !clean)
    throw new InputError("--not-done", "is empty", 'Say why the step could not be done, e.g. --not-done "no access to the console".');
  const step = options.step === undefined ? undefined : parseStepOption(options.step);
  const runDir = findRunDir(runDirOrId, options.cwd ?? process.cwd());
  const ended = runEndOf(runDir);
  if (ended)
    throw new InputError(
      "run",
      `the drill in ${runDir} already ended (${ended.status})`,
      "Marks and confirmations go to a running drill; `pgdrill run` and `pgdrill watch` print its run directory.",
    );
  if (step !== undefined) {
    const steps = manualStepsOfRun(runDir);
    if (steps && !steps.some((each) => each.id === step)) {
      throw new InputError(
        "--step",
        steps.length === 0
          ? `this run has no manual steps (asked for ${step})`
          : `this run has no manual step ${step} (its manual steps: ${steps.map((each) => each.id).join(", ")})`,
        steps.length === 0
          ? "Drop --step: a confirmation with nothing to confirm is recorded as a mark."
          : "Name one of those with --step, as the drill showed it (>>> MANUAL STEP m1).",
      );
    }
  }
  const id = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const base = { pid: process.pid, at: new Date().toISOString(), id };
  const request: OperatorRequest =
    type === "mark"
      ? { type, note: clean, ...base }
      : type === "confirm"
        ? { type, note: clean, ...(step ? { step } : {}), ...base }
        : { type, reason: clean, ...(step ? { step } : {}), ...base };
  // One short line, appended (O_APPEND): requests from several terminals do not interleave.
  appendFileSync(join(runDir, OPERATOR_FILE), `${JSON.stringify(request)}\n`);
  return { runDir, id };
}

/** The manual steps of the run in `runDir`, from its scenario.json; null when it cannot be read. */
function manualStepsOfRun(runDir: string): ManualStepInfo[] | null {
  try {
    const scenario = JSON.parse(readFileSync(join(runDir, "scenario.json"), "utf8")) as { schedule?: unknown };
    if (!Array.isArray(scenario.schedule)) return null;
    return manualStepsOf(scenario.schedule as StepSpec[]).map(({ id, say }) => ({ id, say }));
  } catch {
    return null;
  }
}

/**
 * Waits up to `waitMs` for the drill's reply to request `id`: the reply, or why none came ("the
 * drill ended", or null: not within the wait).
 */
export async function awaitOperatorReply(
  runDir: string,
  id: string,
  waitMs: number,
): Promise<OperatorReply | { ended: { status: string } } | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const reply = readReply(runDir, id);
    if (reply) return reply;
    const ended = runEndOf(runDir);
    // The drill reads what is left of the requests once more before its run-end: a reply, if any, is written by then.
    if (ended) return readReply(runDir, id) ?? { ended };
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readReply(runDir: string, id: string): OperatorReply | null {
  let text: string;
  try {
    text = readFileSync(join(runDir, REPLY_FILE), "utf8");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    if (!line.includes(id)) continue;
    try {
      const reply = JSON.parse(line) as Partial<OperatorReply>;
      if (reply.id === id && typeof reply.ok === "boolean" && typeof reply.message === "string")
        return { id, ok: reply.ok, message: reply.message };
    } catch {
      // a line still being written
    }
  }
  return null;
}
