/**
 * The drill's clock: milliseconds since the run started, monotonic. Injected so the Schedule can
 * be driven by a fake clock in tests.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

export interface Clock {
  /** ms since the run started. */
  now(): number;
  /** Resolves when now() >= t, or early (without throwing) when the signal aborts. */
  sleepUntil(t: number, signal?: AbortSignal): Promise<void>;
}

export function monotonicClock(): Clock {
  const origin = performance.now();
  const now = () => performance.now() - origin;
  return {
    now,
    async sleepUntil(t, signal) {
      const wait = t - now();
      if (wait <= 0 || signal?.aborted) return;
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        // aborted: the caller checks the signal
      }
    },
  };
}

/** Rounded to microseconds: finer than any probe can resolve, and keeps the history compact. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
