/**
 * A Clock for tests: time moves only when everything is waiting on it. `drive(work)` lets the
 * microtasks and immediates settle, then jumps to the earliest sleeper, until `work` ends, so a
 * schedule of minutes runs in milliseconds and every time it records is exact.
 */
import type { Clock } from "../../harness/clock.ts";

interface Sleeper {
  at: number;
  wake: () => void;
}

export class VirtualClock implements Clock {
  private t = 0;
  private sleepers: Sleeper[] = [];

  now(): number {
    return this.t;
  }

  sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    if (at <= this.t || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = { at, wake: resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        "abort",
        () => {
          this.sleepers = this.sleepers.filter((other) => other !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Moves time to `at` (never back), waking every sleeper due by then in time order. */
  async advanceTo(at: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.sleepers.filter((sleeper) => sleeper.at <= at).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      this.sleepers = this.sleepers.filter((sleeper) => sleeper !== next);
      next.wake();
    }
    this.t = Math.max(this.t, at);
    await settle();
  }

  /**
   * Runs `work` to its end, jumping to the next sleeper whenever nothing else can move; bounded.
   * `realMsPerJump` waits that long in real time before each jump, for work that does real I/O
   * between sleeps (a probe's connection attempt), so it lands before the clock moves on.
   */
  async drive<T>(work: Promise<T>, options: { limitMs?: number; realMsPerJump?: number } = {}): Promise<T> {
    const limitMs = options.limitMs ?? 3_600_000;
    let done = false;
    const watched = work.finally(() => {
      done = true;
    });
    watched.catch(() => undefined);
    for (let rounds = 0; !done; rounds++) {
      await settle();
      if (done) break;
      const next = this.sleepers.reduce<Sleeper | null>((earliest, sleeper) => (earliest === null || sleeper.at < earliest.at ? sleeper : earliest), null);
      if (next === null) {
        // Something outside the clock is in flight (a real timer, I/O): give it real time, boundedly.
        if (rounds > 10_000) throw new Error("VirtualClock.drive: the work neither ends nor sleeps");
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      if (next.at > limitMs) throw new Error(`VirtualClock.drive: past ${limitMs} ms of virtual time`);
      if (options.realMsPerJump) await new Promise((resolve) => setTimeout(resolve, options.realMsPerJump));
      await this.advanceTo(next.at);
    }
    return watched;
  }
}

/** Lets pending promise callbacks and immediates run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
