/**
 * The line protocol a probe process speaks to the drill: the cnpg target's in-cluster probe runner
 * (harness/runner/runner.ts, read back from its pod's log) and the driver agents (harness/drivers/,
 * read from their stdout) write one JSON object per line, each tagged `"pgdrill-runner": 1` and
 * numbered by `seq` (1, 2, …) so a stream followed again after a break (replayed from the start)
 * adds nothing twice. Times are the writer's own monotonic clock: ms since its t = 0; the reader
 * maps them onto the drill's clock.
 *
 * Neutral on purpose (no target, no probe): the cnpg runner and the driver probes both import it.
 * The lines are input from another process, and an agent may be written in any language, so an
 * event is checked here, by the History's own validator, before anything appends it.
 */
import type { HistoryEvent } from "../history/events.ts";
import { coreEventProblem } from "../history/validate.ts";

/** The tag on every line, and the protocol's version. */
export const RUNNER_TAG = "pgdrill-runner";
export const RUNNER_PROTOCOL = 1;

/** The first line: the writer's clock at its t = 0, by its wall clock and its kernel's monotonic clock. */
export interface HelloLine {
  type: "hello";
  t: number;
  wallClock: string;
  /**
   * CLOCK_MONOTONIC at t = 0 in ns, as a decimal string (process.hrtime, clock_gettime, System.nanoTime,
   * time.monotonic_ns): on one kernel the drill's and the writer's are the same clock, so the offset is exact.
   */
  monotonicNs: string;
  /** What wrote it: pgdrill's version (the runner), or "<driver> <driver version>" (an agent). */
  version: string;
  probes: string[];
  /** The port its control server listens on; 0 for an agent (controlled on stdin). */
  controlPort: number;
  /** What it runs on: its language runtime and version, and the uid it runs as. Absent from older runners. */
  runtime?: { node: string; uid: number | null };
  /**
   * A driver agent's own deadline for one connect, in ms: every host its driver's whole connect timeout, then 1 s
   * (docs/drivers.md). Absent from an older agent, whose deadline was connectTimeoutMs + 1 s.
   */
  connectDeadlineMs?: number;
}

/** One History event, on the writer's clock. */
export interface EventLine {
  type: "event";
  event: HistoryEvent;
}

/** The writer's own state: probing started or ended, final reads done, leaving (and why). */
export interface StateLine {
  type: "state";
  t: number;
  state: "running" | "probes-done" | "final-read-done" | "exiting";
  reason?: string;
}

/** Something went wrong in the writer (its setup, a refused setting, a probe that threw): for the drill's log. */
export interface ErrorLine {
  type: "error";
  t: number;
  message: string;
}

export type RunnerLineBody = HelloLine | EventLine | StateLine | ErrorLine;
export type RunnerLine = RunnerLineBody & { [RUNNER_TAG]: typeof RUNNER_PROTOCOL; seq: number };

/** A tagged line that is not what the protocol says, and why (for the drill's log or the probe's failure). */
export interface BadLine {
  problem: string;
}

const STATES = new Set<unknown>(["running", "probes-done", "final-read-done", "exiting"]);

/**
 * Reads one line: a RunnerLine; a BadLine for a line tagged as ours that is wrong (its event fails
 * the History's validator, a field is missing); null for anything else the process printed (a
 * runtime's warning, a blank line).
 */
export function readRunnerLine(text: string): RunnerLine | BadLine | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const line = value as Record<string, unknown>;
  if (line[RUNNER_TAG] === undefined) return null;
  if (line[RUNNER_TAG] !== RUNNER_PROTOCOL) return { problem: `protocol ${JSON.stringify(line[RUNNER_TAG])}, expected ${RUNNER_PROTOCOL}` };
  if (typeof line.seq !== "number" || !Number.isInteger(line.seq) || line.seq < 1) return { problem: 'no positive integer "seq"' };
  const problem = bodyProblem(line);
  return problem === null ? (line as unknown as RunnerLine) : { problem: `line ${line.seq} (${String(line.type)}): ${problem}` };
}

/** Parses one line; null for anything that is not a well-formed line of the protocol. */
export function parseRunnerLine(text: string): RunnerLine | null {
  const line = readRunnerLine(text);
  return line === null || "problem" in line ? null : line;
}

export function isBadLine(line: RunnerLine | BadLine): line is BadLine {
  return "problem" in line;
}

function bodyProblem(line: Record<string, unknown>): string | null {
  switch (line.type) {
    case "hello":
      if (typeof line.t !== "number") return 'no number "t"';
      if (typeof line.monotonicNs !== "string" || !/^\d+$/.test(line.monotonicNs)) return '"monotonicNs" must be a string of digits';
      if (typeof line.version !== "string") return 'no string "version"';
      if (!Array.isArray(line.probes) || !line.probes.every((probe) => typeof probe === "string")) return '"probes" must be strings';
      if (line.connectDeadlineMs !== undefined && !(typeof line.connectDeadlineMs === "number" && line.connectDeadlineMs > 0)) {
        return '"connectDeadlineMs" must be a positive number';
      }
      return null;
    case "state":
      if (typeof line.t !== "number") return 'no number "t"';
      return STATES.has(line.state) ? null : `unknown state ${JSON.stringify(line.state)}`;
    case "error":
      return typeof line.message === "string" ? null : 'no string "message"';
    case "event":
      return coreEventProblem(line.event);
    default:
      // An agent that wrote its event's fields beside the line's own: say where they go.
      if (typeof line.kind === "string") return 'an event goes inside the line: {"type": "event", "event": {"kind": …}}';
      return `unknown type ${JSON.stringify(line.type)}`;
  }
}
