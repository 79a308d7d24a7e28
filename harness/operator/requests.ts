/**
 * The file protocol between a running drill and the people around it: `pgdrill mark` and
 * `pgdrill confirm` (cli/operator-client.ts) append a request line to OPERATOR_FILE in the run
 * directory, which the drill tails every REQUEST_POLL_MS (as `pgdrill stop` writes
 * stop-request.json) and hands to its OperatorDesk (desk.ts). A request with an id is answered in
 * REPLY_FILE, so the sender can say what the drill did with it. Each line is checked as strictly as
 * a scenario: a bad one is refused with the line, the field and the fix.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";

export const OPERATOR_FILE = "operator-requests.jsonl";
/** The drill's answers to requests that carry an id: one `OperatorReply` a line. */
export const REPLY_FILE = "operator-replies.jsonl";
const REQUEST_POLL_MS = 100;
/** A note is a short label on a timeline, not a log. */
export const MAX_NOTE_CHARS = 200;

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

/** One line, printable, at most MAX_NOTE_CHARS. */
export function cleanNote(note: string): string {
  // eslint-disable-next-line no-control-regex
  return note
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, MAX_NOTE_CHARS);
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
  const problem = (field: string, what: string, id?: string) => ({
    problem: new InputError(field ? `${where}: "${field}"` : where, what, fix).message,
    ...(id ? { id } : {}),
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return problem("", "is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return problem("", `must be a JSON object, got ${JSON.stringify(parsed)}`);
  const raw = parsed as Record<string, unknown>;
  const id = typeof raw.id === "string" && REQUEST_ID.test(raw.id) ? raw.id : undefined;
  if (raw.id !== undefined && id === undefined)
    return problem("id", `must be 1 to 64 letters, digits, "_", "." or "-", got ${JSON.stringify(raw.id)}`);
  const type = raw.type;
  if (typeof type !== "string" || !(REQUEST_TYPES as readonly string[]).includes(type))
    return problem("type", `must be one of ${REQUEST_TYPES.join(", ")}, got ${JSON.stringify(type)}`, id);
  const kind = type as RequestType;
  const unknown = Object.keys(raw).filter((key) => !REQUEST_KEYS[kind].includes(key));
  if (unknown.length > 0) return problem(unknown[0]!, `is not a key of a ${kind} request (its keys: ${REQUEST_KEYS[kind].join(", ")})`, id);
  if (typeof raw.pid !== "number" || !Number.isInteger(raw.pid) || raw.pid < 0)
    return problem("pid", `must be the sender's process id (a whole number), got ${JSON.stringify(raw.pid)}`, id);
  if (typeof raw.at !== "string")
    return problem("at", `must be the time it was sent (an ISO 8601 string), got ${JSON.stringify(raw.at)}`, id);
  if (raw.step !== undefined && (typeof raw.step !== "string" || !STEP_ID.test(raw.step)))
    return problem("step", `must be a manual step id like "m2", got ${JSON.stringify(raw.step)}`, id);
  const base = { pid: raw.pid, at: raw.at, ...(id ? { id } : {}) };
  const step = typeof raw.step === "string" ? { step: raw.step } : {};
  if (kind === "not-done") {
    if (typeof raw.reason !== "string" || !cleanNote(raw.reason))
      return problem("reason", `must say why the step could not be done, got ${JSON.stringify(raw.reason)}`, id);
    return { request: { type: "not-done", reason: cleanNote(raw.reason), ...step, ...base } };
  }
  if (typeof raw.note !== "string") return problem("note", `must be a string, got ${JSON.stringify(raw.note)}`, id);
  if (kind === "mark") {
    if (!cleanNote(raw.note)) return problem("note", "is empty: a mark says what happened", id);
    return { request: { type: "mark", note: raw.note, ...base } };
  }
  return { request: { type: "confirm", note: raw.note, ...step, ...base } };
}
