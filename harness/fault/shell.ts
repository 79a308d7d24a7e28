/**
 * The shell faults get through `use.shell` (run.ts): a user's command (a provider's failover CLI, a
 * script) run with bash through zx, bounded by a timeout that kills it, its output kept short for
 * the History and masked of secrets, and a failure that says the exit code and the command's last
 * words.
 */
import { $ } from "zx";
import { HarnessError } from "../errors.ts";
import type { ShellOptions } from "./define.ts";

/** The History keeps the tail of a command's output: the part that says what happened. */
const MAX_OUTPUT_CHARS = 2000;

export interface RunShellOptions extends ShellOptions {
  /** Masks every secret the target knows before the output leaves this function. */
  redact: (text: string) => string;
}

/** Resolves with the command's (masked, trimmed) output; rejects when it fails or times out. */
export async function runShell(command: string, options: RunShellOptions): Promise<string> {
  const shell = $({
    quiet: true,
    nothrow: true,
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs,
    timeoutSignal: "SIGKILL",
  });
  const result = await shell`bash -c ${command}`;
  // Masked before it is cut, so no half of a password survives the cut.
  const output = tail(options.redact(`${result.stdout}${result.stderr}`.trim()));
  if (result.exitCode === 0) return output;
  const why =
    result.signal === "SIGKILL"
      ? `was killed after ${Math.round(options.timeoutMs / 1000)} s (its timeout)`
      : `exited with ${result.exitCode ?? result.signal ?? "no code"}`;
  throw new HarnessError(`the command ${why}${output ? `: ${lastLine(output)}` : ""}`);
}

function tail(text: string): string {
  return text.length > MAX_OUTPUT_CHARS ? `…${text.slice(-MAX_OUTPUT_CHARS)}` : text;
}

function lastLine(text: string): string {
  return (
    text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .at(-1)
      ?.trim() ?? ""
  );
}
