/**
 * The kill switch, live: judges a scenario's `abortIf` from the History's events as the drill
 * appends them, and watches for `pgdrill stop`. When either fires, the drill (run/drill.ts) heals
 * every fault at once, stops the schedule and the probes, records the reason (a log event, then
 * run-end "aborted" with it as the error) and ends with the verdict errored: "the run aborted: …".
 *
 * The conditions are read with the checkers' own definitions, not a copy of them: each probe's
 * downtime windows come from checker/downtime.ts's WindowTracker, the share of time served from
 * checker/availability.ts's shareServed, over the operations completed in a trailing horizon (the
 * longest condition plus slack), with the latest-invoked one before it, as the live view does. So
 * memory is bounded by the horizon, not by the drill's length, and a window still open when the
 * horizon began opened at that earlier operation, so it is at least the horizon long.
 *
 * `pgdrill stop <run-dir | run-id>` writes STOP_FILE into the run directory; a running drill polls
 * for it (every STOP_POLL_MS) and stops as for a breach, the file's reason in its own. So a stop
 * works from any terminal that sees the run directory (also one on a shared volume, or a CI step
 * beside the drill's). A run id is found through RUNS_DIR, where each drill registers its run
 * directory (and pid) while it runs, or under ./reports/<scenario>/<run-id>.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { shareServed } from "../checker/availability.ts";
import { WindowTracker } from "../checker/downtime.ts";
import { ProbeList } from "../checker/probes.ts";
import { formatMs, toMs } from "../duration.ts";
import { InputError } from "../errors.ts";
import type { HistoryEvent, Phase } from "../history/events.ts";
import { completedFrom, type CompletedOperation } from "../history/operations.ts";
import type { AbortIf } from "../scenario/abort.ts";

/** Conditions are judged at most this often (History time), so a busy drill does not rebuild windows per operation. */
const JUDGE_EVERY_MS = 50;
/** Kept beyond the longest condition, so a window open at the horizon's start is seen as such. */
const HORIZON_SLACK_MS = 1000;
export const STOP_FILE = "stop-request.json";
const STOP_POLL_MS = 200;
/** Where running drills register their run directory by run id, for `pgdrill stop <run-id>`. */
export const RUNS_DIR = join(tmpdir(), "pgdrill-runs");

/** Why the drill is being stopped, in one line, and when (History t). */
export interface Breach {
  condition: "downtimeLongerThan" | "availabilityBelow" | "stop";
  t: number;
  message: string;
}

/** `abortIf.availabilityBelow.probe` names a probe of the scenario; checked before anything starts. */
export function checkAbortIf(abortIf: AbortIf | undefined, probes: ReadonlyArray<{ name: string; type: string }>): void {
  const named = abortIf?.availabilityBelow?.probe;
  if (named === undefined) return;
  const probe = probes.find((each) => each.name === named);
  const clients = probes.filter((each) => each.type !== "role").map((each) => `"${each.name}"`);
  if (!probe)
    throw new InputError(
      "abortIf.availabilityBelow.probe",
      `names no probe of the scenario ("${named}")`,
      `Use one of ${clients.join(", ")}.`,
    );
  if (probe.type === "role")
    throw new InputError(
      "abortIf.availabilityBelow.probe",
      `"${named}" is a role probe, whose availability is not measured`,
      `Use one of ${clients.join(", ")}.`,
    );
}

/** One probe's completed operations in the horizon, and the latest-invoked one before it. */
class ProbeBuffer {
  recent: CompletedOperation[] = [];
  before: CompletedOperation | null = null;
  firstInvoke = Number.POSITIVE_INFINITY;
}

/**
 * Feed it every History event (`add`); it calls `onBreach` once, the first time a condition holds
 * in the drill phase (the steady state has its own check; an outage that began in it still counts
 * from its start). Pure but for the callback, so a hand-made
 * History is judged as a drill judges its own.
 */
export class KillSwitch {
  private readonly downtimeMs: number | null;
  private readonly availability: { ratio: number; overMs: number; probe: string | null } | null;
  private readonly horizonMs: number;
  private readonly buffers = new Map<string, ProbeBuffer>();
  private readonly probes = new ProbeList();
  private readonly slos = new Map<string, number>();
  private readonly onBreach: (breach: Breach) => void;
  private phase: Phase = "starting";
  private lastT = 0;
  private lastJudged = Number.NEGATIVE_INFINITY;
  private fired: Breach | null = null;

  constructor(abortIf: AbortIf | undefined, onBreach: (breach: Breach) => void) {
    this.onBreach = onBreach;
    this.downtimeMs = abortIf?.downtimeLongerThan === undefined ? null : toMs(abortIf.downtimeLongerThan);
    const below = abortIf?.availabilityBelow;
    this.availability = below ? { ratio: below.ratio, overMs: toMs(below.over), probe: below.probe ?? null } : null;
    this.horizonMs = Math.max(this.downtimeMs ?? 0, this.availability?.overMs ?? 0) + HORIZON_SLACK_MS;
  }

  /** Whether it judges anything (a scenario without abortIf still has `pgdrill stop`). */
  get armed(): boolean {
    return this.downtimeMs !== null || this.availability !== null;
  }

  get breach(): Breach | null {
    return this.fired;
  }

  /** Fires by hand (`pgdrill stop`), unless a breach already did. */
  trip(breach: Breach): void {
    if (this.fired) return;
    this.fired = breach;
    this.onBreach(breach);
  }

  add = (event: HistoryEvent): void => {
    if (this.fired) return;
    this.lastT = Math.max(this.lastT, event.t);
    if (event.kind === "run-start")
      for (const probe of event.probes ?? []) if (probe.sloMs !== undefined) this.slos.set(probe.name, probe.sloMs);
    if (event.kind === "phase") this.phase = event.phase;
    if (!this.armed || event.kind !== "complete" || event.type === "role") return;
    const operation = completedFrom(event);
    this.probes.note(operation);
    const buffer = this.bufferOf(operation.probe);
    buffer.firstInvoke = Math.min(buffer.firstInvoke, operation.invokeT);
    buffer.recent.push(operation);
    this.trim(buffer);
    if (this.phase !== "drill") return;
    if (event.t < this.lastJudged + JUDGE_EVERY_MS) return;
    this.lastJudged = event.t;
    const breach = this.judge();
    if (breach) this.trip(breach);
  };

  /** The first condition that holds now, or null. */
  judge(): Breach | null {
    if (this.downtimeMs !== null) {
      for (const probe of this.probes.all) {
        const longest = this.timeline(probe.name).windows.reduce(
          (low, window) => (window.durationMs > (low?.durationMs ?? -1) ? window : low),
          null as null | { durationMs: number; startMs: number; open: boolean },
        );
        if (longest && longest.durationMs > this.downtimeMs) {
          return {
            condition: "downtimeLongerThan",
            t: this.lastT,
            message:
              `probe "${probe.name}" was down ${formatMs(longest.durationMs)}${longest.open ? " and still is" : ""} (since ` +
              `${(longest.startMs / 1000).toFixed(2)} s into the run), longer than abortIf.downtimeLongerThan ` +
              `${formatMs(this.downtimeMs)}`,
          };
        }
      }
    }
    const floor = this.availability;
    if (floor) {
      const name = floor.probe ?? this.probes.headline?.name ?? null;
      const buffer = name === null ? undefined : this.buffers.get(name);
      const from = this.lastT - floor.overMs;
      // Judged only once the probe has observed the whole window: a first failure is not a share of 10 s.
      if (name !== null && buffer && buffer.firstInvoke <= from) {
        const share = shareServed(this.timeline(name), from);
        if (share !== null && share < floor.ratio) {
          return {
            condition: "availabilityBelow",
            t: this.lastT,
            message:
              `probe "${name}" was served ${(share * 100).toFixed(1)}% of the last ${formatMs(floor.overMs)}, below ` +
              `abortIf.availabilityBelow ${(floor.ratio * 100).toFixed(1)}%`,
          };
        }
      }
    }
    return null;
  }

  private timeline(probe: string) {
    const buffer = this.bufferOf(probe);
    const operations = [...(buffer.before ? [buffer.before] : []), ...buffer.recent].sort((a, b) => a.invokeT - b.invokeT);
    const tracker = new WindowTracker(probe, this.slos.get(probe) ?? null);
    for (const operation of operations) tracker.add(operation);
    return tracker.finish();
  }

  private bufferOf(probe: string): ProbeBuffer {
    let buffer = this.buffers.get(probe);
    if (!buffer) this.buffers.set(probe, (buffer = new ProbeBuffer()));
    return buffer;
  }

  /** Operations held, over all probes (bounded by the horizon, whatever the drill's length). */
  get held(): number {
    let count = 0;
    for (const buffer of this.buffers.values()) count += buffer.recent.length + (buffer.before ? 1 : 0);
    return count;
  }

  private trim(buffer: ProbeBuffer): void {
    const from = this.lastT - this.horizonMs;
    let drop = 0;
    while (drop < buffer.recent.length && buffer.recent[drop]!.completeT < from) {
      const dropped = buffer.recent[drop]!;
      if (!buffer.before || dropped.invokeT >= buffer.before.invokeT) buffer.before = dropped;
      drop += 1;
    }
    if (drop > 0) buffer.recent.splice(0, drop);
  }
}

// ---- pgdrill stop -----------------------------------------------------------------------------

export interface StopRequest {
  requestedAt: string;
  pid: number;
  reason: string;
}

/**
 * While a drill runs: registers its run directory under RUNS_DIR (by run id) and polls for
 * STOP_FILE, calling `onStop` once with its reason. A stop file left from before is removed first.
 * The returned function stops polling and unregisters.
 */
export function watchForStop(runDir: string, runId: string, onStop: (request: StopRequest) => void): () => void {
  const file = join(runDir, STOP_FILE);
  rmSync(file, { force: true });
  const registration = join(RUNS_DIR, `${runId}.json`);
  try {
    mkdirSync(RUNS_DIR, { recursive: true });
    writeFileSync(registration, `${JSON.stringify({ runId, runDir, pid: process.pid })}\n`);
  } catch {
    // Only `pgdrill stop <run-id>` needs it; `pgdrill stop <run-dir>` works without.
  }
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || !existsSync(file)) return;
    stopped = true;
    onStop(readStopRequest(file));
  }, STOP_POLL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    rmSync(registration, { force: true });
  };
}

function readStopRequest(file: string): StopRequest {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<StopRequest>;
    return { requestedAt: String(parsed.requestedAt ?? ""), pid: Number(parsed.pid ?? 0), reason: String(parsed.reason ?? "") };
  } catch {
    return { requestedAt: "", pid: 0, reason: "" };
  }
}

/** What the History and the verdict say: "kill switch (abortIf): probe …" or "stopped by `pgdrill stop` …". */
export function breachReason(breach: Breach): string {
  return breach.condition === "stop" ? breach.message : `kill switch (abortIf): ${breach.message}`;
}

/** The breach a stop request makes: "stopped by `pgdrill stop` (pid 123): <reason>". */
export function stopBreach(request: StopRequest, t: number): Breach {
  const by = request.pid ? ` (pid ${request.pid})` : "";
  return { condition: "stop", t, message: `stopped by \`pgdrill stop\`${by}${request.reason ? `: ${request.reason}` : ""}` };
}

/**
 * The run directory `pgdrill stop` means: a directory with a history.jsonl, else a run id
 * registered by a running drill, else ./reports/<scenario>/<run-id>.
 */
export function findRunDir(runDirOrId: string, cwd = process.cwd()): string {
  const direct = resolve(cwd, runDirOrId);
  if (existsSync(join(direct, "history.jsonl"))) return direct;
  const registration = join(RUNS_DIR, `${runDirOrId}.json`);
  if (/^[\w.-]+$/.test(runDirOrId) && existsSync(registration)) {
    try {
      const { runDir } = JSON.parse(readFileSync(registration, "utf8")) as { runDir?: unknown };
      if (typeof runDir === "string" && existsSync(join(runDir, "history.jsonl"))) return runDir;
    } catch {
      // fall through to ./reports
    }
  }
  const reports = join(cwd, "reports");
  if (existsSync(reports)) {
    for (const scenario of readdirSync(reports, { withFileTypes: true })) {
      const candidate = join(reports, scenario.name, runDirOrId);
      if (scenario.isDirectory() && existsSync(join(candidate, "history.jsonl"))) return candidate;
    }
  }
  throw new InputError(
    "run",
    `"${runDirOrId}" is neither a run directory (with a history.jsonl) nor the id of a running drill`,
    "Give the run directory `pgdrill run` printed, or its run id (the last part of it).",
  );
}

/** Whether the History in `runDir` has ended (a run-end line, read from the file's tail), and its status then. */
export function runEndOf(runDir: string): { status: string; error?: string } | null {
  let text: string;
  try {
    const fd = openSync(join(runDir, "history.jsonl"), "r");
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const tail = Buffer.alloc(length);
      readSync(fd, tail, 0, length, size - length);
      text = tail.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const lines = text.trimEnd().split("\n");
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 20; i -= 1) {
    try {
      const event = JSON.parse(lines[i]!) as HistoryEvent;
      if (event.kind === "run-end") return { status: event.status, ...(event.error ? { error: event.error } : {}) };
    } catch {
      // a line cut short (still being written), or the tail's first, partial line
    }
  }
  return null;
}

/** Asks the drill in `runDir` to stop: writes STOP_FILE. */
export function requestStop(runDir: string, reason: string): StopRequest {
  const request: StopRequest = { requestedAt: new Date().toISOString(), pid: process.pid, reason };
  writeFileSync(join(runDir, STOP_FILE), `${JSON.stringify(request)}\n`);
  return request;
}

export interface StopOutcome {
  runDir: string;
  /** The run had ended before the request: nothing was asked. */
  alreadyEnded: boolean;
  /** The run's end once it came (null: not within the wait, or not waited for). */
  runEnd: { status: string; error?: string } | null;
}

/**
 * `pgdrill stop`: finds the run, writes the request, and waits (up to `waitMs`, 0 for not at all)
 * for the drill to record its run-end: it heals, tears down and analyses first.
 */
export async function stopRun(runDirOrId: string, options: { reason?: string; waitMs: number; cwd?: string }): Promise<StopOutcome> {
  const runDir = findRunDir(runDirOrId, options.cwd);
  const ended = runEndOf(runDir);
  if (ended) return { runDir, alreadyEnded: true, runEnd: ended };
  requestStop(runDir, options.reason ?? "");
  const deadline = Date.now() + options.waitMs;
  while (Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, STOP_POLL_MS));
    const end = runEndOf(runDir);
    // The History gets its run-end before the analysis; the reports follow within moments.
    if (end) return { runDir, alreadyEnded: false, runEnd: end };
  }
  return { runDir, alreadyEnded: false, runEnd: null };
}
