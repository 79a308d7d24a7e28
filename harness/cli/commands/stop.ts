/** `pgdrill stop <run>`: asks a running drill to heal, stop and end aborted. */
import { Option } from "commander";
import { EXIT } from "../../errors.ts";
import { STOP_FILE, stopRun } from "../../run/abort.ts";
import { lines, seconds, type CommandModule } from "../io.ts";

export const registerStop: CommandModule = (program, { io, exit }) => {
  program
    .command("stop")
    .description(
      "stop a running drill from another terminal: it heals every fault at once, stops its schedule and ends aborted (verdict errored), " +
        "still writing every report",
    )
    .argument("<run>", "the run directory `pgdrill run` printed, or its run id")
    .option("--reason <text>", "why, recorded in the History and the reports")
    .addOption(new Option("--wait <seconds>", "wait this long for the drill to end (0: only ask)").argParser(seconds).default(180))
    .addHelpText(
      "after",
      lines(
        "",
        `It writes ${STOP_FILE} into the run directory, which a running drill polls for every 200 ms.`,
        "",
        "Example:",
        "  pgdrill stop reports/pair-kill-primary/20261201-124330-ea4a --reason 'paging: real traffic affected'",
      ),
    )
    .action(async (run: string, options: { reason?: string; wait: number }) => {
      const outcome = await stopRun(run, { waitMs: options.wait * 1000, ...(options.reason ? { reason: options.reason } : {}) });
      if (outcome.alreadyEnded) {
        io.err(`pgdrill: ${outcome.runDir} already ended (${outcome.runEnd?.status}); nothing to stop\n`);
        exit(EXIT.errored);
      } else if (options.wait === 0) {
        io.out(`asked the drill in ${outcome.runDir} to stop\n`);
      } else if (outcome.runEnd) {
        const error = outcome.runEnd.error ? `: ${outcome.runEnd.error}` : "";
        io.out(`stopped: the drill in ${outcome.runDir} ended ${outcome.runEnd.status}${error}\n`);
      } else {
        io.err(
          `pgdrill: asked the drill in ${outcome.runDir} to stop, but it has not ended within ${options.wait} s ` +
            "(is it still running? `pgdrill reap` removes a dead run's containers)\n",
        );
        exit(EXIT.errored);
      }
    });
};
