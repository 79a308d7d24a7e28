/**
 * The pgdrill command line. `main` returns the exit code (0 pass, 1 deviated, 2 errored or bad
 * input) and never calls process.exit itself, except on a second Ctrl-C, which forces an exit.
 */
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { analyzeRunDir } from "../analyze.ts";
import { EXIT, InputError, errorMessage } from "../errors.ts";
import { formatSummary } from "../report/summary.ts";
import type { RunResult, Verdict } from "../result.ts";
import { renderJunit } from "../report/junit.ts";
import { formatTrialsSummary, renderTrialsMarkdown } from "../report/trials.ts";
import { renderTrialsHtml } from "../report/trials-html.ts";
import { summarizeTrials, TRIAL_STATISTICS, type TrialStatistic } from "../trials.ts";
import { listScenarios, loadScenario } from "../scenario/load.ts";
import type { SharedResources } from "../targets/index.ts";
import { runSeries } from "./series.ts";
import { VERSION } from "../version.ts";
import { parseGate, parseGateOverride, withOverrides } from "../gate/gate.ts";
import { GATE_METRICS } from "../gate/metrics.ts";
import { RENDERERS } from "../report/index.ts";
import { STOP_FILE, stopRun } from "../run/abort.ts";
import { LiveView } from "./live.ts";
import { Keyboard, interactiveStdin } from "./keys.ts";
import { CONFIRM_MODES, type ConfirmMode } from "../operator/desk.ts";
import { OPERATOR_FILE } from "../operator/requests.ts";
import { awaitOperatorReply, REPLY_WAIT_MS, sendOperatorRequest } from "./operator-client.ts";
import { checkManualSteps } from "../schedule/manual.ts";
import { onLauncherGone, watchLauncher } from "./parent-watch.ts";

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

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a number of seconds; give e.g. 60, or 0 not to wait.`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new InvalidArgumentError(`"${value}" is not a number of trials; give a whole number from 1 to 1000.`);
  }
  return n;
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  watchLauncher();
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
    .argument("<scenario...>", "a shipped scenario's name, or a path to a .ts, .yaml or .json scenario; several run one after another")
    .option("--out <dir>", "run directory (default: reports/<scenario>/<run-id>/); with several scenarios, <dir>/<scenario>")
    .option("--share-cluster", "drills in this series (several scenarios, or --trials) share one kind cluster and operator; each still gets its own namespace and Cluster")
    .option("--image <image>", "PostgreSQL image for container targets (default: PGDRILL_IMAGE, postgres:16 or pgdrill/postgres:15-local)")
    .addOption(new Option("--gate <metric-op-value>", "add or replace a gate, e.g. 'failover.latencyMs<20000' (repeatable)").argParser(collect).default([]))
    .option("--quiet", "print only the summary")
    .addOption(new Option("--trials <n>", "repeat the drill n times on fresh targets and gate on the distribution").argParser(positiveInt).default(1))
    .addOption(
      new Option("--trial-statistic <statistic>", "with --trials: judge gates on the worst trial, the p95 (p5 for lower bounds) or the median")
        .choices(TRIAL_STATISTICS)
        .default("worst"),
    )
    .addOption(new Option("--confirm-manual <mode>", "manual steps: ask (Enter in this terminal, or `pgdrill confirm`; needs a terminal), command (only `pgdrill confirm <run>`), auto (confirmed at once, for CI)").choices(CONFIRM_MODES))
    .addHelpText(
      "after",
      `\nExamples:\n  pgdrill run pair-kill-primary\n  pgdrill run scenarios/pair-pause-primary.yaml --out /tmp/drill\n  pgdrill run my-drill.ts --gate 'failover.latencyMs<20000' --gate 'writes.lostAcknowledged==0'\n  pgdrill run pair-kill-primary --trials 10 --trial-statistic p95\n  pgdrill run pair-kill-primary-via-pgbouncer   # pooled and direct clients side by side\n  pgdrill run cnpg-kill-primary   # kind + CloudNativePG: needs Docker, kind and the internet (or fixtures/kind/build.sh's images)\n  pgdrill run cnpg-kill-primary cnpg-switchover --share-cluster   # one kind cluster and operator for both drills\n  DATABASE_URL=postgresql://app:…@db.example.com/app RDS_INSTANCE=db1 pgdrill run endpoint-rds-multi-az\n\ncnpg image defaults (a scenario's own fields win): PGDRILL_KIND_NODE_IMAGE (target.kindImage), PGDRILL_CNPG_MANIFEST (target.operator.manifest), PGDRILL_CNPG_POSTGRES_IMAGE (target.imageName); \`bash fixtures/kind/build.sh --print-env\` sets them to images built with no registry.\n\n${gateMetricsHelp()}\n\nExit codes: 0 pass, 1 deviated (a gate failed), 2 errored (bad input, or the harness or target broke).`,
    )
    .action(async (scenarioArgs: string[], options: RunOptions) => {
      exitCode = await runSeries(scenarioArgs, { shareCluster: Boolean(options.shareCluster), ...(options.out ? { out: options.out } : {}) }, io, (arg, out, shared) =>
        runCommand(arg, { ...options, ...(out ? { out } : {}) }, io, shared),
      );
    });

  program
    .command("watch")
    .description("the SELECT 1 loop as one command: probe an endpoint until Ctrl-C or --for, with the live view and marks (m), then write a run directory and reports as `run` does")
    .argument("[url]", "the primary's connection URL (default: DATABASE_URL); nothing else is contacted")
    .option("--read-replica <url>", "also SELECT 1 on a read replica (DATABASE_READ_REPLICA_URL is not read)")
    .option("--writes", "also tracked writes, in a schema of the watch's own (dropped after): counts lost acknowledged writes")
    .option("--every <duration>", "between operations", "100ms")
    .option("--for <duration>", "stop after this long (default: until Ctrl-C, at most 24 h)")
    .option("--out <dir>", "run directory (default: reports/watch/<run-id>/)")
    .option("--quiet", "print only the summary")
    .addOption(new Option("--gate <metric-op-value>", "judge the watch, e.g. 'availability.ratio>=0.99' (repeatable; default: no gate)").argParser(collect).default([]))
    .addHelpText(
      "after",
      `\nWhile it runs: m marks a moment (type a note, Enter); elsewhere: pgdrill mark <run-dir|run-id> "note".\nCtrl-C (or SIGTERM) finishes it: completed, every report written; a second Ctrl-C aborts.\nCtrl-C while it is still starting (nothing measured yet): it removes what it started and its run directory, says so in one line, and exits 130 (143 for SIGTERM).\n\nExamples:\n  pgdrill watch                                   # DATABASE_URL, SELECT 1 every 100 ms\n  pgdrill watch postgresql://app:…@db:5432/app --read-replica postgresql://app:…@db-ro:5432/app --writes\n  pgdrill watch --every 50ms --for 10m --gate 'availability.ratio>=0.99'`,
    )
    .action(async (url: string | undefined, options: import("./watch.ts").WatchOptions) => {
      const { watchCommand } = await import("./watch.ts");
      const outcome = await watchCommand(url, options, io);
      if (outcome.runDir) await appendJobSummary(outcome.runDir, "report.md");
      exitCode = outcome.exitCode;
    });

  program
    .command("mark")
    .description("mark a moment in a running drill or watch, with a short note: it goes into the History and onto the report's timeline")
    .argument("<run>", "the run directory `pgdrill run`/`watch` printed, or its run id")
    .argument("<note>", 'what happened, e.g. "deleted the primary pod"')
    .addHelpText("after", `\nIt appends a line to ${OPERATOR_FILE} in the run directory, which a running drill reads every 100 ms.\n\nExample:\n  pgdrill mark reports/watch/20261201-124330-ea4a 'deleted the primary pod'`)
    .action(async (run: string, note: string) => {
      const { runDir } = sendOperatorRequest(run, "mark", note);
      io.out(`marked: ${runDir}\n`);
    });

  program
    .command("confirm")
    .description("confirm the manual step a running drill is waiting for (from another terminal, or a script), or say with --not-done that it could not be done")
    .argument("<run>", "the run directory `pgdrill run` printed, or its run id")
    .argument("[note]", "recorded as a mark beside the confirmation")
    .option("--step <id>", "the step meant, as the drill shows it (m2) or its number among the schedule's manual steps (2): refused unless that step is the one waiting")
    .option("--not-done <reason>", "the step could not be done: recorded as not done (no fault), with this reason")
    .addOption(new Option("--wait <seconds>", "wait this long for the drill's answer (0: only ask)").argParser(seconds).default(REPLY_WAIT_MS / 1000))
    .addHelpText(
      "after",
      `\nIt appends a line to ${OPERATOR_FILE} in the run directory, which a running drill reads every 100 ms, and prints the drill's answer: the step it confirmed, or why it refused (exit 2).\nWithout --step it confirms whichever step is waiting, and with none waiting the confirmation is recorded as a mark.\n\nExamples:\n  pgdrill confirm reports/game-day/20261201-124330-ea4a --step m2 'pod deleted'\n  pgdrill confirm 20261201-124330-ea4a --step m2 --not-done 'no access to the console'`,
    )
    .action(async (run: string, note: string | undefined, options: { step?: string; notDone?: string; wait: number }) => {
      if (options.notDone !== undefined && note !== undefined) throw new InputError("note", "goes with a confirmation; --not-done takes the reason itself", "Drop the note, or put it in the reason.");
      const type = options.notDone !== undefined ? "not-done" : "confirm";
      const { runDir, id } = sendOperatorRequest(run, type, options.notDone ?? note ?? "", options.step === undefined ? {} : { step: options.step });
      if (options.wait === 0) {
        io.out(`asked to ${type === "confirm" ? "confirm" : "record as not done"}: ${runDir}\n`);
        return;
      }
      const reply = await awaitOperatorReply(runDir, id, options.wait * 1000);
      if (reply && "ok" in reply && reply.ok) {
        io.out(`${reply.message}: ${runDir}\n`);
      } else if (reply && "ok" in reply) {
        io.err(`pgdrill: ${reply.message}\n`);
        exitCode = EXIT.errored;
      } else {
        io.err(`pgdrill: ${reply ? `the drill in ${runDir} ended (${reply.ended.status}) before it read the request` : `the drill in ${runDir} has not answered within ${options.wait} s (it still checks the step itself when it reads the request); see its History`}\n`);
        exitCode = EXIT.errored;
      }
    });

  program
    .command("list")
    .description("list the shipped scenarios")
    .action(async () => {
      const rows = await listScenarios();
      const width = Math.max(...rows.map((row) => row.name.length));
      const targetWidth = Math.max(...rows.map((row) => row.target.length));
      for (const row of rows) io.out(`${row.name.padEnd(width)}  ${row.target.padEnd(targetWidth)}  ${row.duration.padStart(4)}  ${row.description.split(/(?<=\.)\s/)[0]}\n`);
    });

  program
    .command("schema")
    .description("print the JSON Schema of scenarios (for editors and validators; generated from what `pgdrill run` accepts)")
    .addHelpText(
      "after",
      "\nThe installed package also ships it as node_modules/pgdrill/dist/schema/scenario.schema.json; a YAML scenario names it in its first line:\n  # yaml-language-server: $schema=../node_modules/pgdrill/dist/schema/scenario.schema.json",
    )
    .action(async () => {
      const { scenarioJsonSchemaText } = await import("../scenario/json-schema.ts");
      io.out(scenarioJsonSchemaText());
    });

  program
    .command("report")
    .description(`re-analyse a saved run from its history.jsonl (no containers): rewrites every report in it (${Object.values(RENDERERS).map((renderer) => renderer.file).join(", ")})`)
    .argument("<run-dir>", "a run directory written by `pgdrill run`")
    .addOption(new Option("--gate <metric-op-value>", "add or replace a gate (repeatable)").argParser(collect).default([]))
    .addHelpText("after", "\nExample:\n  pgdrill report reports/pair-kill-primary/20261125-101500-ab12 --gate 'failover.latencyMs<5000'")
    .action(async (runDir: string, options: { gate: string[] }) => {
      options.gate.forEach(parseGateOverride);
      const interrupt = onInterrupt(io, "stopping the analysis (the history is not changed)");
      try {
        io.err(`analysing ${join(runDir, "history.jsonl")}\n`);
        const result = await analyzeRunDir(runDir, { gateOverrides: options.gate, signal: interrupt.signal });
        io.out(`${formatSummary(result, { color: io.color })}\n`);
        await appendJobSummary(runDir, "report.md");
        exitCode = verdictExit(result.verdict);
      } finally {
        interrupt.dispose();
      }
    });

  program
    .command("trend")
    .description("charts over time and a regression gate across many runs (e.g. a nightly workflow's downloaded artifacts): reads each run's result.json, writes trend.html and trend.md")
    .argument("<dirs...>", "run directories, or directories holding them (searched recursively)")
    .option("--out <dir>", "where trend.html and trend.md go", ".")
    .addOption(new Option("--regression <metric:±N%>", "fail (exit 1) when the latest run of a scenario is worse than the median of the previous runs by more than this: + worse if higher, - worse if lower (repeatable)").argParser(collect).default([]))
    .option("--baseline <n>", "how many previous runs the median is taken over", "5")
    .addHelpText(
      "after",
      `\nExamples:\n  pgdrill trend reports/ --out trend/\n  pgdrill trend artifacts/ --regression 'failover.latencyMs:+25%' --regression 'availability.ratio:-1%' --regression 'writes.lostAcknowledged:+0'\n\nMetrics are the gate's (run --help). Errored runs are charted but never part of a baseline; a latest run that errored is not judged.\nExit codes: 0 no regression, 1 a regression gate breached, 2 bad input or no readable run.`,
    )
    .action(async (dirs: string[], options: { out: string; regression: string[]; baseline: string }) => {
      const { trendCommand } = await import("../trend/command.ts");
      const outcome = await trendCommand(dirs, options, io);
      if (outcome.markdownFile) await appendJobSummary(resolve(outcome.markdownFile, ".."), "trend.md");
      exitCode = outcome.exitCode;
    });

  program
    .command("stop")
    .description("stop a running drill from another terminal: it heals every fault at once, stops its schedule and ends aborted (verdict errored), still writing every report")
    .argument("<run>", "the run directory `pgdrill run` printed, or its run id")
    .option("--reason <text>", "why, recorded in the History and the reports")
    .addOption(new Option("--wait <seconds>", "wait this long for the drill to end (0: only ask)").argParser(seconds).default(180))
    .addHelpText("after", `\nIt writes ${STOP_FILE} into the run directory, which a running drill polls for every 200 ms.\n\nExample:\n  pgdrill stop reports/pair-kill-primary/20261201-124330-ea4a --reason 'paging: real traffic affected'`)
    .action(async (run: string, options: { reason?: string; wait: number }) => {
      const outcome = await stopRun(run, { waitMs: options.wait * 1000, ...(options.reason ? { reason: options.reason } : {}) });
      if (outcome.alreadyEnded) {
        io.err(`pgdrill: ${outcome.runDir} already ended (${outcome.runEnd?.status}); nothing to stop\n`);
        exitCode = EXIT.errored;
      } else if (options.wait === 0) {
        io.out(`asked the drill in ${outcome.runDir} to stop\n`);
      } else if (outcome.runEnd) {
        io.out(`stopped: the drill in ${outcome.runDir} ended ${outcome.runEnd.status}${outcome.runEnd.error ? `: ${outcome.runEnd.error}` : ""}\n`);
      } else {
        io.err(`pgdrill: asked the drill in ${outcome.runDir} to stop, but it has not ended within ${options.wait} s (is it still running? \`pgdrill reap\` removes a dead run's containers)\n`);
        exitCode = EXIT.errored;
      }
    });

  program
    .command("reap")
    .description("remove what killed pgdrill runs left behind: containers and networks (by pgdrill's labels only) and kind clusters named pgdrill-…")
    .option("--all", "remove every pgdrill container, network and kind cluster, also those of runs still going")
    .action(async (options: { all?: boolean }) => {
      // Loaded here, not at the top: testcontainers takes ~0.5 s to import, and `report` never needs it.
      const { reapLeftovers } = await import("../targets/index.ts");
      const removed = await reapLeftovers({ all: Boolean(options.all) });
      io.out(removed.length > 0 ? `removed ${removed.join(", ")}\n` : "nothing to remove\n");
    });

  // Hidden: what the cnpg target's probe-runner pod runs (harness/runner/runner.ts); not for people.
  program
    .command("probe-runner", { hidden: true })
    .description("run probes inside a cluster for a drill, History to stdout as JSON lines")
    .option("--config <file|json>", "the runner's config; default $PGDRILL_RUNNER_CONFIG")
    .action(async (options: { config?: string }) => {
      const { runProbeRunner } = await import("../runner/runner.ts");
      const given = options.config ?? process.env.PGDRILL_RUNNER_CONFIG;
      if (given === undefined) throw new InputError("--config", "no config given", "Pass --config <file|json> or set PGDRILL_RUNNER_CONFIG.");
      exitCode = await runProbeRunner(given.trimStart().startsWith("{") ? given : await readFile(given, "utf8"));
    });

  try {
    await program.parseAsync(unknownCommandWithoutHelp(program, argv), { from: "user" });
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

interface RunOptions {
  out?: string;
  image?: string;
  gate: string[];
  quiet?: boolean;
  trials: number;
  trialStatistic: TrialStatistic;
  confirmManual?: ConfirmMode;
  shareCluster?: boolean;
}

async function runCommand(scenarioArg: string, options: RunOptions, io: CliIO, shared?: SharedResources): Promise<number> {
  // Everything about the input is checked before anything starts.
  const overrides = options.gate.map(parseGateOverride);
  const { scenario, source } = await loadScenario(scenarioArg);
  const { runDrill } = await import("../run/drill.ts");
  // No engine is an environment problem, like bad input: one line, before any run directory exists.
  await (await import("../targets/index.ts")).checkEnvironment(scenario.target.kind);
  const confirm: ConfirmMode = options.confirmManual ?? "ask";
  checkManualSteps(scenario.schedule, confirm, interactiveStdin(), "--confirm-manual");

  const interrupt = onInterrupt(io, "stopping the drill, healing faults and removing containers");

  const drillOnce = async (outDir: string | undefined, label: string) => {
    const live = new LiveView({ stream: io.live, color: io.color && !("NO_COLOR" in process.env), quiet: Boolean(options.quiet) });
    const keyboard = interactiveStdin() ? new Keyboard({ view: live }) : null;
    try {
      const outcome = await runDrill(scenario, {
        source,
        ...(outDir ? { outDir } : {}),
        ...(options.image ? { image: options.image } : {}),
        gateOverrides: options.gate,
        signal: interrupt.signal,
        log: (line) => live.log(`${label}${line}`),
        onEvent: live.onEvent,
        operator: { confirm, ...(keyboard ? { input: keyboard } : {}) },
        ...(shared ? { shared } : {}),
      });
      live.stop();
      io.out(`${formatSummary(outcome.result, { color: io.color })}\n`);
      io.out(`run directory: ${outcome.runDir}\n`);
      return outcome;
    } finally {
      live.stop();
    }
  };

  try {
    if (options.trials <= 1) {
      const { runDir, result } = await drillOnce(options.out, "");
      await appendJobSummary(runDir, "report.md");
      return verdictExit(result.verdict);
    }
    // Trials: each on a fresh target, each with its own run directory, then the distribution.
    const base = resolve(options.out ?? join("reports", scenario.name, `${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-trials`));
    const results: RunResult[] = [];
    for (let trial = 1; trial <= options.trials && !interrupt.signal.aborted; trial += 1) {
      const { result } = await drillOnce(join(base, `trial-${trial}`), `trial ${trial}/${options.trials}: `);
      results.push(result);
    }
    const gates = withOverrides(parseGate(scenario.gate), overrides);
    const trials = summarizeTrials(results, gates, options.trialStatistic);
    if (interrupt.signal.aborted && trials.verdict !== "errored") {
      trials.verdict = "errored";
      trials.reason = `interrupted after ${results.length} of ${options.trials} trials`;
    }
    await writeFile(join(base, "trials.json"), `${JSON.stringify(trials, null, 2)}\n`);
    await writeFile(join(base, "trials.md"), renderTrialsMarkdown(trials));
    await writeFile(join(base, "trials.html"), renderTrialsHtml(trials));
    await writeFile(join(base, "junit.xml"), renderJunit(results));
    io.out(`${formatTrialsSummary(trials, { color: io.color })}\n`);
    io.out(`trials directory: ${base}\n`);
    await appendJobSummary(base, "trials.md");
    return verdictExit(trials.verdict);
  } finally {
    interrupt.dispose();
  }
}

/**
 * The first SIGINT or SIGTERM asks the command to stop cleanly (its signal aborts); a second one
 * exits at once, leaving whatever is left to `pgdrill reap`. The launcher's death (cli/parent-watch.ts)
 * is a first interrupt too; as nobody is left to press Ctrl-C again, the process then exits by
 * itself if the clean stop has not ended within ORPHAN_EXIT_MS.
 */
function onInterrupt(io: CliIO, what: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const interrupt = (cause: string, after = "press Ctrl-C again to exit at once") => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err(`\npgdrill: ${cause}: ${what} (${after})\n`);
      controller.abort(new Error(`interrupted: ${cause}`));
    } else {
      io.err("pgdrill: exiting without cleaning up; `pgdrill reap` removes what was left\n");
      process.exit(130);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => interrupt(signal);
  const stopWatching = onLauncherGone((pid) => {
    interrupt(`the pgdrill launcher (pid ${pid}) is gone`, `exiting within ${ORPHAN_EXIT_MS / 1000} s in any case`);
    setTimeout(() => {
      io.err(`pgdrill: still stopping ${ORPHAN_EXIT_MS / 1000} s after the launcher went; exiting, \`pgdrill reap\` removes what was left\n`);
      process.exit(EXIT.errored);
    }, ORPHAN_EXIT_MS).unref();
  });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      stopWatching();
    },
  };
}

/** How long a drill whose launcher died may take to heal, tear down and write its result. */
const ORPHAN_EXIT_MS = 120_000;

/**
 * Commander shows the main help, exit 0, for `pgdrill frobnicate --help` (it answers a help flag before
 * it looks the command up), and for `pgdrill help frobnicate`. Without the flag it says what is wrong:
 * unknown command 'frobnicate', with a suggestion when a command is close. pgdrill's own options take
 * no value, so the first word that is not an option names the command.
 */
function unknownCommandWithoutHelp(program: Command, argv: string[]): string[] {
  const words = argv.filter((arg) => !arg.startsWith("-"));
  const named = words[0] === "help" ? words[1] : words[0];
  if (named === undefined || named === "help" || program.commands.some((command) => command.name() === named || command.aliases().includes(named))) {
    return argv;
  }
  return argv.filter((arg, index) => arg !== "--help" && arg !== "-h" && !(arg === "help" && index === argv.indexOf("help")));
}

/** In GitHub Actions, the Markdown report becomes the job summary. */
async function appendJobSummary(dir: string, file: string): Promise<void> {
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (!summary) return;
  await appendFile(summary, `${await readFile(join(dir, file), "utf8")}\n`);
}

function verdictExit(verdict: Verdict): number {
  return EXIT[verdict];
}

/** `run --help`'s list of what a gate can judge, with each metric's definition, from the metrics' own table. */
function gateMetricsHelp(): string {
  const width = Math.max(...Object.keys(GATE_METRICS).map((metric) => metric.length));
  return ["Gate metrics (see the README's metrics section):", ...Object.entries(GATE_METRICS).map(([metric, meaning]) => `  ${metric.padEnd(width)}  ${meaning}`)].join("\n");
}
