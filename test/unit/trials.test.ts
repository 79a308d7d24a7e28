import { describe, expect, it } from "vitest";
import { parseGate } from "../../harness/gate/gate.ts";
import type { RunResult } from "../../harness/result.ts";
import { distribution, percentile, summarizeTrials } from "../../harness/trials.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";

/** A trial whose failover took `ms` and whose availability was `ratio`. */
function trial(ms: number | null, ratio: number, verdict: RunResult["verdict"] = "pass"): RunResult {
  const base = deviatedResult();
  return {
    ...base,
    verdict,
    reason: verdict === "errored" ? "run errored: the standby did not start" : null,
    metrics: {
      ...base.metrics,
      failover: { ...base.metrics.failover, latencyMs: ms },
      availability: { ...base.metrics.availability, ratio },
      writes: { ...base.metrics.writes, lostAcknowledged: 0 },
    },
  };
}

const gates = parseGate({ "failover.latencyMs": "< 2000", "availability.ratio": ">= 0.9", "writes.lostAcknowledged": "== 0" });

describe("trials", () => {
  it("computes nearest-rank percentiles", () => {
    const sorted = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000];
    expect(percentile(sorted, 50)).toBe(500);
    expect(percentile(sorted, 95)).toBe(1000);
    expect(percentile([], 95)).toBeNull();
    expect(distribution([300, null, 100, 200])).toEqual({ count: 3, min: 100, median: 200, p95: 300, max: 300, values: [300, null, 100, 200] });
  });

  it("judges each gate on the worst trial by default", () => {
    const results = [trial(1200, 0.95), trial(2500, 0.97), trial(1300, 0.92)];
    const summary = summarizeTrials(results, gates);
    const failover = summary.gates.find((gate) => gate.metric === "failover.latencyMs")!;
    expect(failover).toMatchObject({ actual: 2500, statistic: "max", pass: false });
    expect(summary.gates.find((gate) => gate.metric === "availability.ratio")).toMatchObject({ actual: 0.92, statistic: "min", pass: true });
    expect(summary.verdict).toBe("deviated");
    expect(summary.reason).toMatch(/failover.latencyMs \(max over 3 trials\) was 2500, expected < 2000/);
    expect(summary.distributions["failover.latencyMs"]).toMatchObject({ min: 1200, median: 1300, max: 2500 });
  });

  it("judges on the median when asked, so one slow trial does not fail the set", () => {
    const results = [trial(1200, 0.95), trial(2500, 0.97), trial(1300, 0.92)];
    const summary = summarizeTrials(results, gates, "median");
    expect(summary.gates.find((gate) => gate.metric === "failover.latencyMs")).toMatchObject({ actual: 1300, statistic: "median", pass: true });
    expect(summary.verdict).toBe("pass");
  });

  it("fails a gate when any trial could not measure the metric", () => {
    const summary = summarizeTrials([trial(1200, 0.95), trial(null, 0.95)], gates, "median");
    expect(summary.gates.find((gate) => gate.metric === "failover.latencyMs")).toMatchObject({ actual: null, pass: false });
  });

  it("is errored when a trial errored", () => {
    const summary = summarizeTrials([trial(1200, 0.95), trial(1300, 0.95, "errored")], gates);
    expect(summary.verdict).toBe("errored");
    expect(summary.reason).toMatch(/1 of 2 trials errored: run errored: the standby did not start/);
  });
});
