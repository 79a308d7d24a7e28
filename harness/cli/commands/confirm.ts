/** `pgdrill confirm <run> [note]`: the answer to the manual step a running drill waits for. */
import { Option } from "commander";
import { EXIT, InputError } from "../../errors.ts";
import { OPERATOR_FILE } from "../../operator/requests.ts";
import { awaitOperatorReply, REPLY_WAIT_MS, sendOperatorRequest } from "../operator-client.ts";
import { lines, seconds, type CommandModule } from "../io.ts";

interface ConfirmOptions {
  step?: string;
  notDone?: string;
  wait: number;
}

const HELP = lines(
  "",
  `It appends a line to ${OPERATOR_FILE} in the run directory, which a running drill reads every 100 ms, ` +
    "and prints the drill's answer: the step it confirmed, or why it refused (exit 2).",
  "Without --step it confirms whichever step is waiting, and with none waiting the confirmation is recorded as a mark.",
  "",
  "Examples:",
  "  pgdrill confirm reports/game-day/20261201-124330-ea4a --step m2 'pod deleted'",
  "  pgdrill confirm 20261201-124330-ea4a --step m2 --not-done 'no access to the console'",
);

export const registerConfirm: CommandModule = (program, { io, exit }) => {
  program
    .command("confirm")
    .description(
      "confirm the manual step a running drill is waiting for (from another terminal, or a script), " +
        "or say with --not-done that it could not be done",
    )
    .argument("<run>", "the run directory `pgdrill run` printed, or its run id")
    .argument("[note]", "recorded as a mark beside the confirmation")
    .option(
      "--step <id>",
      "the step meant, as the drill shows it (m2) or its number among the schedule's manual steps (2): " +
        "refused unless that step is the one waiting",
    )
    .option("--not-done <reason>", "the step could not be done: recorded as not done (no fault), with this reason")
    .addOption(
      new Option("--wait <seconds>", "wait this long for the drill's answer (0: only ask)")
        .argParser(seconds)
        .default(REPLY_WAIT_MS / 1000),
    )
    .addHelpText("after", HELP)
    .action(async (run: string, note: string | undefined, options: ConfirmOptions) => {
      if (options.notDone !== undefined && note !== undefined) {
        const problem = "goes with a confirmation; --not-done takes the reason itself";
        throw new InputError("note", problem, "Drop the note, or put it in the reason.");
      }
      const type = options.notDone !== undefined ? "not-done" : "confirm";
      const step = options.step === undefined ? {} : { step: options.step };
      const { runDir, id } = sendOperatorRequest(run, type, options.notDone ?? note ?? "", step);
      if (options.wait === 0) {
        io.out(`asked to ${type === "confirm" ? "confirm" : "record as not done"}: ${runDir}\n`);
        return;
      }
      const reply = await awaitOperatorReply(runDir, id, options.wait * 1000);
      if (reply && "ok" in reply && reply.ok) {
        io.out(`${reply.message}: ${runDir}\n`);
        return;
      }
      if (reply && "ok" in reply) {
        io.err(`pgdrill: ${reply.message}\n`);
      } else if (reply) {
        io.err(`pgdrill: the drill in ${runDir} ended (${reply.ended.status}) before it read the request\n`);
      } else {
        io.err(
          `pgdrill: the drill in ${runDir} has not answered within ${options.wait} s ` +
            "(it still checks the step itself when it reads the request); see its History\n",
        );
      }
      exit(EXIT.errored);
    });
};
