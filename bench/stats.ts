/**
 * Distributions, not single times: every benchmark reports p50/p90/p99/max over its samples.
 * `BucketHistogram` is for long runs (the soak) where keeping every sample would itself grow the
 * memory we are measuring: fixed 10 µs buckets, allocated once.
 */

export interface Distribution {
  count: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentiles of `samples` (which it does not modify). */
export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) return { count: 0, min: null, p50: null, p90: null, p99: null, max: null, mean: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { count: sorted.length, min: sorted[0]!, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted.at(-1)!, mean: round(mean) };
}

export class BucketHistogram {
  private readonly counts: Uint32Array;
  private readonly bucketMs: number;
  private total = 0;
  private overflow = 0;
  private maxSeen = -Infinity;

  constructor(options: { bucketMs: number; limitMs: number }) {
    this.bucketMs = options.bucketMs;
    this.counts = new Uint32Array(Math.ceil(options.limitMs / options.bucketMs));
  }

  record(valueMs: number): void {
    this.total += 1;
    this.maxSeen = Math.max(this.maxSeen, valueMs);
    const index = Math.floor(Math.max(0, valueMs) / this.bucketMs);
    if (index >= this.counts.length) this.overflow += 1;
    else this.counts[index]! += 1;
  }

  /** Percentiles at bucket resolution (upper edge of the bucket), max exact. */
  summary(): Distribution {
    if (this.total === 0) return distribution([]);
    const at = (p: number) => {
      const wanted = Math.ceil((p / 100) * this.total);
      let seen = 0;
      for (let i = 0; i < this.counts.length; i += 1) {
        seen += this.counts[i]!;
        if (seen >= wanted) return round((i + 1) * this.bucketMs);
      }
      return round(this.maxSeen);
    };
    return { count: this.total, min: null, p50: at(50), p90: at(90), p99: at(99), max: round(this.maxSeen), mean: null };
  }
}

/**
 * Jitter of a probe loop: how late each operation started against the plan. The loop plans the
 * next start one interval after the previous plan, or at the previous completion when it overran
 * (harness/probe/probe.ts everyInterval), so the plan is rebuilt from the same rule.
 */
export class JitterTracker {
  private readonly everyMs: number;
  private readonly state = new Map<string, { planned: number; lastComplete: number | null }>();
  readonly histogram = new BucketHistogram({ bucketMs: 0.01, limitMs: 1000 });
  overruns = 0;

  constructor(everyMs: number) {
    this.everyMs = everyMs;
  }

  invoke(probe: string, t: number): void {
    const previous = this.state.get(probe);
    if (!previous) {
      this.state.set(probe, { planned: t, lastComplete: null });
      this.histogram.record(0);
      return;
    }
    let planned = previous.planned + this.everyMs;
    if (previous.lastComplete !== null && planned < previous.lastComplete) {
      planned = previous.lastComplete;
      this.overruns += 1;
    }
    previous.planned = planned;
    this.histogram.record(t - planned);
  }

  complete(probe: string, t: number): void {
    const current = this.state.get(probe);
    if (current) current.lastComplete = t;
  }
}

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function fmt(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits);
}

/** "p50 1.2 / p90 3.4 / p99 5.6 / max 7.8" */
export function fmtDistribution(d: Distribution, digits = 1, unit = "ms"): string {
  return `p50 ${fmt(d.p50, digits)} / p90 ${fmt(d.p90, digits)} / p99 ${fmt(d.p99, digits)} / max ${fmt(d.max, digits)} ${unit} (n=${d.count})`;
}
