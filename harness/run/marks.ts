/**
 * A person's word during a drill: marks ("deleted the primary pod", at this moment) and the
 * confirmations that manual steps wait for (schedule/manual.ts). Both come from the keyboard of the
 * terminal running the drill (cli/keys.ts, through OperatorInput: run/ knows nothing of terminals)
 * or from another terminal, CI step or script: `pgdrill mark <run> "note"` and
 * `pgdrill confirm <run> [note] [--step m2] [--not-done why]` append a request line to OPERATOR_FILE
 * in the run directory, which the drill tails every REQUEST_POLL_MS (as `pgdrill stop` writes
 * stop-request.json). A mark goes into the History as a `mark` event; a confirmation (or a "not
 * done") ends the manual step that is waiting. A request with an id is answered in REPLY_FILE, so
 * `pgdrill confirm` can say what the drill did with it: which step it confirmed, or why it refused.
 *
 * A step is named by the id the schedule's plan gives it (schedule/plan.ts: m1, m2, … in the order
 * the schedule lists its manual steps), the id the History's action and fault events carry. A
 * request naming a step that is not waiting is refused, never applied to the step that is: a
 * confirmation sent late, after the step it meant timed out, must not confirm the next one.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { MarkEvent } from "../history/events.ts";
import type { StepSpec } from "../scenario/schema.ts";
import { manualStepsOf } from "../schedule/plan.ts";
import { findRunDir, runEndOf } from "./abort.ts";

export const OPERATOR_FILE = "operator-requests.jsonl";
/** The drill's answers to requests that carry an id: one `OperatorReply` a line. */
export const REPLY_FILE = "operator-replies.jsonl";
const REQUEST_POLL_MS = 100;
/** How long `pgdrill confirm` waits for the drill's answer by default (the drill reads requests every 100 ms). */
export const REPLY_WAIT_MS = 10_000;
/** A note is a short label on a timeline, not a log. */
export const MAX_NOTE_CHARS = 200;

/** Who confirms manual steps: the keyboard or `pgdrill confirm` ("ask"), only `pgdrill confirm` ("command"), or nobody, at once ("auto", for CI). */
export type ConfirmMode = "ask" | "command" | "auto";
export const CONFIRM_MODES: readonly ConfirmMode[] = ["ask", "command", "auto"];

export type MarkSource = MarkEvent["by"];

interface RequestBase {
  pid: number;
  /** When it was sent (ISO 8601, the sender's clock). */
  at: string;
  /** Set by `pgdrill confirm`: the drill answers it in REPLY_FILE. */
  id?: string;
}

/** One line of OPERATOR_FILE. `step` names a manual step ("m2"); without it, the one waiting. */
export type OperatorRequest =
  | (RequestBase & { type: "mark"; note: string })
  | (RequestBase & { type: "confirm"; note: string; step?: string })
  | (RequestBase & { type: "not-done"; reason: string; step?: string });

export type RequestType = OperatorRequest["type"];
const REQUEST_TYPES: readonly RequestType[] = ["mark", "confirm", "not-done"];

/** The drill's answer to a request with an id: what it did, or why it refused, in one line. */
export interface OperatorReply {
  id: string;
  ok: boolean;
  message: string;
}

export interface ManualPrompt {
  id: string;
  say: string;
  timeoutMs: number;
}

/** How a manual step's wait ended by someone's word: confirmed (done), or reported not done with why (`notDone`). */
export interface Confirmation {
  by: MarkSource | "auto";
  note?: string;
  /** The step could not be done: why. A confirmation without it is "done". */
  notDone?: string;
}

/** What the operator says about a manual step: done (a confirmation, with an optional note), or not done, with why. */
export type Answer = { by: MarkSource; done: true; note?: string } | { by: MarkSource; done: false; reason: string };

/** An answer the desk refused: what is wrong (which step waits, if any) and what to do, separately. */
export interface Refusal {
  problem: string;
  fix: string;
}

/** A source of marks and confirmations while a drill runs (the CLI's keyboard). `attach` returns its dispose. */
export interface OperatorInput {
  attach(desk: OperatorDesk): () => void;
}

export interface OperatorOptions {
  /** How manual steps are confirmed; absent: a scenario with manual steps is refused. */
  confirm?: ConfirmMode;
  input?: OperatorInput;
}

/**
 * Between the people and the drill: records marks (through `record`) and hands a confirmation to
 * the manual step that waits for one. One manual step waits at a time; one that comes while another
 * waits queues behind it (each is confirmed on its own; a request naming a queued one answers it).
 */
export class OperatorDesk {
  readonly mode: ConfirmMode | null;
  private readonly record: (mark: Omit<MarkEvent, "kind">) => void;
  private readonly clockNow: () => number;
  private readonly log: (line: string) => void;
  private readonly warn: (message: string) => void;
  /** The run's manual steps (ids and instructions), to say what a request names; empty: not known. */
  private readonly steps: readonly ManualStepInfo[];
  private readonly waiting: Array<{ prompt: ManualPrompt; resolve: (confirmation: Confirmation) => void }> = [];
  /** Steps no longer waiting, and how their wait ended (History t), for the refusal of a late answer. */
  private readonly ended = new Map<string, { t: number; how: string }>();
  private readonly listeners = new Set<(prompt: ManualPrompt | null) => void>();

  constructor(options: {
    mode: ConfirmMode | null;
    record: (mark: Omit<MarkEvent, "kind">) => void;
    now: () => number;
    log: (line: string) => void;
    /** A refused request, for the History (a warning: someone's word that was not taken). */
    warn?: (message: string) => void;
    steps?: readonly ManualStepInfo[];
  }) {
    this.mode = options.mode;
    this.record = options.record;
    this.clockNow = options.now;
    this.log = options.log;
    this.warn = options.warn ?? (() => undefined);
    this.steps = options.steps ?? [];
  }

  /** The drill's clock, in History t (the keyboard takes a mark's moment from it when `m` is pressed). */
  now(): number {
    return this.clockNow();
  }

  /** Records a mark; `t` defaults to now. An empty note is dropped. */
  mark(note: string, by: MarkSource, t = this.clockNow()): void {
    const clean = cleanNote(note);
    if (!clean) return;
    this.record({ t: Math.round(t * 1000) / 1000, note: clean, by });
    this.log(`mark: ${clean}`);
  }

  /** The manual step waiting for a confirmation, if any. */
  get pending(): ManualPrompt | null {
    return this.waiting[0]?.prompt ?? null;
  }

  /** Confirms the waiting manual step; false when none waits (the caller may make it a mark). */
  confirm(by: MarkSource, note?: string): boolean {
    return "prompt" in this.answer({ by, done: true, ...(note === undefined ? {} : { note }) });
  }

  /**
   * Ends a waiting manual step with the operator's word: `step` names it (as the plan does: "m2"),
   * else the first waiting. Refused, changing nothing, when the mode does not take answers from
   * `by`, when nothing waits, or when the step named is not waiting (it ended, is not due yet, or
   * is no step of this run): the refusal says which step is waiting, if any.
   */
  answer(answer: Answer, step?: string): { prompt: ManualPrompt } | Refusal {
    if (this.mode === "auto") return { problem: "this run confirms its manual steps itself (--confirm-manual auto)", fix: 'Record what happened as a mark instead (pgdrill mark <run> "note").' };
    if (this.mode === "command" && answer.by !== "command") return { problem: "this run's manual steps are answered with `pgdrill confirm` (--confirm-manual command)", fix: "Run pgdrill confirm <run> from a shell." };
    const index = step === undefined ? 0 : this.waiting.findIndex((entry) => entry.prompt.id === step);
    const entry = this.waiting[index];
    if (!entry) return this.refusal(step, answer.done);
    this.waiting.splice(index, 1);
    if (answer.done) {
      const clean = answer.note === undefined ? "" : cleanNote(answer.note);
      entry.resolve({ by: answer.by, ...(clean ? { note: clean } : {}) });
      this.ended.set(entry.prompt.id, { t: this.clockNow(), how: `was confirmed by ${answer.by}` });
    } else {
      entry.resolve({ by: answer.by, notDone: cleanNote(answer.reason) || "no reason given" });
      this.ended.set(entry.prompt.id, { t: this.clockNow(), how: `was reported not done by ${answer.by}` });
    }
    this.notify();
    return { prompt: entry.prompt };
  }

  /**
   * Waits for the operator to confirm `prompt`: null when `signal` aborts first (the manual step's
   * timeout, or the drill ending). "auto" confirms at once.
   */
  ask(prompt: ManualPrompt, signal: AbortSignal): Promise<Confirmation | null> {
    if (this.mode === "auto") return Promise.resolve({ by: "auto" });
    if (signal.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const entry = { prompt, resolve: (confirmation: Confirmation | null) => {
        signal.removeEventListener("abort", onAbort);
        resolve(confirmation);
      } };
      const onAbort = () => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        this.ended.set(prompt.id, { t: this.clockNow(), how: "ended without an answer (timed out, or the drill ended)" });
        this.notify();
        entry.resolve(null);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
      this.notify();
    });
  }

  /** Called with the waiting prompt whenever it changes (null: none waits). Returns its removal. */
  onPrompt(listener: (prompt: ManualPrompt | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A request from OPERATOR_FILE: a mark, a confirmation or a "not done". A confirmation that names
   * no step, with nothing to confirm, becomes a mark (as it always has); one that names a step, and
   * every "not done", is refused unless its step is waiting: a warning in the History, and the reply.
   */
  take(request: OperatorRequest): Omit<OperatorReply, "id"> {
    if (request.type === "mark") {
      this.mark(request.note, "command");
      return { ok: true, message: "marked" };
    }
    const answered = this.answer(request.type === "confirm" ? { by: "command", done: true, note: request.note } : { by: "command", done: false, reason: request.reason }, request.step);
    if ("prompt" in answered) {
      if (request.type === "confirm" && request.note) this.mark(request.note, "command");
      const what = `${answered.prompt.id} (${quoteSay(answered.prompt.say)})`;
      return { ok: true, message: request.type === "confirm" ? `confirmed ${what}` : `recorded ${what} as not done: ${cleanNote(request.reason)}` };
    }
    if (request.type === "confirm" && request.step === undefined) {
      this.log(`\`pgdrill confirm\` with no manual step waiting${this.mode === "auto" ? " (--confirm-manual auto confirms them itself)" : ""}: recorded as a mark`);
      this.mark(request.note || "confirm (no manual step was waiting)", "command");
      return { ok: true, message: `${answered.problem}: recorded as a mark` };
    }
    const what = request.type === "confirm" ? `\`pgdrill confirm${request.step ? ` --step ${request.step}` : ""}\`` : `\`pgdrill confirm${request.step ? ` --step ${request.step}` : ""} --not-done\``;
    const message = `${answered.problem}. ${answered.fix}`;
    this.warn(`${what} refused: ${message}`);
    this.log(`${what} refused: ${answered.problem}`);
    return { ok: false, message };
  }

  /** Why an answer for `step` (or the waiting one) cannot be taken, and which step waits instead. */
  private refusal(step: string | undefined, done: boolean): Refusal {
    const waiting = this.waiting.map((entry) => entry.prompt);
    const waits = waiting.length === 0 ? "no manual step is waiting" : `${waiting.map((prompt) => `${prompt.id} (${quoteSay(prompt.say)})`).join(" and ")} ${waiting.length === 1 ? "is" : "are"} waiting`;
    const asMark = 'record what happened as a mark (pgdrill mark <run> "note")';
    if (step === undefined) return { problem: waits, fix: done ? `Nothing to confirm now; ${asMark}.` : `Nothing to record as not done now; ${asMark}.` };
    const other = waiting[0]?.id;
    if (this.steps.length > 0 && !this.steps.some((each) => each.id === step)) {
      return { problem: `this run has no manual step ${step} (its manual steps: ${this.steps.map((each) => each.id).join(", ")}); ${waits}`, fix: other ? `Name the one waiting: --step ${other}.` : "Name one of those with --step." };
    }
    const ended = this.ended.get(step);
    const state = ended ? `${step} is not waiting: it ${ended.how} at ${formatT(ended.t)}` : `${step} is not waiting: it has not been shown yet`;
    const fix = other ? `If you meant ${other}, send it again with --step ${other}; if it was for ${step}, ${asMark}.` : `Nothing is waiting; ${asMark}.`;
    return { problem: `${state}; ${waits}`, fix };
  }

  private notify(): void {
    const prompt = this.pending;
    for (const listener of this.listeners) listener(prompt);
  }
}

/** A manual step of the run, as the plan names it. */
export interface ManualStepInfo {
  id: string;
  say: string;
}

function quoteSay(say: string): string {
  return JSON.stringify(say.length > 40 ? `${say.slice(0, 37)}...` : say);
}

/** History t (ms since the run started) as "12.3 s into the run". */
function formatT(t: number): string {
  return `${(t / 1000).toFixed(1)} s into the run`;
}

/**
 * `--step`'s value as a step id: "m2" as the drill shows it, or "2", the step's number among the
 * schedule's manual steps in the order written (which is how the plan numbers them).
 */
export function parseStepOption(value: string): string {
  const match = /^\s*[mM]?([1-9]\d{0,3})\s*$/.exec(value);
  if (!match) {
    throw new InputError("--step", `${JSON.stringify(value)} is not a manual step`, 'Give its id as the drill shows it (">>> MANUAL STEP m2"), e.g. --step m2, or its number among the schedule\'s manual steps in the order written, e.g. --step 2.');
  }
  return `m${match[1]}`;
}

/** One line, printable, at most MAX_NOTE_CHARS. */
export function cleanNote(note: string): string {
  // eslint-disable-next-line no-control-regex
  return note.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim().slice(0, MAX_NOTE_CHARS);
}

/**
 * While a drill runs: tails OPERATOR_FILE in `runDir` and hands each complete request line to
 * `onRequest`; what it returns is written to REPLY_FILE for a request with an id. A line that is
 * not a valid request goes to `onInvalid` (one line naming the field and the fix), and is answered
 * as refused when its id can be read. Files left from before are removed first. Returns the stop
 * (which reads what is left once more, so a request written just before the end is not lost).
 */
export function watchOperatorRequests(
  runDir: string,
  onRequest: (request: OperatorRequest) => Omit<OperatorReply, "id"> | void,
  onInvalid: (message: string) => void = () => undefined,
): () => void {
  const file = join(runDir, OPERATOR_FILE);
  const replies = join(runDir, REPLY_FILE);
  rmSync(file, { force: true });
  rmSync(replies, { force: true });
  let offset = 0;
  let partial = "";
  let lineNumber = 0;
  const reply = (id: string | undefined, answer: Omit<OperatorReply, "id">) => {
    if (id === undefined) return;
    try {
      appendFileSync(replies, `${JSON.stringify({ id, ...answer } satisfies OperatorReply)}\n`);
    } catch {
      // The sender then says it got no answer; the request itself was acted on.
    }
  };
  const poll = () => {
    if (!existsSync(file)) return;
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= offset) return;
      const chunk = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const read = readSync(fd, chunk, 0, chunk.length, offset);
      offset += read;
      const lines = (partial + chunk.subarray(0, read).toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        lineNumber += 1;
        if (!line.trim()) continue;
        const parsed = parseRequest(line, lineNumber);
        if ("problem" in parsed) {
          onInvalid(parsed.problem);
          reply(parsed.id, { ok: false, message: parsed.problem });
          continue;
        }
        const answer = onRequest(parsed.request);
        if (answer) reply(parsed.request.id, answer);
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(poll, REQUEST_POLL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    poll();
  };
}

const REQUEST_KEYS: Record<RequestType, readonly string[]> = {
  mark: ["type", "note", "pid", "at", "id"],
  confirm: ["type", "note", "step", "pid", "at", "id"],
  "not-done": ["type", "reason", "step", "pid", "at", "id"],
};
const STEP_ID = /^m[1-9]\d*$/;
const REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * One line of OPERATOR_FILE, checked as strictly as a scenario: a known type, its own keys only,
 * each of the right type. A problem names the line and the field, and says what to do.
 */
export function parseRequest(line: string, lineNumber = 1): { request: OperatorRequest } | { problem: string; id?: string } {
  const where = `${OPERATOR_FILE} line ${lineNumber}`;
  const fix = "Send requests with `pgdrill mark` and `pgdrill confirm`, which write them as the drill reads them.";
  const problem = (field: string, what: string, id?: string) => ({ problem: new InputError(field ? `${where}: "${field}"` : where, what, fix).message, ...(id ? { id } : {}) });
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return problem("", "is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return problem("", `must be a JSON object, got ${JSON.stringify(parsed)}`);
  const raw = parsed as Record<string, unknown>;
  const id = typeof raw.id === "string" && REQUEST_ID.test(raw.id) ? raw.id : undefined;
  if (raw.id !== undefined && id === undefined) return problem("id", `must be 1 to 64 letters, digits, "_", "." or "-", got ${JSON.stringify(raw.id)}`);
  const type = raw.type;
  if (typeof type !== "string" || !(REQUEST_TYPES as readonly string[]).includes(type)) return problem("type", `must be one of ${REQUEST_TYPES.join(", ")}, got ${JSON.stringify(type)}`, id);
  const kind = type as RequestType;
  const unknown = Object.keys(raw).filter((key) => !REQUEST_KEYS[kind].includes(key));
  if (unknown.length > 0) return problem(unknown[0]!, `is not a key of a ${kind} request (its keys: ${REQUEST_KEYS[kind].join(", ")})`, id);
  if (typeof raw.pid !== "number" || !Number.isInteger(raw.pid) || raw.pid < 0) return problem("pid", `must be the sender's process id (a whole number), got ${JSON.stringify(raw.pid)}`, id);
  if (typeof raw.at !== "string") return problem("at", `must be the time it was sent (an ISO 8601 string), got ${JSON.stringify(raw.at)}`, id);
  if (raw.step !== undefined && (typeof raw.step !== "string" || !STEP_ID.test(raw.step))) return problem("step", `must be a manual step id like "m2", got ${JSON.stringify(raw.step)}`, id);
  const base = { pid: raw.pid, at: raw.at, ...(id ? { id } : {}) };
  const step = typeof raw.step === "string" ? { step: raw.step } : {};
  if (kind === "not-done") {
    if (typeof raw.reason !== "string" || !cleanNote(raw.reason)) return problem("reason", `must say why the step could not be done, got ${JSON.stringify(raw.reason)}`, id);
    return { request: { type: "not-done", reason: cleanNote(raw.reason), ...step, ...base } };
  }
  if (typeof raw.note !== "string") return problem("note", `must be a string, got ${JSON.stringify(raw.note)}`, id);
  if (kind === "mark") {
    if (!cleanNote(raw.note)) return problem("note", "is empty: a mark says what happened", id);
    return { request: { type: "mark", note: raw.note, ...base } };
  }
  return { request: { type: "confirm", note: raw.note, ...step, ...base } };
}

/**
 * `pgdrill mark` / `pgdrill confirm`: finds the running drill (a run directory or a run id, as
 * `pgdrill stop` does) and appends the request. Refused for a run that has ended, and for a step
 * the run's schedule (its scenario.json) does not have. `text` is a mark's or a confirmation's note,
 * or why a step was not done. Returns the request's id, which the drill's reply carries.
 */
export function sendOperatorRequest(runDirOrId: string, type: RequestType, text: string, options: { step?: string; cwd?: string } = {}): { runDir: string; id: string } {
  const clean = cleanNote(text);
  if (type === "mark" && !clean) throw new InputError("note", "is empty", 'Say what happened, e.g. pgdrill mark <run> "deleted the primary pod".');
  if (type === "not-done" && !clean) throw new InputError("--not-done", "is empty", 'Say why the step could not be done, e.g. --not-done "no access to the console".');
  const step = options.step === undefined ? undefined : parseStepOption(options.step);
  const runDir = findRunDir(runDirOrId, options.cwd ?? process.cwd());
  const ended = runEndOf(runDir);
  if (ended) throw new InputError("run", `the drill in ${runDir} already ended (${ended.status})`, "Marks and confirmations go to a running drill; `pgdrill run` and `pgdrill watch` print its run directory.");
  if (step !== undefined) {
    const steps = manualStepsOfRun(runDir);
    if (steps && !steps.some((each) => each.id === step)) {
      throw new InputError("--step", steps.length === 0 ? `this run has no manual steps (asked for ${step})` : `this run has no manual step ${step} (its manual steps: ${steps.map((each) => each.id).join(", ")})`, steps.length === 0 ? "Drop --step: a confirmation with nothing to confirm is recorded as a mark." : "Name one of those with --step, as the drill showed it (>>> MANUAL STEP m1).");
    }
  }
  const id = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const base = { pid: process.pid, at: new Date().toISOString(), id };
  const request: OperatorRequest =
    type === "mark" ? { type, note: clean, ...base } : type === "confirm" ? { type, note: clean, ...(step ? { step } : {}), ...base } : { type, reason: clean, ...(step ? { step } : {}), ...base };
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
export async function awaitOperatorReply(runDir: string, id: string, waitMs: number): Promise<OperatorReply | { ended: { status: string } } | null> {
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
      if (reply.id === id && typeof reply.ok === "boolean" && typeof reply.message === "string") return { id, ok: reply.ok, message: reply.message };
    } catch {
      // a line still being written
    }
  }
  return null;
}
