/**
 * A person's word during a drill: marks ("deleted the primary pod", at this moment) and the
 * confirmations that manual steps wait for (schedule/manual.ts). Both come from the keyboard of the
 * terminal running the drill (cli/keys.ts, through OperatorInput: the desk knows nothing of
 * terminals) or from another terminal, CI step or script through the request file (requests.ts).
 * A mark goes into the History as a `mark` event; a confirmation (or a "not done") ends the manual
 * step that is waiting.
 *
 * A step is named by the id the schedule's plan gives it (schedule/plan.ts: m1, m2, … in the order
 * the schedule lists its manual steps), the id the History's action and fault events carry. A
 * request naming a step that is not waiting is refused, never applied to the step that is: a
 * confirmation sent late, after the step it meant timed out, must not confirm the next one.
 */
import type { MarkEvent } from "../history/events.ts";
import { cleanNote, type OperatorReply, type OperatorRequest } from "./requests.ts";

/**
 * Who confirms manual steps: the keyboard or `pgdrill confirm` ("ask"), only `pgdrill confirm` ("command"), or nobody, at once ("auto", for
 * CI).
 */
export type ConfirmMode = "ask" | "command" | "auto";
export const CONFIRM_MODES: readonly ConfirmMode[] = ["ask", "command", "auto"];

export type MarkSource = MarkEvent["by"];

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
    if (this.mode === "auto")
      return {
        problem: "this run confirms its manual steps itself (--confirm-manual auto)",
        fix: 'Record what happened as a mark instead (pgdrill mark <run> "note").',
      };
    if (this.mode === "command" && answer.by !== "command")
      return {
        problem: "this run's manual steps are answered with `pgdrill confirm` (--confirm-manual command)",
        fix: "Run pgdrill confirm <run> from a shell.",
      };
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
      const entry = {
        prompt,
        resolve: (confirmation: Confirmation | null) => {
          signal.removeEventListener("abort", onAbort);
          resolve(confirmation);
        },
      };
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
    const answered = this.answer(
      request.type === "confirm"
        ? { by: "command", done: true, note: request.note }
        : { by: "command", done: false, reason: request.reason },
      request.step,
    );
    if ("prompt" in answered) {
      if (request.type === "confirm" && request.note) this.mark(request.note, "command");
      const what = `${answered.prompt.id} (${quoteSay(answered.prompt.say)})`;
      return {
        ok: true,
        message: request.type === "confirm" ? `confirmed ${what}` : `recorded ${what} as not done: ${cleanNote(request.reason)}`,
      };
    }
    if (request.type === "confirm" && request.step === undefined) {
      this.log(
        `\`pgdrill confirm\` with no manual step waiting` +
          `${this.mode === "auto" ? " (--confirm-manual auto confirms them itself)" : ""}: recorded as a mark`,
      );
      this.mark(request.note || "confirm (no manual step was waiting)", "command");
      return { ok: true, message: `${answered.problem}: recorded as a mark` };
    }
    const what =
      request.type === "confirm"
        ? `\`pgdrill confirm${request.step ? ` --step ${request.step}` : ""}\``
        : `\`pgdrill confirm${request.step ? ` --step ${request.step}` : ""} --not-done\``;
    const message = `${answered.problem}. ${answered.fix}`;
    this.warn(`${what} refused: ${message}`);
    this.log(`${what} refused: ${answered.problem}`);
    return { ok: false, message };
  }

  /** Why an answer for `step` (or the waiting one) cannot be taken, and which step waits instead. */
  private refusal(step: string | undefined, done: boolean): Refusal {
    const waiting = this.waiting.map((entry) => entry.prompt);
    const waits =
      waiting.length === 0
        ? "no manual step is waiting"
        : `${waiting.map((prompt) => `${prompt.id} (${quoteSay(prompt.say)})`).join(" and ")} ` +
          `${waiting.length === 1 ? "is" : "are"} waiting`;
    const asMark = 'record what happened as a mark (pgdrill mark <run> "note")';
    if (step === undefined)
      return { problem: waits, fix: done ? `Nothing to confirm now; ${asMark}.` : `Nothing to record as not done now; ${asMark}.` };
    const other = waiting[0]?.id;
    if (this.steps.length > 0 && !this.steps.some((each) => each.id === step)) {
      return {
        problem: `this run has no manual step ${step} (its manual steps: ${this.steps.map((each) => each.id).join(", ")}); ${waits}`,
        fix: other ? `Name the one waiting: --step ${other}.` : "Name one of those with --step.",
      };
    }
    const ended = this.ended.get(step);
    const state = ended
      ? `${step} is not waiting: it ${ended.how} at ${formatT(ended.t)}`
      : `${step} is not waiting: it has not been shown yet`;
    const fix = other
      ? `If you meant ${other}, send it again with --step ${other}; if it was for ${step}, ${asMark}.`
      : `Nothing is waiting; ${asMark}.`;
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
