/**
 * What a command fault may tell pgdrill on its output, one line each (docs/scenarios.md, "What a
 * command can tell pgdrill"):
 *
 *   pgdrill-event: happened [<time>]   the fault really took effect then (a provider's CLI that
 *                                      returns before, or long after, the failover began)
 *   pgdrill-event: [<time>] <text>     what the HA system did, e.g. "pg_autoctl: node 2 promoted"
 *
 * <time> is an ISO 8601 date-time with its zone (2026-12-07T12:00:03.120Z, …+01:00); without one,
 * the line's time is when pgdrill read it (runShell stamps each line as it arrives). Pure: the
 * runner maps wall-clock times onto the History's clock and records the result on the fault event.
 */
import type { SaidEvent } from "../history/events.ts";

export const SAID_PREFIX = "pgdrill-event:";
/** A command that prints thousands of lines is not describing a failover: the first ones are kept. */
export const MAX_SAID = 20;
const MAX_TEXT = 200;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export interface SaidLines {
  /** When the fault happened (History ms), if the command said. */
  happenedT?: number;
  said: SaidEvent[];
  /** Lines refused, each with why: logged, never fatal (the fault itself ran). */
  problems: string[];
}

/** The line with the wall time it was read at, when it gives none of its own (runShell, as lines arrive). */
export function stampSaidLine(line: string, readAt: Date): string {
  const rest = saidRest(line);
  if (rest === null) return line;
  const words = rest.split(/\s+/).filter((word) => word !== "");
  const at = readAt.toISOString();
  // "happened" alone gets the time; anything after it is left for parseSaid to judge.
  if (words[0] === "happened") return words.length === 1 ? `${SAID_PREFIX} happened ${at}` : line;
  if (words.length === 0 || ISO.test(words[0]!) || words[0] === "now") return line;
  return `${SAID_PREFIX} ${at} ${words.join(" ")}`;
}

function saidRest(line: string): string | null {
  const trimmed = line.trim();
  return trimmed.startsWith(SAID_PREFIX) ? trimmed.slice(SAID_PREFIX.length).trim() : null;
}

/**
 * The `pgdrill-event:` lines of a command's output. `toT` maps a wall-clock time (ms since the
 * epoch) onto the History's clock; `window` is when it may lie: from the run's start to the end of
 * the command (a time outside is refused: the command's clock or its words are wrong). "now" and a
 * line with no time mean `window.readT` (when the output was read, for lines not stamped as they came).
 */
export function parseSaid(
  output: string,
  toT: (wallMs: number) => number,
  window: { fromT: number; toT: number; readT: number },
): SaidLines {
  const result: SaidLines = { said: [], problems: [] };
  for (const line of output.split("\n")) {
    const rest = saidRest(line);
    if (rest === null) continue;
    const words = rest.split(/\s+/).filter((word) => word !== "");
    const happened = words[0] === "happened";
    if (happened) words.shift();
    let t = window.readT;
    if (words[0] !== undefined && (ISO.test(words[0]) || words[0] === "now")) {
      const time = words.shift()!;
      if (time !== "now") {
        const wall = Date.parse(time);
        if (Number.isNaN(wall)) {
          result.problems.push(`"${line.trim()}": ${time} is not a date-time`);
          continue;
        }
        t = Math.round(toT(wall));
      }
    }
    if (t < window.fromT || t > window.toT) {
      result.problems.push(`"${line.trim()}": its time lies outside the run (before it began, or after the command ended)`);
      continue;
    }
    const text = words.join(" ");
    if (happened) {
      if (text !== "") result.problems.push(`"${line.trim()}": "happened" takes only a time`);
      else if (result.happenedT !== undefined) result.problems.push(`"${line.trim()}": a second "happened"; the first is kept`);
      else result.happenedT = t;
      continue;
    }
    if (text === "") result.problems.push(`"${line.trim()}": says nothing (give what the HA system did)`);
    else if (result.said.length >= MAX_SAID) result.problems.push(`"${line.trim()}": more than ${MAX_SAID} lines; the first are kept`);
    else result.said.push({ t, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text });
  }
  return result;
}
