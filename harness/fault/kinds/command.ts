/**
 * command: the user's own command as the fault (a provider's failover CLI, a script), run with bash
 * through the drill's shell (`use.shell`), so this module loads no runtime. Its heal runs the
 * scenario's `heal` command, when it has one.
 */
import { z } from "zod";
import { toMs } from "../../duration.ts";
import { duration } from "../../scenario/schema-parts.ts";
import { defineFault, type FaultUse, type ShellOptions } from "../define.ts";
import { redactSecrets } from "../../secrets.ts";

// Chaos Toolkit's process action. Its output goes into the History, with secrets masked.
export const commandSchema = z
  .strictObject({
    kind: z.literal("command"),
    run: z
      .string()
      .min(1)
      .describe('Shell command (bash) that injects, e.g. "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover".'),
    heal: z.string().min(1).optional().describe("Shell command that undoes it, run when `for` ends or the drill ends."),
    timeout: duration.default("5m").describe("The command is killed and the step fails after this long."),
    label: z.string().min(1).optional().describe("Name in the History and reports; default: the command's first words."),
  })
  .describe("Your own command as the fault: a provider's failover CLI, a script.");

type CommandSpec = z.output<typeof commandSchema>;

export const commandFault = defineFault({
  schema: commandSchema,
  label: (spec) => spec.label ?? commandLabel(spec.run),
  // Grey, as a kind pgdrill does not know: what the command does is its own business.
  color: "#7f7f7f",
  requires: null,
  // The command's own business: pgdrill cannot tell which nodes it touches.
  nodes: [],
  check(spec, step, report) {
    if (spec.heal === undefined && step.for) {
      report(
        ["for"],
        "a command fault with a `for` needs a `heal` command to run when it ends",
        'Add "heal: <command>" to the fault, or drop "for".',
      );
    }
  },
  // Without a heal command it is a one-shot: nothing lasts, so nothing is healed or said to last.
  lasting: (spec) => spec.heal !== undefined,
  inject: (spec, use) => use.shell(spec.run, shellOptions(spec, use, "inject")),
  async heal(spec, use) {
    if (spec.heal === undefined) return;
    return use.shell(spec.heal, shellOptions(spec, use, "heal"));
  },
  timeoutMs: (spec) => toMs(spec.timeout) + 5000,
});

function shellOptions(spec: CommandSpec, use: FaultUse<null>, phase: "inject" | "heal"): ShellOptions {
  const env = { PGDRILL_RUN_ID: use.step.runId, PGDRILL_FAULT_ID: use.step.id, PGDRILL_FAULT_PHASE: phase };
  return { timeoutMs: toMs(spec.timeout), env };
}

/**
 * "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover" → "command: aws rds reboot-db-instance …".
 * A password among the first words (`PGPASSWORD=… psql`) is masked: the label goes into the History and every report.
 */
export function commandLabel(command: string): string {
  const words = redactSecrets(command).trim().split(/\s+/);
  return `command: ${words.slice(0, 3).join(" ")}${words.length > 3 ? " …" : ""}`;
}
