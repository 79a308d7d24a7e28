/**
 * Waiting for a target to be ready: try, and try again every so often until it answers, the
 * deadline passes or the drill is stopped. Each try says why it is not done yet, so the error on
 * giving up names the last reason ("no walsender yet", "connection refused"), not only the wait.
 */

/** One try: done with a value, or not yet, and why. A try that throws ends the wait (a real failure). */
export type Attempt<T> = { done: true; value: T } | { done: false; why: string };

export const done = <T>(value: T): Attempt<T> => ({ done: true, value });
export const notYet = (why: string): Attempt<never> => ({ done: false, why });

export interface PollOptions {
  /** Wall-clock deadline (Date.now() ms): no try starts after it. */
  deadline: number;
  /** Pause between tries. */
  everyMs: number;
  signal?: AbortSignal | undefined;
  /** The error to throw on giving up, given the last reason (the first is `before`). */
  gaveUp: (last: string) => Error;
  /** The error to throw when the signal aborts; default: give up as at the deadline. */
  aborted?: (last: string) => Error;
  /** The reason reported when no try ran at all. Default "not tried". */
  before?: string;
}

export async function pollUntil<T>(attempt: () => Promise<Attempt<T>>, options: PollOptions): Promise<T> {
  let last = options.before ?? "not tried";
  while (Date.now() < options.deadline) {
    if (options.signal?.aborted) break;
    const outcome = await attempt();
    if (outcome.done) return outcome.value;
    last = outcome.why;
    await pause(options.everyMs, options.signal);
  }
  if (options.signal?.aborted && options.aborted) throw options.aborted(last);
  throw options.gaveUp(last);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done_, ms);
    signal?.addEventListener("abort", done_, { once: true });
    function done_() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done_);
      resolve();
    }
  });
}
