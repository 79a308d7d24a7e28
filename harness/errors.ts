/**
 * Two kinds of failure, as Chaos Toolkit separates them: bad input from the user (exit 2, nothing
 * started) and the harness or target breaking during a run (verdict `errored`, exit 2). A drill
 * that finds a weakness is neither: it is a `deviated` verdict, exit 1.
 */
export class InputError extends Error {
  override readonly name = "InputError";
  /** Where the problem is, e.g. `schedule[1].fault` or a file path. */
  readonly field: string;
  /** What to do about it, in one sentence. */
  readonly fix: string;
  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem}. ${fix}`);
    this.field = field;
    this.fix = fix;
  }
}

/** The harness, Docker or the target failed in a way that makes the drill's result unusable. */
export class HarnessError extends Error {
  override readonly name = "HarnessError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export const EXIT = { pass: 0, deviated: 1, errored: 2 } as const;
