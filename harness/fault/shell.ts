/**
 * The shell faults get through `use.shell` (run.ts): a user's command (a provider's failover CLI, a
 * script) run with bash through zx, bounded by a timeout that kills it, its output kept short for
 * the History and masked of secrets, and a failure that says the exit code and the command's last
 * words.
 */
import { $ } from "zx";
import { HarnessError } from "../errors.ts";
import type { ShellOptions } from "./define.ts";
import { MAX_SAID, SAID_PREFIX, stampSaidLine } from "./said.ts";

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
  const running = shell`bash -c ${command}`;
  // Each `pgdrill-event:` line is stamped with when it arrived, unless it gives its own time (said.ts).
  const stamped: string[] = [];
  let partial = "";
  running.stdout.on("data", (chunk: Buffer | string) => {
    const lines = `${partial}${String(chunk)}`.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) stamped.push(stampSaidLine(line, new Date()));
  });
  const result = await running;
  if (partial !== "") stamped.push(stampSaidLine(partial, new Date()));
  const stdout = stamped.length > 0 || partial !== "" ? `${stamped.join("\n")}\n` : result.stdout;
  // Masked before it is cut, so no half of a password survives the cut.
  const output = keepSaid(options.redact(`${stdout}${result.stderr}`.trim()));
  if (result.exitCode === 0) return output;
  const why =
    result.signal === "SIGKILL"
      ? `was killed after ${Math.round(options.timeoutMs / 1000)} s (its timeout)`
      : `exited with ${result.exitCode ?? result.signal ?? "no code"}`;
  throw new HarnessError(`the command ${why}${output ? `: ${lastLine(output)}` : ""}`);
}

/** The tail, with the `pgdrill-event:` lines the cut would drop put back in front (the runner reads them). */
function keepSaid(text: string): string {
  const kept = tail(text);
  if (kept === text) return kept;
  const cut = text.slice(0, text.length - MAX_OUTPUT_CHARS).split("\n");
  const said = cut.filter((line) => line.trim().startsWith(SAID_PREFIX)).slice(0, MAX_SAID);
  return said.length > 0 ? `${said.join("\n")}\n${kept}` : kept;
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
