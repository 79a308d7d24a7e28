/** `pgdrill watch [url]`: the SELECT 1 loop as one command (the work is in cli/watch.ts). */
import { Option } from "commander";
import type { WatchOptions } from "../watch.ts";
import { appendJobSummary, collect, lines, type CommandModule } from "../io.ts";

const HELP = lines(
  "",
  'While it runs: m marks a moment (type a note, Enter); elsewhere: pgdrill mark <run-dir|run-id> "note".',
  "Ctrl-C (or SIGTERM) finishes it: completed, every report written; a second Ctrl-C aborts.",
  "Ctrl-C while it is still starting (nothing measured yet): it removes what it started and its run directory, " +
    "says so in one line, and exits 130 (143 for SIGTERM).",
  "A URL that reaches a standby is watched read-only (SELECT 1 and who answers); --writes needs the primary.",
  "",
  "Examples:",
  "  pgdrill watch                                   # DATABASE_URL, SELECT 1 every 100 ms",
  "  pgdrill watch postgresql://app:…@db:5432/app --read-replica postgresql://app:…@db-ro:5432/app --writes",
  "  pgdrill watch --every 50ms --for 10m --gate 'availability.ratio>=0.99'",
  "  pgdrill watch 'postgres://app:…@10.0.0.1:5432,10.0.0.2:5432/app?target_session_attrs=read-write'   # several hosts, as libpq",
  '  pgdrill watch "host=db1,db2 port=5432 dbname=app user=app target_session_attrs=read-write"',
);

export const registerWatch: CommandModule = (program, { io, exit }) => {
  program
    .command("watch")
    .description(
      "the SELECT 1 loop as one command: probe an endpoint until Ctrl-C or --for, with the live view and marks (m), " +
        "then write a run directory and reports as `run` does",
    )
    .argument(
      "[url]",
      "the primary's connection string, as libpq reads it: a URI (several hosts too: postgresql://h1:5432,h2:5432/db?" +
        "target_session_attrs=read-write) or keyword=value pairs (default: DATABASE_URL); nothing else is contacted",
    )
    .option("--read-replica <url>", "also SELECT 1 on a read replica, a connection string too (DATABASE_READ_REPLICA_URL is not read)")
    .option("--writes", "also tracked writes, in a schema of the watch's own (dropped after): counts lost acknowledged writes")
    .option("--every <duration>", "between operations", "100ms")
    .option("--for <duration>", "stop after this long (default: until Ctrl-C, at most 24 h)")
    .option("--out <dir>", "run directory (default: reports/watch/<run-id>/)")
    .option("--quiet", "print only the summary")
    .addOption(
      new Option("--gate <metric-op-value>", "judge the watch, e.g. 'availability.ratio>=0.99' (repeatable; default: no gate)")
        .argParser(collect)
        .default([]),
    )
    .addHelpText("after", HELP)
    .action(async (url: string | undefined, options: WatchOptions) => {
      const { watchCommand } = await import("../watch.ts");
      const outcome = await watchCommand(url, options, io);
      if (outcome.runDir) await appendJobSummary(outcome.runDir, "report.md");
      exit(outcome.exitCode);
    });
};
