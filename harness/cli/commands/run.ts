/** `pgdrill run <scenario...>`: one drill, several one after another, or --trials of one. */
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { GATE_METRICS } from "../../gate/metrics.ts";
import { formatSummary } from "../../report/summary.ts";
import { renderJunit } from "../../report/junit.ts";
import { reportModel } from "../../report/model.ts";
import { formatTrialsSummary, renderTrialsMarkdown } from "../../report/trials.ts";
import { renderTrialsHtml } from "../../report/trials-html.ts";
import type { RunResult } from "../../result.ts";
import { secretMasker } from "../../secrets.ts";
import { CONFIRM_MODES, type ConfirmMode } from "../../operator/desk.ts";
import type { SharedResources } from "../../targets/index.ts";
import { summarizeTrials, TRIAL_STATISTICS, type TrialStatistic } from "../../trials.ts";
import { onInterrupt } from "../interrupt.ts";
import { appendJobSummary, collect, lines, positiveInt, verdictExit, type CliIO, type CommandModule } from "../io.ts";
import { Keyboard, interactiveStdin } from "../keys.ts";
import { LiveView } from "../live.ts";
import { preflight, type PreflightOptions } from "../preflight.ts";
import { runSeries } from "../series.ts";

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

/** --confirm-manual's help, shared with `validate`, which checks the same way. */
export const CONFIRM_MANUAL_HELP =
  "manual steps: ask (Enter in this terminal, or `pgdrill confirm`; needs a terminal), " +
  "command (only `pgdrill confirm <run>`), auto (confirmed at once, for CI)";

const EXAMPLES = lines(
  "",
  "Examples:",
  "  pgdrill run pair-kill-primary",
  "  pgdrill run scenarios/pair-pause-primary.yaml --out /tmp/drill",
  "  pgdrill run my-drill.ts --gate 'failover.latencyMs<20000' --gate 'writes.lostAcknowledged==0'",
  "  pgdrill run pair-kill-primary --trials 10 --trial-statistic p95",
  "  pgdrill run pair-kill-primary-via-pgbouncer   # pooled and direct clients side by side",
  "  pgdrill run cnpg-kill-primary   # kind + CloudNativePG: needs Docker, kind and the internet (or fixtures/kind/build.sh's images)",
  "  pgdrill run cnpg-kill-primary cnpg-switchover --share-cluster   # one kind cluster and operator for both drills",
  "  DATABASE_URL=postgresql://app:…@db.example.com/app RDS_INSTANCE=db1 pgdrill run endpoint-rds-multi-az",
  "",
  "cnpg image defaults (a scenario's own fields win): PGDRILL_KIND_NODE_IMAGE (target.kindImage), " +
    "PGDRILL_CNPG_MANIFEST (target.operator.manifest), PGDRILL_CNPG_POSTGRES_IMAGE (target.imageName); " +
    "`bash fixtures/kind/build.sh --print-env` sets them to images built with no registry.",
  "",
);

export const EXIT_CODES = "Exit codes: 0 pass, 1 deviated (a gate failed), 2 errored (bad input, or the harness or target broke).";

export const registerRun: CommandModule = (program: Command, { io, exit }) => {
  program
    .command("run")
    .description("run a drill: start the target, probe, inject the scheduled faults, heal, tear down, analyse")
    .argument("<scenario...>", "a shipped scenario's name, or a path to a .ts, .yaml or .json scenario; several run one after another")
    .option("--out <dir>", "run directory (default: reports/<scenario>/<run-id>/); with several scenarios, <dir>/<scenario>")
    .option(
      "--share-cluster",
      "drills in this series (several scenarios, or --trials) share one kind cluster and operator; " +
        "each still gets its own namespace and Cluster",
    )
    .option("--image <image>", "PostgreSQL image for container targets (default: PGDRILL_IMAGE, postgres:16 or pgdrill/postgres:15-local)")
    .addOption(
      new Option("--gate <metric-op-value>", "add or replace a gate, e.g. 'failover.latencyMs<20000' (repeatable)")
        .argParser(collect)
        .default([]),
    )
    .option("--quiet", "print only the summary")
    .addOption(
      new Option("--trials <n>", "repeat the drill n times on fresh targets and gate on the distribution")
        .argParser(positiveInt)
        .default(1),
    )
    .addOption(
      new Option(
        "--trial-statistic <statistic>",
        "with --trials: judge gates on the worst trial, the p95 (p5 for lower bounds) or the median",
      )
        .choices(TRIAL_STATISTICS)
        .default("worst"),
    )
    .addOption(new Option("--confirm-manual <mode>", CONFIRM_MANUAL_HELP).choices(CONFIRM_MODES))
    .addHelpText("after", `${EXAMPLES}\n${gateMetricsHelp()}\n\n${EXIT_CODES}`)
    .action(async (scenarioArgs: string[], options: RunOptions) => {
      const series = { shareCluster: Boolean(options.shareCluster), ...(options.out ? { out: options.out } : {}) };
      const one = (arg: string, out: string | undefined, shared: SharedResources | undefined) =>
        runCommand(arg, { ...options, ...(out ? { out } : {}) }, io, shared);
      // Every scenario of a series passes the pre-start checks before the first drill starts.
      const check = (arg: string) => preflight(arg, preflightOptions(options));
      exit(await runSeries(scenarioArgs, series, io, one, check));
    });
};

async function runCommand(scenarioArg: string, options: RunOptions, io: CliIO, shared?: SharedResources): Promise<number> {
  // Everything about the input is checked before anything starts (the same checks as `validate`).
  const { confirm } = preflightOptions(options);
  const { scenario, source, gates } = await preflight(scenarioArg, preflightOptions(options));
  const { runDrill } = await import("../../run/drill.ts");
  // No engine is an environment problem, like bad input: one line, before any run directory exists.
  await (await import("../../targets/index.ts")).checkEnvironment(scenario.target.kind);

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
    const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
    const base = resolve(options.out ?? join("reports", scenario.name, `${stamp}-trials`));
    const results: RunResult[] = [];
    for (let trial = 1; trial <= options.trials && !interrupt.signal.aborted; trial += 1) {
      const { result } = await drillOnce(join(base, `trial-${trial}`), `trial ${trial}/${options.trials}: `);
      results.push(result);
    }
    const trials = summarizeTrials(results, gates, options.trialStatistic);
    if (interrupt.signal.aborted && trials.verdict !== "errored") {
      trials.verdict = "errored";
      trials.reason = `interrupted after ${results.length} of ${options.trials} trials`;
    }
    const mask = secretMasker();
    await writeFile(join(base, "trials.json"), mask(`${JSON.stringify(trials, null, 2)}\n`));
    await writeFile(join(base, "trials.md"), mask(renderTrialsMarkdown(trials)));
    await writeFile(join(base, "trials.html"), mask(renderTrialsHtml(trials)));
    await writeFile(join(base, "junit.xml"), mask(renderJunit(results.map((result) => reportModel(result)))));
    io.out(`${formatTrialsSummary(trials, { color: io.color })}\n`);
    io.out(`trials directory: ${base}\n`);
    await appendJobSummary(base, "trials.md");
    return verdictExit(trials.verdict);
  } finally {
    interrupt.dispose();
  }
}

/** What the pre-start checks need of run's options: manual steps are asked at a terminal unless told otherwise. */
function preflightOptions(options: RunOptions): PreflightOptions {
  return { gate: options.gate, confirm: options.confirmManual ?? "ask", interactive: interactiveStdin() };
}

/** `run --help`'s list of what a gate can judge, with each metric's definition, from the metrics' own table. */
function gateMetricsHelp(): string {
  const width = Math.max(...Object.keys(GATE_METRICS).map((metric) => metric.length));
  const rows = Object.entries(GATE_METRICS).map(([metric, meaning]) => `  ${metric.padEnd(width)}  ${meaning}`);
  return ["Gate metrics (see docs/metrics-and-gates.md):", ...rows].join("\n");
}
