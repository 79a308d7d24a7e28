/**
 * The ways one drill stops. `drill` ends everything early (an interrupt, the kill switch, the
 * overall deadline, a cancellation); `probing` ends only the probe loops; `scheduling` only the
 * schedule. A finish (`pgdrill watch`'s Ctrl-C) ends the run as its duration would once the probes
 * run; before that there is nothing to complete, and it cancels the start-up instead.
 */
import { errorMessage } from "../errors.ts";

export interface StopsOptions {
  /** The caller's interrupt. */
  signal?: AbortSignal | undefined;
  /** The caller's finish. */
  finish?: AbortSignal | undefined;
  /** Whatever hangs, the run ends this long after it began. */
  deadlineMs: number;
  log: (line: string) => void;
  /** The reason a cancellation aborts the drill with, from the finish's cause ("" when it gave none). */
  cancellation: (by: string) => Error;
}

export class DrillStops {
  readonly drill = new AbortController();
  readonly probing = new AbortController();
  readonly scheduling = new AbortController();
  /** Set once the probes run: from then on a finish completes the run instead of cancelling it. */
  probingStarted = false;
  private overdue = false;
  private cancelled: { by: string; reason: Error } | null = null;
  private readonly options: StopsOptions;
  private readonly deadline: NodeJS.Timeout;

  constructor(options: StopsOptions) {
    this.options = options;
    this.drill.signal.addEventListener("abort", () => this.probing.abort(), { once: true });
    this.drill.signal.addEventListener("abort", () => this.scheduling.abort(), { once: true });
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
    if (options.signal?.aborted) this.onAbort();
    this.deadline = setTimeout(() => {
      this.overdue = true;
      options.log(`the run passed its overall deadline of ${Math.round(options.deadlineMs / 1000)} s: stopping it`);
      this.drill.abort();
    }, options.deadlineMs);
    this.deadline.unref();
    options.finish?.addEventListener("abort", this.onFinish, { once: true });
    if (options.finish?.aborted) this.onFinish();
  }

  get pastDeadline(): boolean {
    return this.overdue;
  }

  /** The finish's cause when it cancelled the drill before the probes started; null when it did not. */
  get cancelledBy(): string | null {
    return this.cancelled?.by ?? null;
  }

  /** How the drill ended when `error` stopped it, said once in the log (a cancellation is the caller's to say). */
  failed(error: unknown): { status: "aborted" | "errored"; failure: string } {
    const status = this.drill.signal.aborted && !this.overdue ? "aborted" : "errored";
    // An interruption says what stopped the drill (Ctrl-C, SIGTERM, the launcher gone), whichever phase noticed it.
    const failure = this.overdue
      ? `the run passed its overall deadline of ${Math.round(this.options.deadlineMs / 1000)} s (${errorMessage(error)})`
      : this.cancelled
        ? this.cancelled.reason.message
        : `${errorMessage(error)}${status === "aborted" ? abortCause(this.drill.signal) : ""}`;
    if (!this.cancelled || this.overdue) this.options.log(`${status}: ${failure}`);
    return { status, failure };
  }

  /** The drill is over: the deadline can no longer fire. */
  clearDeadline(): void {
    clearTimeout(this.deadline);
  }

  /** Stops listening to the caller's signals. */
  detach(): void {
    this.options.finish?.removeEventListener("abort", this.onFinish);
    this.options.signal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onAbort = (): void => {
    this.drill.abort(this.options.signal?.reason);
  };

  private readonly onFinish = (): void => {
    if (!this.probingStarted) {
      const by = finishCause(this.options.finish);
      this.cancelled = { by, reason: this.options.cancellation(by) };
      this.drill.abort(this.cancelled.reason);
      return;
    }
    if (!this.drill.signal.aborted) this.options.log("finishing: the probes stop, the run ends completed");
    this.scheduling.abort();
    this.probing.abort();
  };
}

/** "SIGINT" from a finish reason like Error("finished: SIGINT"); "" when none was given. */
function finishCause(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
  return /This operation was aborted/.test(text) ? "" : text.replace(/^finished:\s*/, "");
}

/** " (SIGTERM)" from an abort reason like Error("interrupted: SIGTERM"); "" when none was given. */
function abortCause(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
  const cause = text.replace(/^interrupted:\s*/, "");
  return cause && !/This operation was aborted/.test(cause) ? ` (${cause})` : "";
}
