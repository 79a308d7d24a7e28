/**
 * Reads `history.jsonl` back, line by line, so a long drill is never held as one string. A
 * SIGKILLed harness can leave its last line cut short: that line is dropped and the History is
 * marked truncated. A bad line anywhere else means the file is not a History we can trust, and is
 * an error naming the line.
 */
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import { InputError, errorMessage } from "../errors.ts";
import type { HistoryEvent } from "./events.ts";

export interface ReadHistory {
  events: HistoryEvent[];
  /** The last line was cut short or corrupt and was dropped. */
  truncated: boolean;
}

/** Reads the whole History into memory. */
export async function readHistory(path: string): Promise<ReadHistory> {
  const reader = new HistoryReader(path);
  const events: HistoryEvent[] = [];
  for await (const event of reader) events.push(event);
  return { events, truncated: reader.truncated };
}

/**
 * Streams the History one event at a time. `truncated` is known once iteration has finished:
 * a bad line is only forgiven when nothing follows it.
 */
export class HistoryReader implements AsyncIterable<HistoryEvent> {
  readonly path: string;
  private wasTruncated = false;

  constructor(path: string) {
    this.path = path;
  }

  get truncated(): boolean {
    return this.wasTruncated;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<HistoryEvent> {
    await access(this.path).catch(() => {
      throw new InputError(this.path, "does not exist or cannot be read", "Pass a run directory that holds a history.jsonl");
    });
    const lines = createInterface({ input: createReadStream(this.path, { encoding: "utf8" }), crlfDelay: Infinity });
    // A bad line is held back until we know whether another line follows it.
    let pending: { line: number; problem: string } | null = null;
    let lineNumber = 0;
    for await (const text of lines) {
      lineNumber += 1;
      if (text.trim() === "") continue;
      if (pending) {
        throw new InputError(
          `${this.path}:${pending.line}`,
          `is not a History event (${pending.problem})`,
          "Only the last line of a history may be cut short; restore the file or re-run the drill",
        );
      }
      const parsed = parseEvent(text);
      if (parsed.ok) yield parsed.event;
      else pending = { line: lineNumber, problem: parsed.problem };
    }
    this.wasTruncated = pending !== null;
  }
}

function parseEvent(text: string): { ok: true; event: HistoryEvent } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: errorMessage(error) };
  }
  // Shape beyond kind and t is the writer's contract; checking every field here would duplicate it.
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, problem: "not a JSON object" };
  const record = value as Record<string, unknown>;
  if (typeof record.kind !== "string") return { ok: false, problem: 'no string "kind"' };
  if (typeof record.t !== "number") return { ok: false, problem: 'no number "t"' };
  return { ok: true, event: value as HistoryEvent };
}
