/** Hidden: what the cnpg target's probe-runner pod runs (harness/runner/runner.ts); not for people. */
import { readFile } from "node:fs/promises";
import { InputError } from "../../errors.ts";
import type { CommandModule } from "../io.ts";

export const registerProbeRunner: CommandModule = (program, { exit }) => {
  program
    .command("probe-runner", { hidden: true })
    .description("run probes inside a cluster for a drill, History to stdout as JSON lines")
    .option("--config <file|json>", "the runner's config; default $PGDRILL_RUNNER_CONFIG")
    .action(async (options: { config?: string }) => {
      const { runProbeRunner } = await import("../../runner/runner.ts");
      const given = options.config ?? process.env.PGDRILL_RUNNER_CONFIG;
      if (given === undefined) {
        throw new InputError("--config", "no config given", "Pass --config <file|json> or set PGDRILL_RUNNER_CONFIG.");
      }
      exit(await runProbeRunner(given.trimStart().startsWith("{") ? given : await readFile(given, "utf8")));
    });
};
