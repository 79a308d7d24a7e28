/**
 * A person's word during a drill: marks ("deleted the primary pod", at this moment) and the
 * confirmations that manual steps wait for (schedule/manual.ts). Both come from the keyboard of the
 * terminal running the drill (cli/keys.ts, through OperatorInput: run/ knows nothing of terminals)
 * or from another terminal, CI step or script: `pgdrill mark <run> "note"` and
 * `pgdrill confirm <run> [note]` append a request line to OPERATOR_FILE in the run directory, which
 * the drill tails every REQUEST_POLL_MS (as `pgdrill stop` writes stop-request.json). A mark goes
 * into the History as a `mark` event; a confirmation ends the manual step that is waiting.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { MarkEvent } from "../history/events.ts";
import { findRunDir, runEndOf } from "./abort.ts";

export const OPERATOR_FILE = "operator-requests.jsonl";
const REQUEST_POLL_MS = 100;
/** A note is a short label on a timeline, not a log. */
export const MAX_NOTE_CHARS = 200;

/** Who confirms manual steps: the keyboard or `pgdrill confirm` ("ask"), only `pgdrill confirm` ("command"), or nobody, at once ("auto", for CI). */
export type ConfirmMode = "ask" | "command" | "auto";
export const CONFIRM_MODES: readonly ConfirmMode[] = ["ask", "command", "auto"];

export type MarkSource = MarkEvent["by"];

export interface OperatorRequest {
  type: "mark" | "confirm";
  note: string;
  pid: number;
  at: string;
}

export interface ManualPrompt {
  id: string;
  say: string;
  timeoutMs: number;
}

export interface Confirmation {
  by: MarkSource | "auto";
  note?: string;
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
 * waits queues behind it (each is confirmed on its own).
 */
export class OperatorDesk {
  readonly mode: ConfirmMode | null;
  private readonly record: (mark: Omit<MarkEvent, "kind">) => void;
  private readonly clockNow: () => number;
  private readonly log: (line: string) => void;
  private readonly waiting: Array<{ prompt: ManualPrompt; resolve: (confirmation: Confirmation) => void }> = [];
  private readonly listeners = new Set<(prompt: ManualPrompt | null) => void>();

  constructor(options: { mode: ConfirmMode | null; record: (mark: Omit<MarkEvent, "kind">) => void; now: () => number; log: (line: string) => void }) {
    this.mode = options.mode;
    this.record = options.record;
    this.clockNow = options.now;
    this.log = options.log;
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
    if (this.mode === "auto" || (this.mode === "command" && by !== "command")) return false;
    const first = this.waiting.shift();
    if (!first) return false;
    const clean = note === undefined ? "" : cleanNote(note);
    first.resolve({ by, ...(clean ? { note: clean } : {}) });
    this.notify();
    return true;
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

  /** A request from OPERATOR_FILE: a mark, or a confirmation (a mark when nothing waits). */
  take(request: OperatorRequest): void {
    if (request.type === "confirm" && this.confirm("command", request.note)) {
      if (request.note) this.mark(request.note, "command");
      return;
    }
    if (request.type === "confirm") {
      this.log(`\`pgdrill confirm\` with no manual step waiting${this.mode === "auto" ? " (--confirm-manual auto confirms them itself)" : ""}: recorded as a mark`);
      this.mark(request.note || "confirm (no manual step was waiting)", "command");
      return;
    }
    this.mark(request.note, "command");
  }

  private notify(): void {
    const prompt = this.pending;
    for (const listener of this.listeners) listener(prompt);
  }
}

/** One line, printable, at most MAX_NOTE_CHARS. */
export function cleanNote(note: string): string {
  // eslint-disable-next-line no-control-regex
  return note.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim().slice(0, MAX_NOTE_CHARS);
}

/**
 * While a drill runs: tails OPERATOR_FILE in `runDir` and hands each complete request line to
 * `onRequest`. A file left from before is removed first. Returns the stop (which reads what is
 * left once more, so a request written just before the end is not lost).
 */
export function watchOperatorRequests(runDir: string, onRequest: (request: OperatorRequest) => void): () => void {
  const file = join(runDir, OPERATOR_FILE);
  rmSync(file, { force: true });
  let offset = 0;
  let partial = "";
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
        const request = parseRequest(line);
        if (request) onRequest(request);
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

function parseRequest(line: string): OperatorRequest | null {
  if (!line.trim()) return null;
  try {
    const parsed = JSON.parse(line) as Partial<OperatorRequest>;
    if (parsed.type !== "mark" && parsed.type !== "confirm") return null;
    return { type: parsed.type, note: typeof parsed.note === "string" ? parsed.note : "", pid: Number(parsed.pid ?? 0), at: String(parsed.at ?? "") };
  } catch {
    return null;
  }
}

/**
 * `pgdrill mark` / `pgdrill confirm`: finds the running drill (a run directory or a run id, as
 * `pgdrill stop` does) and appends the request. Refused for a run that has ended.
 */
export function sendOperatorRequest(runDirOrId: string, type: OperatorRequest["type"], note: string, cwd = process.cwd()): { runDir: string } {
  const clean = cleanNote(note);
  if (type === "mark" && !clean) throw new InputError("note", "is empty", 'Say what happened, e.g. pgdrill mark <run> "deleted the primary pod".');
  const runDir = findRunDir(runDirOrId, cwd);
  const ended = runEndOf(runDir);
  if (ended) throw new InputError("run", `the drill in ${runDir} already ended (${ended.status})`, "Marks and confirmations go to a running drill; `pgdrill run` and `pgdrill watch` print its run directory.");
  const request: OperatorRequest = { type, note: clean, pid: process.pid, at: new Date().toISOString() };
  // One short line, appended (O_APPEND): requests from several terminals do not interleave.
  appendFileSync(join(runDir, OPERATOR_FILE), `${JSON.stringify(request)}\n`);
  return { runDir };
}
