/**
 * What the drill and its in-cluster probe runner say to each other. The runner (harness/runner/)
 * writes one JSON object per line to stdout, which the drill reads back from the pod's log stream;
 * the drill asks it to start, stop, read back its writes and tell its clock over HTTP, through the
 * API server's proxy to the runner's pod (never to an instance pod, so nothing of it fails over).
 *
 * Every line carries `seq` (1, 2, …) so a log stream that is followed again after a break (it is
 * replayed from the start) adds nothing twice. Times are the runner's own monotonic clock: ms since
 * it started. The drill maps them onto its clock with the offset its pings estimate (clock-sync.ts).
 */
import type { HistoryEvent } from "../../../history/events.ts";
import type { ProbeSpec } from "../../../scenario/probes.ts";

/** The tag on every line the runner writes, and the protocol's version. */
export const RUNNER_TAG = "pgdrill-runner";
export const RUNNER_PROTOCOL = 1;
/** The runner's HTTP control port, in its pod. */
export const RUNNER_CONTROL_PORT = 8080;
/** The environment variable that holds the runner's config (JSON); --config names a file or JSON instead. */
export const RUNNER_CONFIG_ENV = "PGDRILL_RUNNER_CONFIG";

/** What the runner needs: where the database is, the probes, and how long it may live. */
export interface RunnerConfig {
  protocol: typeof RUNNER_PROTOCOL;
  /** The Cluster, for the runner's labels in its lines. */
  cluster: string;
  /** The instance pods (the role probe asks each) and how to reach each directly. */
  nodes: Array<{ name: string; host: string; port: number }>;
  /** The operator's own Services, as applications dial them: <cluster>-rw.<ns>.svc. */
  rw: { host: string; port: number };
  ro: { host: string; port: number };
  /** The app user (from the Cluster's <cluster>-app secret, through the environment). */
  user: string;
  database: string;
  /** The variable that holds the password (the pod gets it from the secret; it is never in the config). */
  passwordEnv: string;
  probes: ProbeSpec[];
  /** A run asked for longer than this is refused: a bound on what one runner does. */
  maxRunMs: number;
  /** The runner exits this long after it started, whatever happens: nothing outlives a crashed drill. */
  lifetimeMs: number;
  controlPort: number;
}

/** The first line: the runner's clock at its t = 0, by its wall clock and its kernel's monotonic clock. */
export interface HelloLine {
  type: "hello";
  t: number;
  wallClock: string;
  /**
   * process.hrtime at t = 0 in ns (CLOCK_MONOTONIC): on one kernel, the drill's and the runner's are the same clock, so a test knows the
   * true offset.
   */
  monotonicNs: string;
  version: string;
  probes: string[];
  /** The port its control server listens on. */
  controlPort: number;
  /** What it runs on: its Node version and the uid it runs as (the pod's runAsUser). Absent from older runners. */
  runtime?: { node: string; uid: number | null };
}

/** One History event, on the runner's clock. */
export interface EventLine {
  type: "event";
  event: HistoryEvent;
}

/** The runner's own state: probing started or ended, final reads done, leaving (and why). */
export interface StateLine {
  type: "state";
  t: number;
  state: "running" | "probes-done" | "final-read-done" | "exiting";
  reason?: string;
}

/** Something went wrong in the runner (its setup, a probe that threw): for the drill's log. */
export interface ErrorLine {
  type: "error";
  t: number;
  message: string;
}

export type RunnerLineBody = HelloLine | EventLine | StateLine | ErrorLine;
export type RunnerLine = RunnerLineBody & { [RUNNER_TAG]: typeof RUNNER_PROTOCOL; seq: number };

/** The answer to GET /clock: the runner's t when it handled the request. */
export interface ClockReply {
  t: number;
}

/** Parses one log line; null for anything the runner did not write (a Node warning, a blank line). */
export function parseRunnerLine(text: string): RunnerLine | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const line = value as Partial<RunnerLine> & Record<string, unknown>;
  if (line[RUNNER_TAG] !== RUNNER_PROTOCOL || typeof line.seq !== "number" || typeof line.type !== "string") return null;
  if (
    line.type === "event" &&
    (typeof line.event !== "object" || line.event === null || typeof (line.event as { t?: unknown }).t !== "number")
  )
    return null;
  return line as RunnerLine;
}
