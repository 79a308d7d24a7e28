/**
 * Putting the runner's events on the drill's clock, as NTP does: the drill sends a ping at its
 * t0, the runner answers with its own t_r, the answer arrives at t1. The runner read its clock
 * somewhere inside [t0, t1], so offset = (t0 + t1) / 2 − t_r is off by at most (t1 − t0) / 2,
 * whatever the two legs take. Of a burst of pings the one with the shortest round trip gives the
 * tightest bound. Both clocks are monotonic, so nothing steps; they drift apart by at most tens of
 * ppm (a few ms an hour), which the drill's bursts every few seconds keep well under a millisecond.
 */
import { roundMs } from "../../../clock.ts";

/** One ping: drill t when sent and when answered, and the runner's t in between. */
export interface ClockSample {
  sentAt: number;
  runnerT: number;
  receivedAt: number;
}

/** drill t = runner t + offsetMs, within ± uncertaintyMs. */
export interface ClockEstimate {
  offsetMs: number;
  uncertaintyMs: number;
  /** The shortest round trip of the burst, in ms. */
  rttMs: number;
  /** Pings in the burst that were answered. */
  samples: number;
  /** Drill t of the burst's best ping. */
  at: number;
}

/** The estimate from the burst's shortest round trip; null when no ping was answered. */
export function estimateOffset(samples: readonly ClockSample[], at?: number): ClockEstimate | null {
  let best: ClockSample | null = null;
  for (const sample of samples) {
    const rtt = sample.receivedAt - sample.sentAt;
    if (!(rtt >= 0) || !Number.isFinite(sample.runnerT)) continue;
    if (best === null || rtt < best.receivedAt - best.sentAt) best = sample;
  }
  if (best === null) return null;
  const rtt = best.receivedAt - best.sentAt;
  return {
    offsetMs: roundMs((best.sentAt + best.receivedAt) / 2 - best.runnerT),
    uncertaintyMs: roundMs(rtt / 2),
    rttMs: roundMs(rtt),
    samples: samples.length,
    at: roundMs(at ?? best.receivedAt),
  };
}

/** Pings `count` times, one after the other (a ping never overlaps another, so none waits in a queue). */
export async function pingBurst(ping: () => Promise<number>, now: () => number, count: number): Promise<ClockSample[]> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < count; i += 1) {
    const sentAt = now();
    try {
      const runnerT = await ping();
      samples.push({ sentAt, runnerT, receivedAt: now() });
    } catch {
      // An unanswered ping tells nothing; the others still do.
    }
  }
  return samples;
}

/** One line for the History's log: the offset, its bound, and how it was had. */
export function describeEstimate(estimate: ClockEstimate, what: string): string {
  const sign = estimate.offsetMs >= 0 ? "+" : "−";
  return (
    `probe runner clock (${what}): drill t = runner t ${sign} ${Math.abs(estimate.offsetMs).toFixed(3)} ms, ± ` +
    `${estimate.uncertaintyMs.toFixed(3)} ms (shortest round trip ${estimate.rttMs.toFixed(3)} ms of ${estimate.samples} pings ` +
    `through the API server)`
  );
}
