/** `pgdrill mark <run> <note>`: a moment in a running drill or watch, from elsewhere. */
import { OPERATOR_FILE } from "../../operator/requests.ts";
import { sendOperatorRequest } from "../operator-client.ts";
import { lines, type CommandModule } from "../io.ts";

export const registerMark: CommandModule = (program, { io }) => {
  program
    .command("mark")
    .description("mark a moment in a running drill or watch, with a short note: it goes into the History and onto the report's timeline")
    .argument("<run>", "the run directory `pgdrill run`/`watch` printed, or its run id")
    .argument("<note>", 'what happened, e.g. "deleted the primary pod"')
    .addHelpText(
      "after",
      lines(
        "",
        `It appends a line to ${OPERATOR_FILE} in the run directory, which a running drill reads every 100 ms.`,
        "",
        "Example:",
        "  pgdrill mark reports/watch/20261201-124330-ea4a 'deleted the primary pod'",
      ),
    )
    .action(async (run: string, note: string) => {
      const { runDir } = sendOperatorRequest(run, "mark", note);
      io.out(`marked: ${runDir}\n`);
    });
};
