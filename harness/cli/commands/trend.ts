/** `pgdrill trend <dirs...>`: charts and a regression gate over many runs' result.json (work in trend/command.ts). */
import { resolve } from "node:path";
import { Option } from "commander";
import { appendJobSummary, collect, lines, type CommandModule } from "../io.ts";

const HELP = lines(
  "",
  "Examples:",
  "  pgdrill trend reports/ --out trend/",
  "  pgdrill trend artifacts/ --regression 'failover.latencyMs:+25%' --regression 'availability.ratio:-1%' " +
    "--regression 'writes.lostAcknowledged:+0'",
  "",
  "Metrics are the gate's (run --help). Errored runs are charted but never part of a baseline; a latest run that errored is not judged.",
  "Exit codes: 0 no regression, 1 a regression gate breached, 2 bad input or no readable run.",
);

export const registerTrend: CommandModule = (program, { io, exit }) => {
  program
    .command("trend")
    .description(
      "charts over time and a regression gate across many runs (e.g. a nightly workflow's downloaded artifacts): " +
        "reads each run's result.json, writes trend.html and trend.md",
    )
    .argument("<dirs...>", "run directories, or directories holding them (searched recursively)")
    .option("--out <dir>", "where trend.html and trend.md go", ".")
    .addOption(
      new Option(
        "--regression <metric:±N%>",
        "fail (exit 1) when the latest run of a scenario is worse than the median of the previous runs by more than this: " +
          "+ worse if higher, - worse if lower (repeatable)",
      )
        .argParser(collect)
        .default([]),
    )
    .option("--baseline <n>", "how many previous runs the median is taken over", "5")
    .addHelpText("after", HELP)
    .action(async (dirs: string[], options: { out: string; regression: string[]; baseline: string }) => {
      const { trendCommand } = await import("../../trend/command.ts");
      const outcome = await trendCommand(dirs, options, io);
      if (outcome.markdownFile) await appendJobSummary(resolve(outcome.markdownFile, ".."), "trend.md");
      exit(outcome.exitCode);
    });
};
