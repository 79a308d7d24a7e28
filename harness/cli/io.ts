/** What every command writes to, and the small helpers their actions share. */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { EXIT } from "../errors.ts";
import type { Verdict } from "../result.ts";
import { redactSecrets } from "../secrets.ts";

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Colours only for a terminal, and never with NO_COLOR. */
  color: boolean;
  /** Where the live view draws; in-place updates only when it is a terminal. */
  live: { write(text: string): unknown; isTTY?: boolean };
}

export const defaultIO = (): CliIO => ({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  color: Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env),
  live: process.stderr,
});

/** What a command's module gets: where to write, and how to set the exit code `main` returns. */
export interface CommandContext {
  /** The console, every secret masked on the way out. */
  io: CliIO;
  /**
   * The console unmasked, for output that holds no input at all and must be printed byte for byte (the JSON Schema, whose
   * examples say "user:password@host": masked, it would differ from the shipped file).
   */
  verbatim: CliIO;
  exit: (code: number) => void;
}

/** One command: adds itself (options, help, action) to the program. */
export type CommandModule = (program: Command, context: CommandContext) => void;

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`"${value}" is not a number of seconds; give e.g. 60, or 0 not to wait.`);
  }
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new InvalidArgumentError(`"${value}" is not a number of trials; give a whole number from 1 to 1000.`);
  }
  return n;
}

/** In GitHub Actions, the Markdown report becomes the job summary (masked again: it leaves the machine). */
export async function appendJobSummary(dir: string, file: string): Promise<void> {
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (!summary) return;
  await appendFile(summary, `${redactSecrets(await readFile(join(dir, file), "utf8"))}\n`);
}

/**
 * The console with every secret masked (harness/secrets.ts): what a command prints, an error, the
 * live view. The one place all of pgdrill's console output passes, so no writer can forget it.
 */
export function redactingIO(io: CliIO): CliIO {
  type Terminal = CliIO["live"] & { columns?: number; rows?: number };
  const live: Terminal = io.live;
  const masked: Terminal = {
    // The live view's in-place updates read the terminal's size too (log-update).
    write: (text: string) => live.write(redactSecrets(text)),
    get isTTY() {
      return live.isTTY;
    },
    get columns() {
      return live.columns;
    },
    get rows() {
      return live.rows;
    },
  };
  return { out: (text) => io.out(redactSecrets(text)), err: (text) => io.err(redactSecrets(text)), color: io.color, live: masked };
}

export function verdictExit(verdict: Verdict): number {
  return EXIT[verdict];
}

/** Help text from lines, so no source line has to carry a whole paragraph. */
export const lines = (...text: string[]): string => text.join("\n");
