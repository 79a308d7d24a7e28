/**
 * Reads `history.jsonl` back without ever holding it whole: `HistoryFile.scan` walks the file in
 * 1 MiB chunks and hands over one line at a time, parsed only if the caller asks. A SIGKILLed
 * harness can leave its last line cut short: that line is dropped and the History is marked
 * truncated. A bad line anywhere else (not JSON, or not an event: validate.ts checks each line's
 * kind and fields) means the file is not a History we can trust, and is an error naming the file,
 * the line and what is wrong with it.
 */
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { InputError, errorMessage } from "../errors.ts";
import type { HistoryEvent } from "./events.ts";
import { eventProblem, type ObservationShapes } from "./validate.ts";

export interface ReadHistory {
  events: HistoryEvent[];
  /** The last line was cut short or corrupt and was dropped. */
  truncated: boolean;
}

/** Reads the whole History into memory (tests, small histories). */
export async function readHistory(path: string, observations: ObservationShapes): Promise<ReadHistory> {
  const file = new HistoryFile(path, observations);
  const events: HistoryEvent[] = [];
  await file.scan((line) => events.push(line.parse()));
  return { events, truncated: file.truncated };
}

const NEWLINE = 0x0a;
/** How operation events begin when pgdrill wrote them (probe.ts puts kind and t first). */
const OPERATION_PREFIXES = [Buffer.from('{"kind":"invoke","t":'), Buffer.from('{"kind":"complete","t":')];

/** One line of the file, undecoded until asked. */
export class HistoryLine {
  private readonly buffer: Buffer;
  private readonly start: number;
  private readonly end: number;

  private readonly observations: ObservationShapes;

  constructor(buffer: Buffer, start: number, end: number, observations: ObservationShapes) {
    this.buffer = buffer;
    this.start = start;
    this.end = end;
    this.observations = observations;
  }

  /** The event; a line that is not one throws, and `scan` decides whether that is forgivable. */
  parse(): HistoryEvent {
    const parsed = parseEvent(this.buffer.toString("utf8", this.start, this.end), this.observations);
    if (!parsed.ok) throw new BadLine(parsed.problem);
    return parsed.event;
  }

  /**
   * For an invoke or complete written by pgdrill, its t, read without parsing the line; null for
   * any other line (parse it to know what it is). Lets a pass that skips operations skip them cheaply.
   */
  operationTime(): number | null {
    for (const prefix of OPERATION_PREFIXES) {
      const from = this.start + prefix.length;
      if (from > this.end || !startsWith(this.buffer, this.start, prefix)) continue;
      let to = from;
      while (to < this.end && this.buffer[to] !== 0x2c && this.buffer[to] !== 0x7d) to += 1; // "," or "}"
      const t = Number(this.buffer.toString("latin1", from, to));
      return to > from && Number.isFinite(t) ? t : null;
    }
    return null;
  }
}

/** Byte by byte: Buffer.compare costs more than the comparison itself on prefixes this short. */
function startsWith(buffer: Buffer, at: number, prefix: Buffer): boolean {
  for (let index = 0; index < prefix.length; index += 1) if (buffer[at + index] !== prefix[index]) return false;
  return true;
}

class BadLine extends Error {}

/**
 * A history.jsonl to read, once or several times (the analysis reads it twice: the context first,
 * then the operations). `truncated` is known once a scan has finished.
 */
export class HistoryFile {
  readonly path: string;
  /** The targets' own observation kinds, which a line may also be (the registry's TARGET_OBSERVATIONS). */
  private readonly observations: ObservationShapes;
  private wasTruncated = false;

  constructor(path: string, observations: ObservationShapes) {
    this.path = path;
    this.observations = observations;
  }

  get truncated(): boolean {
    return this.wasTruncated;
  }

  /**
   * Calls `visit` for every non-blank line, in order. A line whose parse fails is held back until
   * we know whether another line follows it: only the last line may be cut short. `signal` is
   * looked at after each chunk, where a pending Ctrl-C handler has had its turn.
   */
  async scan(visit: (line: HistoryLine) => void, signal?: AbortSignal): Promise<void> {
    await access(this.path).catch(() => {
      throw new InputError(this.path, "does not exist or cannot be read", "Pass a run directory that holds a history.jsonl");
    });
    let pending: { line: number; problem: string } | null = null;
    let lineNumber = 0;
    const handle = (buffer: Buffer, start: number, end: number) => {
      lineNumber += 1;
      if (isBlank(buffer, start, end)) return;
      if (pending) {
        throw new InputError(
          `${this.path}:${pending.line}`,
          `is not a History event (${pending.problem})`,
          "Only the last line of a history may be cut short; restore the file or re-run the drill",
        );
      }
      try {
        visit(new HistoryLine(buffer, start, end, this.observations));
      } catch (error) {
        if (!(error instanceof BadLine)) throw error;
        pending = { line: lineNumber, problem: error.message };
      }
    };
    let rest: Buffer | null = null;
    for await (const read of createReadStream(this.path, { highWaterMark: 1 << 20 })) {
      const chunk = read as Buffer;
      let start = 0;
      if (rest) {
        // Only the line that straddles the two chunks is copied, not the whole chunk.
        const newline = chunk.indexOf(NEWLINE);
        if (newline === -1) {
          rest = Buffer.concat([rest, chunk]);
          continue;
        }
        const straddling = Buffer.concat([rest, chunk.subarray(0, newline)]);
        handle(straddling, 0, straddling.length);
        start = newline + 1;
      }
      for (let newline = chunk.indexOf(NEWLINE, start); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
        handle(chunk, start, newline);
        start = newline + 1;
      }
      rest = start < chunk.length ? chunk.subarray(start) : null;
      // After the chunk, not before: even an interrupted scan has read the run's first events.
      signal?.throwIfAborted();
    }
    if (rest) handle(rest, 0, rest.length);
    this.wasTruncated = pending !== null;
  }
}

function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let index = start; index < end; index += 1) {
    const byte = buffer[index]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

function parseEvent(text: string, observations: ObservationShapes): { ok: true; event: HistoryEvent } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: errorMessage(error) };
  }
  // Checked here, at the boundary, so nothing past the reader meets an event that is not one.
  const problem = eventProblem(value, observations);
  return problem === null ? { ok: true, event: value as HistoryEvent } : { ok: false, problem };
}
