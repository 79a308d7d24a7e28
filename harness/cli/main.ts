/**
 * The pgdrill command line. `main` returns the exit code (0 pass, 1 deviated, 2 errored or bad
 * input) and never calls process.exit itself, except on a second Ctrl-C, which forces an exit.
 */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { analyzeRunDir } from "../analyze.ts";
import { EXIT, InputError, errorMessage } from "../errors.ts";
import { formatSummary } from "../report/summary.ts";
import type { RunResult } from "../result.ts";
import { listScenarios, loadScenario } from "../scenario/load.ts";
import { dockerClient, removeLabelled } from "../target/docker.ts";
import { VERSION } from "../version.ts";
import { parseGateOverride } from "../gate/gate.ts";
import { LiveView } from "./live.ts";

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Colours only for a terminal, and never with NO_COLOR. */
  color: boolean;
  /** Where the live view draws; in-place updates only when it is a terminal. */
  live: { write(text: string): unknown; isTTY?: boolean };
}

const defaultIO = (): CliIO => ({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  color: Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env),
  live: process.stderr,
});

const collect = (value: string, previous: string[]) => [...previous, value];

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  let exitCode: number = EXIT.pass;
  const program = new Command("pgdrill")
    .description("Chaos and failover drills for PostgreSQL high availability.")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command("run")
    .description("run a drill: start the target, probe, inject the scheduled faults, heal, tear down, analyse")
    .argument("<scenario>", "a shipped scenario's name, or a path to a .ts, .yaml or .json scenario")
    .option("--out <dir>", "run directory (default: reports/<scenario>/<run-id>/)")
    .option("--image <image>", "PostgreSQL image for container targets (default: PGDRILL_IMAGE, postgres:16 or pgdrill/postgres:15-local)")
    .addOption(new Option("--gate <metric-op-value>", "add or replace a gate, e.g. 'failover.latencyMs<20000' (repeatable)").argParser(collect).default([]))
    .option("--quiet", "print only the summary")
    .addHelpText(
      "after",
      "\nExamples:\n  pgdrill run pair-kill-primary\n  pgdrill run scenarios/pair-pause-primary.yaml --out /tmp/drill\n  pgdrill run my-drill.ts --gate 'failover.latencyMs<20000' --gate 'writes.lostAcknowledged==0'\n\nExit codes: 0 pass, 1 deviated (a gate failed), 2 errored (bad input, or the harness or target broke).",
    )
    .action(async (scenarioArg: string, options: { out?: string; image?: string; gate: string[]; quiet?: boolean }) => {
      exitCode = await runCommand(scenarioArg, options, io);
    });

  program
    .command("list")
    .description("list the shipped scenarios")
    .action(async () => {
      const rows = await listScenarios();
      const width = Math.max(...rows.map((row) => row.name.length));
      for (const row of rows) io.out(`${row.name.padEnd(width)}  ${row.target}  ${row.duration.padStart(4)}  ${row.description.split(/(?<=\.)\s/)[0]}\n`);
    });

  program
    .command("report")
    .description("re-analyse a saved run from its history.jsonl (no containers): rewrites result.json and report.md")
    .argument("<run-dir>", "a run directory written by `pgdrill run`")
    .addOption(new Option("--gate <metric-op-value>", "add or replace a gate (repeatable)").argParser(collect).default([]))
    .addHelpText("after", "\nExample:\n  pgdrill report reports/pair-kill-primary/20261125-101500-ab12 --gate 'failover.latencyMs<5000'")
    .action(async (runDir: string, options: { gate: string[] }) => {
      options.gate.forEach(parseGateOverride);
      const result = await analyzeRunDir(runDir, { gateOverrides: options.gate });
      io.out(`${formatSummary(result, { color: io.color })}\n`);
      await appendJobSummary(runDir);
      exitCode = verdictExit(result);
    });

  program
    .command("reap")
    .description("remove containers and networks that killed pgdrill runs left behind (found by pgdrill's labels only)")
    .option("--all", "remove every pgdrill-labelled container and network, also those of runs still going")
    .action(async (options: { all?: boolean }) => {
      const removed = await removeLabelled(await dockerClient(), { onlyOrphans: !options.all });
      io.out(removed.length > 0 ? `removed ${removed.join(", ")}\n` : "nothing to remove\n");
    });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.pass : EXIT.errored;
    if (error instanceof InputError) {
      io.err(`pgdrill: ${error.message}\n`);
      return EXIT.errored;
    }
    io.err(`pgdrill: ${errorMessage(error)}\n`);
    return EXIT.errored;
  }
  return exitCode;
}

async function runCommand(
  scenarioArg: string,
  options: { out?: string; image?: string; gate: string[]; quiet?: boolean },
  io: CliIO,
): Promise<number> {
  // Everything about the input is checked before anything starts.
  options.gate.forEach(parseGateOverride);
  const { scenario, source } = await loadScenario(scenarioArg);
  const { runDrill } = await import("../run/drill.ts");

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err(`\npgdrill: ${signal}: stopping the drill, healing faults and removing containers (press Ctrl-C again to exit at once)\n`);
      controller.abort();
    } else {
      io.err("pgdrill: exiting without cleaning up; `pgdrill reap` removes what was left\n");
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const live = new LiveView({ stream: io.live, color: io.color && !("NO_COLOR" in process.env), quiet: Boolean(options.quiet) });
  try {
    const { runDir, result } = await runDrill(scenario, {
      source,
      ...(options.out ? { outDir: options.out } : {}),
      ...(options.image ? { image: options.image } : {}),
      gateOverrides: options.gate,
      signal: controller.signal,
      log: live.log,
      onEvent: live.onEvent,
    });
    live.stop();
    io.out(`${formatSummary(result, { color: io.color })}\n`);
    io.out(`run directory: ${runDir}\n`);
    await appendJobSummary(runDir);
    return verdictExit(result);
  } finally {
    live.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** In GitHub Actions, the Markdown report becomes the job summary. */
async function appendJobSummary(runDir: string): Promise<void> {
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (!summary) return;
  await appendFile(summary, `${await readFile(join(runDir, "report.md"), "utf8")}\n`);
}

function verdictExit(result: RunResult): number {
  return EXIT[result.verdict];
}
