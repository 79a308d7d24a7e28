/**
 * `pgdrill validate <scenario...>` (Chaos Toolkit's `chaos validate`): every check `run` makes
 * before it starts anything (cli/preflight.ts, the same functions), then the drill as it would run.
 * No Docker, no cluster, no network: a typo fails in seconds, before a CI job spends minutes.
 */
import { Option } from "commander";
import { EXIT, InputError, errorMessage } from "../../errors.ts";
import { CONFIRM_MODES, type ConfirmMode } from "../../operator/desk.ts";
import { collect, lines, type CommandModule } from "../io.ts";
import { interactiveStdin } from "../keys.ts";
import { drillPlan, renderPlan, type DrillPlan } from "../plan.ts";
import { preflight } from "../preflight.ts";
import { CONFIRM_MANUAL_HELP } from "./run.ts";

interface ValidateOptions {
  gate: string[];
  confirmManual?: ConfirmMode;
  json?: boolean;
}

type Checked = { scenario: string; valid: true; plan: DrillPlan } | { scenario: string; valid: false; problems: string[] };

const HELP = lines(
  "",
  "It checks what `pgdrill run` checks before it starts anything: the scenario's shape and meaning (nodes, times,",
  "what the target can do, whether the schedule can happen), the gate's metrics, --gate, who confirms manual steps,",
  "and what the target reads from the environment (an endpoint's DATABASE_URL). Docker, kind and the database are",
  "not contacted: `run` still checks for an engine, and pulls or chooses the image, when it starts.",
  "",
  "Examples:",
  "  pgdrill validate pair-kill-primary",
  "  pgdrill validate scenarios/*.yaml my-drill.ts --confirm-manual auto",
  "  pgdrill validate my-drill.ts --json",
  "",
  "Exit codes: 0 every scenario is valid, 2 one or more is not (each problem names the field and the fix).",
);

export const registerValidate: CommandModule = (program, { io, exit }) => {
  program
    .command("validate")
    .description("check scenarios as `run` would before starting anything, and print each drill's plan; no Docker, no cluster, no network")
    .argument("<scenario...>", "shipped scenarios' names, or paths to .ts, .yaml or .json scenarios")
    .addOption(
      new Option("--gate <metric-op-value>", "a gate `run --gate` would add or replace (repeatable)").argParser(collect).default([]),
    )
    .addOption(new Option("--confirm-manual <mode>", `as for run: ${CONFIRM_MANUAL_HELP}`).choices(CONFIRM_MODES))
    .option("--json", "print the plans and problems as JSON")
    .addHelpText("after", HELP)
    .action(async (scenarioArgs: string[], options: ValidateOptions) => {
      const checks: Checked[] = [];
      // `run` defaults to asking at a terminal; so does validate, so a manual step without one is refused alike.
      const settings = { gate: options.gate, confirm: options.confirmManual ?? "ask", interactive: interactiveStdin() };
      for (const arg of scenarioArgs) {
        // Each as it is checked, so a plan and the problems of the next scenario read in order.
        const text = (write: (text: string) => void, what: string) => !options.json && write(`${checks.length > 0 ? "\n" : ""}${what}`);
        try {
          const checked = await preflight(arg, settings);
          const plan = drillPlan(checked.scenario, checked.source, checked.topology, checked.gates);
          text(io.out, renderPlan(plan));
          checks.push({ scenario: arg, valid: true, plan });
        } catch (error) {
          // A crash is reported like a problem (exit 2), never as a valid scenario.
          const problems = error instanceof InputError ? error.problems.map((problem) => problem.message) : [errorMessage(error)];
          text(io.err, `pgdrill: ${error instanceof InputError ? error.message : errorMessage(error)}\n`);
          checks.push({ scenario: arg, valid: false, problems });
        }
      }
      const invalid = checks.filter((check) => !check.valid).length;
      if (options.json) io.out(`${JSON.stringify({ valid: invalid === 0, scenarios: checks }, null, 2)}\n`);
      else if (checks.length > 1) io.out(`\n${checks.length - invalid} of ${checks.length} scenarios valid\n`);
      exit(invalid === 0 ? EXIT.pass : EXIT.errored);
    });
};
