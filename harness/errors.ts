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
  /**
   * Every problem found in the input: this error alone, or, for an error made by `inputErrors`,
   * each problem it lists (all of them, also those its message leaves out).
   */
  readonly problems: readonly InputError[];
  constructor(field: string, problem: string, fix: string, options?: { problems?: readonly InputError[] }) {
    super(`${field}: ${problem}. ${fix}`);
    this.field = field;
    this.fix = fix;
    this.problems = options?.problems ?? [this];
  }
}

/** How many problems one message lists before it says "and N more". */
export const MAX_LISTED_PROBLEMS = 20;

/**
 * One InputError for every problem found in one input (`source`, e.g. a scenario file). A single
 * problem stays itself, one line; several read "<source>: N problems:" and then one line each,
 * naming the field and the fix, at most `limit` of them.
 */
export function inputErrors(source: string, problems: readonly InputError[], limit = MAX_LISTED_PROBLEMS): InputError {
  if (problems.length === 0) throw new RangeError("inputErrors needs at least one problem");
  if (problems.length === 1) return problems[0]!;
  return new InputErrorList(source, problems, limit);
}

class InputErrorList extends InputError {
  constructor(source: string, problems: readonly InputError[], limit: number) {
    super(source, `${problems.length} problems`, "Each line below names a field and what to do about it.", { problems });
    const lines = problems.slice(0, limit).map((problem) => `  ${withoutPrefix(problem.message, `${source}: `)}`);
    if (problems.length > limit) lines.push(`  ... and ${problems.length - limit} more`);
    this.message = [`${source}: ${problems.length} problems:`, ...lines].join("\n");
  }
}

function withoutPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
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
