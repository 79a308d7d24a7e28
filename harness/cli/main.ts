/**
 * The pgdrill command line. `main` returns the exit code (0 pass, 1 deviated, 2 errored or bad
 * input) and never calls process.exit itself, except on a second Ctrl-C, which forces an exit.
 * Each command is a module of commands/; this file only wires them, in the order --help lists them.
 */
import { Command, CommanderError } from "commander";
import { EXIT, InputError, errorMessage } from "../errors.ts";
import { VERSION } from "../version.ts";
import { registerConfirm } from "./commands/confirm.ts";
import { registerList } from "./commands/list.ts";
import { registerMark } from "./commands/mark.ts";
import { registerProbeRunner } from "./commands/probe-runner.ts";
import { registerReap } from "./commands/reap.ts";
import { registerReport } from "./commands/report.ts";
import { registerRun } from "./commands/run.ts";
import { registerSchema } from "./commands/schema.ts";
import { registerStop } from "./commands/stop.ts";
import { registerTrend } from "./commands/trend.ts";
import { registerValidate } from "./commands/validate.ts";
import { registerWatch } from "./commands/watch.ts";
import { defaultIO, redactingIO, type CliIO, type CommandModule } from "./io.ts";
import { watchLauncher } from "./parent-watch.ts";

export type { CliIO } from "./io.ts";

const COMMANDS: readonly CommandModule[] = [
  registerRun,
  registerValidate,
  registerWatch,
  registerMark,
  registerConfirm,
  registerList,
  registerSchema,
  registerReport,
  registerTrend,
  registerStop,
  registerReap,
  registerProbeRunner,
];

export async function main(argv: string[], given: CliIO = defaultIO()): Promise<number> {
  watchLauncher();
  const io = redactingIO(given);
  let exitCode: number = EXIT.pass;
  const program = new Command("pgdrill")
    .description("Chaos and failover drills for PostgreSQL high availability.")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const context = { io, verbatim: given, exit: (code: number) => void (exitCode = code) };
  for (const register of COMMANDS) register(program, context);

  try {
    await program.parseAsync(unknownCommandWithoutHelp(program, argv), { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.pass : EXIT.errored;
    io.err(`pgdrill: ${error instanceof InputError ? error.message : errorMessage(error)}\n`);
    return EXIT.errored;
  }
  return exitCode;
}

/**
 * Commander shows the main help, exit 0, for `pgdrill frobnicate --help` (it answers a help flag before
 * it looks the command up), and for `pgdrill help frobnicate`. Without the flag it says what is wrong:
 * unknown command 'frobnicate', with a suggestion when a command is close. pgdrill's own options take
 * no value, so the first word that is not an option names the command.
 */
function unknownCommandWithoutHelp(program: Command, argv: string[]): string[] {
  const words = argv.filter((arg) => !arg.startsWith("-"));
  const named = words[0] === "help" ? words[1] : words[0];
  const known = (name: string) => program.commands.some((command) => command.name() === name || command.aliases().includes(name));
  if (named === undefined || named === "help" || known(named)) return argv;
  return argv.filter((arg, index) => arg !== "--help" && arg !== "-h" && !(arg === "help" && index === argv.indexOf("help")));
}
