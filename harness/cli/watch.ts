/**
 * `pgdrill watch [URL]`: the seed guide's SELECT 1 loop as one command. It is a drill on an
 * `endpoint` target with no faults, built here as a scenario, so the run directory, the History,
 * the reports and the live view are the ones `pgdrill run` writes. It talks only to the URLs given
 * (the argument or DATABASE_URL, and --read-replica): DATABASE_READ_REPLICA_URL is not read.
 *
 * Ctrl-C (or SIGTERM, or `--for` running out) finishes it: the probes stop, the run ends completed
 * and every report is written. A second Ctrl-C aborts (still cleaning up: the writes' schema is
 * dropped); a third exits at once. A Ctrl-C while the watch is still starting (connecting, making
 * its schema) has nothing to finish, as nothing was measured: what was started is removed, and so
 * is the run directory it made; it says so in one line and exits as an interrupted command does
 * (130; 143 for SIGTERM), not as a failed run. Without --for it runs at most MAX_WATCH_MS, and
 * never more than MAX_OPERATIONS operations per probe, so the History stays bounded in time and size.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { formatDuration, parseDuration } from "../duration.ts";
import { EXIT, InputError } from "../errors.ts";
import { formatSummary } from "../report/summary.ts";
import type { ProbeSpec, Scenario } from "../scenario/schema.ts";
import { validateScenario } from "../scenario/validate.ts";
import type { Topology } from "../targets/types.ts";
import { Keyboard, interactiveStdin } from "./keys.ts";
import { LiveView } from "./live.ts";
import { onLauncherGone } from "./parent-watch.ts";

/** The longest a watch runs, with or without --for. */
export const MAX_WATCH_MS = 24 * 60 * 60 * 1000;
/** At most this many operations per probe (at --every 20ms, 24 h would be 4.3 million). */
export const MAX_OPERATIONS = 1_000_000;
const ORPHAN_EXIT_MS = 60_000;

export interface WatchIO {
  out: (text: string) => void;
  err: (text: string) => void;
  color: boolean;
  live: { write(text: string): unknown; isTTY?: boolean };
}

export interface WatchOptions {
  readReplica?: string;
  writes?: boolean;
  every: string;
  for?: string;
  out?: string;
  quiet?: boolean;
  gate: string[];
}

function durationFlag(flag: string, value: string): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new InputError(flag, `${JSON.stringify(value)} ${parsed.message}`, parsed.fix);
  if (parsed.ms <= 0) throw new InputError(flag, `must be longer than 0, got ${JSON.stringify(value)}`, 'Give e.g. "100ms" or "10m".');
  return parsed.ms;
}

/** The watch as a scenario: what `pgdrill run` would run, and what scenario.json records. */
export function watchScenario(
  url: string | undefined,
  options: Omit<WatchOptions, "out" | "quiet" | "gate">,
): { scenario: Scenario; capped: string | null } {
  const primary = url ?? process.env.DATABASE_URL;
  if (!primary) {
    const fix = "Give one (pgdrill watch postgresql://user:password@host:5432/db) or export DATABASE_URL.";
    throw new InputError("URL", "no URL: none given and DATABASE_URL is not set", fix);
  }
  const everyMs = durationFlag("--every", options.every);
  if (everyMs < 10) {
    const fix = 'Give e.g. "100ms": the seed guide\'s loop runs about every 100 ms.';
    throw new InputError("--every", `must be at least 10ms, got ${JSON.stringify(options.every)}`, fix);
  }
  const limit = Math.min(MAX_WATCH_MS, everyMs * MAX_OPERATIONS);
  const operations = ` (${MAX_OPERATIONS.toLocaleString("en")} operations at --every ${options.every})`;
  const limitText = `${formatDuration(limit)}${limit < MAX_WATCH_MS ? operations : ""}`;
  let durationMs = limit;
  let capped: string | null = `until Ctrl-C, at most ${limitText}`;
  if (options.for !== undefined) {
    durationMs = durationFlag("--for", options.for);
    if (durationMs > limit) {
      const fix = "Watch in several runs (each writes its own run directory), or raise --every.";
      throw new InputError("--for", `${JSON.stringify(options.for)} is longer than watch's limit of ${limitText}`, fix);
    }
    capped = null;
  }
  const timeouts = { timeout: "2s", connectTimeout: "2s" };
  const probes: ProbeSpec[] = [
    { kind: "select1", name: "select1", every: options.every, ...timeouts, connection: "fresh", endpoint: "rw", driver: "node-postgres" },
    ...(options.readReplica
      ? [{ kind: "select1", name: "replica", every: options.every, ...timeouts, connection: "fresh", endpoint: "ro" } as ProbeSpec]
      : []),
    ...(options.writes ? [{ kind: "writes", every: options.every, ...timeouts, connection: "held", endpoint: "rw" } as ProbeSpec] : []),
    // Who answers behind the name (server address, recovery, timeline), on the same URLs.
    { kind: "role", every: "1s", ...timeouts } as ProbeSpec,
  ];
  const scenario = asWatchInput(url, () =>
    validateScenario(
      {
        name: "watch",
        description:
          `pgdrill watch: SELECT 1 every ${options.every}${options.readReplica ? " on the primary and the read replica" : ""}` +
          `${options.writes ? ", tracked writes in a schema of its own" : ""}, and who answers every second; ` +
          `${capped ?? `for ${options.for}`}. No fault: what happened is what someone else did (marks say what).`,
        target: { kind: "endpoint", url: primary, readReplicaUrl: options.readReplica ?? false, allowWrites: Boolean(options.writes) },
        probes,
        // The watch observes whatever state it finds: the baseline is recorded, never refused.
        steadyState: { window: `${Math.min(1000, durationMs / 2)}ms`, minAvailability: 0 },
        duration: `${durationMs}ms`,
      },
      "pgdrill watch",
    ),
  );
  return { scenario, capped };
}

/**
 * The endpoint target of watch's scenario (its readReplicaUrl is false without --read-replica, so
 * DATABASE_READ_REPLICA_URL is not read).
 */
export async function watchTopology(scenario: Scenario, url?: string): Promise<Topology> {
  const { endpointTopology } = await import("../targets/endpoint/endpoint.ts");
  if (scenario.target.kind !== "endpoint") throw new Error("pgdrill watch builds an endpoint target");
  // Named as the user typed them, in errors, the drill's log and the History alike (not target.url, which they never wrote).
  const sources = { url: url === undefined ? "DATABASE_URL" : "the URL argument", readReplicaUrl: "--read-replica" };
  const target = scenario.target;
  return asWatchInput(url, () => endpointTopology(target, scenario.probes, sources));
}

/**
 * Watch's words for the fields of the scenario it builds: the user typed a URL argument (or set
 * DATABASE_URL) and --read-replica, never `target.url`. Applied to its errors and its console.
 */
export function watchWords(text: string, url: string | undefined): string {
  return text
    .replace(/(pgdrill watch: )?target\.readReplicaUrl/g, "--read-replica")
    .replace(/(pgdrill watch: )?target\.url/g, url === undefined ? "DATABASE_URL" : "the URL argument");
}

function asWatchInput<T>(url: string | undefined, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const message = watchWords(error.message, url);
    const field = watchWords(error.field, url);
    // The message is rebuilt whole: the problem and the fix may name the field too.
    const renamed = new InputError(field, "", watchWords(error.fix, url));
    renamed.message = message;
    throw renamed;
  }
}

/** Exit codes of a watch cancelled while it was starting: what a shell gives a command ended by the signal. */
const CANCELLED_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function watchCommand(
  url: string | undefined,
  options: WatchOptions,
  io: WatchIO,
  topologyOverride?: Topology,
): Promise<{ exitCode: number; runDir: string | null }> {
  const { scenario, capped } = watchScenario(url, options);
  const topology = topologyOverride ?? (await watchTopology(scenario, url));
  const { runDrill, CancelledBeforeMeasuring } = await import("../run/drill.ts");
  const live = new LiveView({ stream: io.live, color: io.color && !("NO_COLOR" in process.env), quiet: Boolean(options.quiet) });
  const keyboard = interactiveStdin() ? new Keyboard({ view: live }) : null;
  // What is there before the drill makes its run directory: a cancel removes only what it made.
  const before = {
    outExisted: options.out !== undefined && existsSync(options.out),
    made: options.out ? [] : [join("reports", "watch"), "reports"].filter((dir) => !existsSync(dir)),
  };
  let measuring = false;
  const stops = stopsOnInterrupt(io, live, () => measuring);
  const marking = keyboard ? "; m marks a moment" : '; `pgdrill mark <run-dir> "note"` marks a moment';
  live.log(`watching ${capped ?? `for ${options.for}`}: Ctrl-C ends it (completed, every report written)${marking}`);
  try {
    const outcome = await runDrill(scenario, {
      source: "pgdrill watch",
      ...(options.out ? { outDir: options.out } : {}),
      topology,
      gateOverrides: options.gate,
      signal: stops.abort,
      finish: stops.finish,
      log: (line) => live.log(watchWords(line, url)),
      onEvent: (event) => {
        if (event.kind === "phase" && event.phase === "steady-state") measuring = true;
        live.onEvent(event);
      },
      operator: { confirm: "ask", ...(keyboard ? { input: keyboard } : {}) },
    });
    live.stop();
    io.out(`${watchWords(formatSummary(outcome.result, { color: io.color }), url)}\n`);
    io.out(`run directory: ${outcome.runDir}\n`);
    return { exitCode: EXIT[outcome.result.verdict], runDir: outcome.runDir };
  } catch (error) {
    if (!(error instanceof CancelledBeforeMeasuring)) throw error;
    // Nothing was measured: no report to write, and the run directory holds only the start of a History.
    live.stop();
    const gone = removeRunDir(error.runDir, before);
    const removed = [...error.removed, ...(gone ? [gone] : [])];
    const by = error.by ? ` (${error.by})` : "";
    const removal = removed.length > 0 ? `; removed ${removed.join(", ")}` : "";
    io.err(`pgdrill: watch stopped${by} while it was still starting, before anything was measured: no report${removal}\n`);
    return { exitCode: CANCELLED_EXIT[error.by] ?? EXIT.errored, runDir: null };
  } finally {
    live.stop();
    stops.dispose();
  }
}

/**
 * The run directory of a watch cancelled while starting: removed, with reports/watch and reports
 * when the drill made them for it and they are empty now. A directory given with --out that was
 * there before keeps only what was in it before. Returns what it removed, for the one line.
 */
function removeRunDir(runDir: string, before: { outExisted: boolean; made: readonly string[] }): string | null {
  const inHere = relative(process.cwd(), runDir);
  const shown = inHere && !inHere.startsWith("..") ? inHere : runDir;
  try {
    if (before.outExisted) {
      for (const file of RUN_FILES) rmSync(join(runDir, file), { force: true });
      return `its files in ${shown}`;
    }
    rmSync(runDir, { recursive: true, force: true });
    for (const dir of before.made) if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
    return `its run directory ${shown}`;
  } catch {
    return null;
  }
}

/** What a drill writes into its run directory before its probes start. */
const RUN_FILES = ["history.jsonl", "scenario.json", "operator-requests.jsonl", "operator-replies.jsonl", "stop-request.json"];

/**
 * First SIGINT/SIGTERM: finish (completed; while still starting, nothing to finish: cancelled);
 * second: abort (still cleaning up); third: exit at once.
 */
function stopsOnInterrupt(
  io: WatchIO,
  live: LiveView,
  measuring: () => boolean,
): { finish: AbortSignal; abort: AbortSignal; dispose: () => void } {
  const finish = new AbortController();
  const abort = new AbortController();
  let count = 0;
  const interrupt = (cause: string) => {
    count += 1;
    if (count === 1) {
      // While starting, the one line comes when what was started is removed (watchCommand).
      if (measuring()) live.log(`${cause}: finishing the watch and writing the reports (Ctrl-C again to abort)`);
      finish.abort(new Error(`finished: ${cause}`));
    } else if (count === 2) {
      io.err(`\npgdrill: ${cause} again: aborting the watch, cleaning up (Ctrl-C again to exit at once)\n`);
      abort.abort(new Error(`interrupted: ${cause}`));
    } else {
      io.err("pgdrill: exiting without cleaning up; a later run on this endpoint drops a writes schema left behind\n");
      process.exit(130);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => interrupt(signal);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const stopWatching = onLauncherGone((pid) => {
    interrupt(`the pgdrill launcher (pid ${pid}) is gone`);
    setTimeout(() => process.exit(EXIT.errored), ORPHAN_EXIT_MS).unref();
  });
  return {
    finish: finish.signal,
    abort: abort.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      stopWatching();
    },
  };
}
