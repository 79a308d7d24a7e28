/**
 * `pgdrill watch [URL]`: the seed guide's SELECT 1 loop as one command. It is a drill on an
 * `endpoint` target with no faults, built here as a scenario, so the run directory, the History,
 * the reports and the live view are the ones `pgdrill run` writes. It talks only to the URLs given
 * (the argument or DATABASE_URL, and --read-replica): DATABASE_READ_REPLICA_URL is not read.
 *
 * Ctrl-C (or SIGTERM, or `--for` running out) finishes it: the probes stop, the run ends completed
 * and every report is written. A second Ctrl-C aborts (still cleaning up: the writes' schema is
 * dropped); a third exits at once. Without --for it runs at most MAX_WATCH_MS, and never more than
 * MAX_OPERATIONS operations per probe, so the History stays bounded in time and size.
 */
import { formatDuration, parseDuration } from "../duration.ts";
import { EXIT, InputError } from "../errors.ts";
import { formatSummary } from "../report/summary.ts";
import type { ProbeSpec, Scenario } from "../scenario/schema.ts";
import { validateScenario } from "../scenario/validate.ts";
import type { Topology } from "../target/types.ts";
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
export function watchScenario(url: string | undefined, options: Omit<WatchOptions, "out" | "quiet" | "gate">): { scenario: Scenario; capped: string | null } {
  const primary = url ?? process.env.DATABASE_URL;
  if (!primary) throw new InputError("URL", "no URL: none given and DATABASE_URL is not set", "Give one (pgdrill watch postgresql://user:password@host:5432/db) or export DATABASE_URL.");
  const everyMs = durationFlag("--every", options.every);
  if (everyMs < 10) throw new InputError("--every", `must be at least 10ms, got ${JSON.stringify(options.every)}`, 'Give e.g. "100ms": the seed guide\'s loop runs about every 100 ms.');
  const limit = Math.min(MAX_WATCH_MS, everyMs * MAX_OPERATIONS);
  const limitText = `${formatDuration(limit)}${limit < MAX_WATCH_MS ? ` (${MAX_OPERATIONS.toLocaleString("en")} operations at --every ${options.every})` : ""}`;
  let durationMs = limit;
  let capped: string | null = `until Ctrl-C, at most ${limitText}`;
  if (options.for !== undefined) {
    durationMs = durationFlag("--for", options.for);
    if (durationMs > limit) throw new InputError("--for", `${JSON.stringify(options.for)} is longer than watch's limit of ${limitText}`, "Watch in several runs (each writes its own run directory), or raise --every.");
    capped = null;
  }
  const timeouts = { timeout: "2s", connectTimeout: "2s" };
  const probes: ProbeSpec[] = [
    { kind: "select1", name: "select1", every: options.every, ...timeouts, connection: "fresh", endpoint: "rw" },
    ...(options.readReplica ? [{ kind: "select1", name: "replica", every: options.every, ...timeouts, connection: "fresh", endpoint: "ro" } as ProbeSpec] : []),
    ...(options.writes ? [{ kind: "writes", every: options.every, ...timeouts, connection: "held", endpoint: "rw" } as ProbeSpec] : []),
    // Who answers behind the name (server address, recovery, timeline), on the same URLs.
    { kind: "role", every: "1s", ...timeouts } as ProbeSpec,
  ];
  const scenario = validateScenario(
    {
      name: "watch",
      description: `pgdrill watch: SELECT 1 every ${options.every}${options.readReplica ? " on the primary and the read replica" : ""}${options.writes ? ", tracked writes in a schema of its own" : ""}, and who answers every second; ${capped ?? `for ${options.for}`}. No fault: what happened is what someone else did (marks say what).`,
      target: { kind: "endpoint", url: primary, readReplicaUrl: options.readReplica ?? false, allowWrites: Boolean(options.writes) },
      probes,
      // The watch observes whatever state it finds: the baseline is recorded, never refused.
      steadyState: { window: `${Math.min(1000, durationMs / 2)}ms`, minAvailability: 0 },
      duration: `${durationMs}ms`,
    },
    "pgdrill watch",
  );
  return { scenario, capped };
}

/** The endpoint target of watch's scenario (its readReplicaUrl is false without --read-replica, so DATABASE_READ_REPLICA_URL is not read). */
export async function watchTopology(scenario: Scenario): Promise<Topology> {
  const { buildTopology } = await import("../target/index.ts");
  return buildTopology(scenario.target, scenario.probes);
}

export async function watchCommand(url: string | undefined, options: WatchOptions, io: WatchIO): Promise<{ exitCode: number; runDir: string }> {
  const { scenario, capped } = watchScenario(url, options);
  const topology = await watchTopology(scenario);
  const { runDrill } = await import("../run/drill.ts");
  const live = new LiveView({ stream: io.live, color: io.color && !("NO_COLOR" in process.env), quiet: Boolean(options.quiet) });
  const keyboard = interactiveStdin() ? new Keyboard({ view: live }) : null;
  const stops = stopsOnInterrupt(io, live);
  live.log(`watching ${capped ?? `for ${options.for}`}: Ctrl-C ends it (completed, every report written)${keyboard ? "; m marks a moment" : "; `pgdrill mark <run-dir> \"note\"` marks a moment"}`);
  try {
    const outcome = await runDrill(scenario, {
      source: "pgdrill watch",
      ...(options.out ? { outDir: options.out } : {}),
      topology,
      gateOverrides: options.gate,
      signal: stops.abort,
      finish: stops.finish,
      log: live.log,
      onEvent: live.onEvent,
      operator: { confirm: "ask", ...(keyboard ? { input: keyboard } : {}) },
    });
    live.stop();
    io.out(`${formatSummary(outcome.result, { color: io.color })}\n`);
    io.out(`run directory: ${outcome.runDir}\n`);
    return { exitCode: EXIT[outcome.result.verdict], runDir: outcome.runDir };
  } finally {
    live.stop();
    stops.dispose();
  }
}

/** First SIGINT/SIGTERM: finish (completed); second: abort (still cleaning up); third: exit at once. */
function stopsOnInterrupt(io: WatchIO, live: LiveView): { finish: AbortSignal; abort: AbortSignal; dispose: () => void } {
  const finish = new AbortController();
  const abort = new AbortController();
  let count = 0;
  const interrupt = (cause: string) => {
    count += 1;
    if (count === 1) {
      live.log(`${cause}: finishing the watch and writing the reports (Ctrl-C again to abort)`);
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
