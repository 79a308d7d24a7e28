/**
 * The loop an HA manager's observer runs from the host (Patroni's REST APIs, pg_auto_failover's
 * monitor): one poll every `everyMs`, bounded in time and in count, ended by `stop()` at teardown,
 * and waiters woken after each poll to judge the observer's picture again. The observer keeps its
 * picture and says what one poll does; a poll that throws is a bug's path, said once.
 */
import { errorMessage } from "../../errors.ts";

export interface PollLoopOptions {
  /** One round of observation; it records what it learnt and should not throw for a peer that does not answer. */
  poll: () => Promise<void>;
  everyMs: number;
  /** The loop ends by itself after this long (a drill's teardown stops it long before). */
  maxLifetimeMs: number;
  log: (line: string) => void;
  /** What the loop observes, for its log lines: "patroni: observing the cluster". */
  what: string;
  /** Called after each poll, before waiters are woken (the observer counts them in its picture). */
  polled?: () => void;
}

export class PollLoop {
  /** Polls completed so far. */
  polls = 0;
  private readonly options: PollLoopOptions;
  private readonly stopping = new AbortController();
  private readonly listeners = new Set<() => void>();
  private loop: Promise<void> | null = null;

  constructor(options: PollLoopOptions) {
    this.options = options;
  }

  /** Set once `stop()` was called: a poll under way should not record what it read after it. */
  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the loop (waking every waiter); resolves once the poll under way is done. Safe to call again. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.notify();
    await this.loop;
  }

  /** Resolves once `ready` holds after a poll; rejects past `timeoutMs`, on `signal` or on stop, with the last reason. */
  async waitUntil(ready: () => true | string, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "not polled yet";
    for (;;) {
      const verdict = ready();
      if (verdict === true) return;
      last = verdict;
      if (Date.now() >= deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s (${last})`);
      if (signal?.aborted) throw new Error(`${what}: interrupted (${last})`);
      if (this.stopped) throw new Error(`${what}: the observer stopped (${last})`);
      await new Promise<void>((resolve) => {
        // Woken by the next poll (notify empties the set), the deadline, or the signal.
        const timer = setTimeout(done, Math.max(0, Math.min(1000, deadline - Date.now())));
        this.listeners.add(done);
        signal?.addEventListener("abort", done, { once: true });
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
      });
    }
  }

  private notify(): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }

  private async run(): Promise<void> {
    const { everyMs, maxLifetimeMs } = this.options;
    const deadline = Date.now() + maxLifetimeMs;
    const maxPolls = Math.ceil(maxLifetimeMs / everyMs);
    let failures = 0;
    while (!this.stopped && Date.now() < deadline && this.polls < maxPolls) {
      try {
        await this.options.poll();
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures === 1) this.options.log(`${this.options.what} failed: ${errorMessage(error)}`);
      }
      this.polls += 1;
      this.options.polled?.();
      this.notify();
      await pause(everyMs, this.stopping.signal);
    }
    if (!this.stopped) this.options.log(`${this.options.what}: stopped after ${Math.round(maxLifetimeMs / 1000)} s (its limit)`);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
