/**
 * Latency of successful operations, overall (role probes excepted: they measure the harness's
 * view of each node, not a client's) and per probe. Values go into an HDR histogram in integer
 * microseconds, so sub-millisecond latencies keep their precision; percentiles are HDR's (within
 * 0.1%, never above the exact maximum), the maximum is exact.
 */
import { build, type Histogram } from "hdr-histogram-js";
import type { LatencySummary, Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import type { Operation } from "../history/operations.ts";

export type LatencyMetrics = Metrics["latency"];

const EMPTY: LatencySummary = { count: 0, p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null };

export const latencyChecker = defineChecker<LatencyMetrics>({
  empty: () => ({ ...EMPTY, byProbe: {} }),
  start() {
    const overall = new LatencyRecorder();
    // Every probe gets a summary, in order of its first operation, even with no ok operation.
    const perProbe = new Map<string, LatencyRecorder>();
    const destroy = () => {
      overall.destroy();
      for (const recorder of perProbe.values()) recorder.destroy();
    };
    return {
      operation(operation: Operation) {
        let recorder = perProbe.get(operation.probe);
        if (!recorder) perProbe.set(operation.probe, (recorder = new LatencyRecorder()));
        if (operation.outcome !== "ok" || operation.latencyMs === null) return;
        recorder.record(operation.latencyMs);
        if (operation.type !== "role") overall.record(operation.latencyMs);
      },
      finish(): CheckerOutput<LatencyMetrics> {
        try {
          const byProbe: Record<string, LatencySummary> = {};
          for (const [probe, recorder] of perProbe) byProbe[probe] = recorder.summary();
          const summary = overall.summary();
          return summary.count > 0
            ? { valid: true, metrics: { ...summary, byProbe } }
            : { valid: "unknown", metrics: { ...summary, byProbe }, reason: "no successful probe operation to measure" };
        } finally {
          destroy();
        }
      },
    };
  },
});

class LatencyRecorder {
  private histogram: Histogram | null = null;
  private count = 0;
  private maxUs = 0;

  record(latencyMs: number): void {
    const us = Math.max(0, Math.round(latencyMs * 1000));
    this.histogram ??= build({ numberOfSignificantValueDigits: 3 });
    this.histogram.recordValue(us);
    this.count += 1;
    this.maxUs = Math.max(this.maxUs, us);
  }

  summary(): LatencySummary {
    const histogram = this.histogram;
    if (!histogram || this.count === 0) return { ...EMPTY };
    // HDR reports the highest value equivalent to a bucket; never let that exceed what was seen.
    const at = (percentile: number) => Math.min(histogram.getValueAtPercentile(percentile), this.maxUs) / 1000;
    return { count: this.count, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: this.maxUs / 1000 };
  }

  destroy(): void {
    this.histogram?.destroy();
    this.histogram = null;
  }
}
