import { describe, expect, it } from "vitest";
import { parseGate } from "../../harness/gate/gate.ts";
import { analyzeHistory } from "../../harness/analyze.ts";
import { formatTrialsSummary, renderTrialsMarkdown } from "../../harness/report/trials.ts";
import { renderTrialsHtml } from "../../harness/report/trials-html.ts";
import type { RunResult } from "../../harness/result.ts";
import { boundedStatistics, distribution, percentile, summarizeTrials } from "../../harness/trials.ts";
import { history } from "../fixtures/histories/builder.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";

/**
 * A pause of the primary at 1000 ms from a hand-made History: writes every 100 ms time out until
 * the primary answers again `outageMs` later, on the same node: a recovery, no failover.
 */
function pauseTrial(outageMs: number): RunResult {
  const b = history().start().steadyState(500);
  let id = 1;
  for (let t = 0; t < 1000; t += 100) b.write(id++, t, "ok").role(t, "primary", "primary").role(t + 10, "standby", "standby");
  b.fault(1000, "pause primary");
  for (let t = 1000; t < 1000 + outageMs; t += 100) b.write(id++, t, "info", 90);
  for (let t = 1000 + outageMs; t < 1000 + outageMs + 500; t += 100) b.write(id++, t, "ok").role(t, "primary", "primary");
  b.fault(1000 + outageMs, "pause primary", "heal");
  const acknowledged = b.events.flatMap((event) => (event.kind === "complete" && event.type === "write" && event.outcome === "ok" ? [event.value as number] : []));
  b.finalRead(1000 + outageMs + 600, acknowledged, { node: "primary" }).end(1000 + outageMs + 700);
  return analyzeHistory(b.events, { gate: { "recovery.latencyMs": "< 5000" } });
}

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

  it("summarises recovery beside failover, with the error bars of the trial each statistic picked, and counts failovers", () => {
    const results = [pauseTrial(2000), pauseTrial(3000), pauseTrial(1000)];
    expect(results.map((result) => result.metrics.failover.happened)).toEqual([false, false, false]);
    const summary = summarizeTrials(results, parseGate({ "recovery.latencyMs": "< 5000" }));
    expect(summary.failovers).toEqual({ happened: 0, noFailover: 3, undetermined: 0 });
    // Failover is n/a for every pause; recovery is measured in every trial: fault → first ack.
    expect(summary.distributions["failover.latencyMs"]).toMatchObject({ count: 0, median: null });
    expect(summary.distributions["recovery.latencyMs"]).toMatchObject({ count: 3, min: 1005, median: 2005, max: 3005 });
    // Each bound comes from the trial at that rank: the last refused write's invoke → the first ack.
    expect(summary.bounds["recovery.latencyMs"].median).toEqual({ ms: 2005, lowerMs: 1900, upperMs: 2005, trial: 1 });
    expect(summary.bounds["recovery.latencyMs"].max).toEqual({ ms: 3005, lowerMs: 2900, upperMs: 3005, trial: 2 });
    expect(summary.bounds["failover.latencyMs"].max).toBeNull();
    expect(summary.perTrial[2]).toMatchObject({ failoverHappened: false, failoverMs: null, recoveryMs: 1005, recoveryLowerMs: 900, recoveryUpperMs: 1005 });
    expect(summary.verdict).toBe("pass");

    const markdown = renderTrialsMarkdown(summary);
    expect(markdown).toContain("Failover (the primary changed) in 0 of 3 trials; 3 without one (the same primary came back, or no fault).");
    expect(markdown).toContain("| `recovery.latencyMs` | 1.00 s +0/−105.0 ms | 2.00 s +0/−105.0 ms | 3.00 s +0/−105.0 ms | 3.00 s +0/−105.0 ms | 3/3 |");
    expect(markdown).toContain("| `failover.latencyMs` | n/a | n/a | n/a | n/a | 0/3 |");
    expect(markdown).toContain("| none | 2.00 s +0/−105.0 ms |");
    const summaryText = formatTrialsSummary(summary, { color: false });
    expect(summaryText).toContain("failover (the primary changed) in 0 of 3 trials");
    expect(summaryText).toContain("recovery     median 2.00 s +0/−105.0 ms  p95 3.00 s +0/−105.0 ms  max 3.00 s +0/−105.0 ms");
    expect(summaryText).not.toContain("failover     median");
    const html = renderTrialsHtml(summary);
    expect(html).toContain("<th>recovery</th>");
    expect(html).toContain("failover (the primary changed) in 0 of 3 trials");
    expect(html).toContain("2.00 s +0/−105.0 ms");
  });

  it("says in how many trials a failover happened when some did", () => {
    const summary = summarizeTrials([deviatedResult(), pauseTrial(2000)], []);
    expect(summary.failovers).toEqual({ happened: 1, noFailover: 1, undetermined: 0 });
    expect(summary.distributions["failover.latencyMs"]!.count).toBe(1);
    expect(summary.distributions["recovery.latencyMs"]!.count).toBe(2);
    const text = formatTrialsSummary(summary, { color: false });
    expect(text).toContain("failover (the primary changed) in 1 of 2 trials; 1 without one");
    expect(text).toMatch(/failover {5}median \d/);
  });

  it("picks each statistic's trial by the same nearest rank as the distribution", () => {
    const bounded = boundedStatistics([{ ms: 300, lowerMs: 250, upperMs: 300 }, null, { ms: 100, lowerMs: 90, upperMs: 100 }, { ms: 200, lowerMs: null, upperMs: null }]);
    expect(bounded).toEqual({
      min: { ms: 100, lowerMs: 90, upperMs: 100, trial: 3 },
      median: { ms: 200, lowerMs: null, upperMs: null, trial: 4 },
      p95: { ms: 300, lowerMs: 250, upperMs: 300, trial: 1 },
      max: { ms: 300, lowerMs: 250, upperMs: 300, trial: 1 },
    });
    expect(distribution([300, null, 100, 200])).toMatchObject({ min: 100, median: 200, p95: 300, max: 300 });
  });

  it("is errored when a trial errored", () => {
    const summary = summarizeTrials([trial(1200, 0.95), trial(1300, 0.95, "errored")], gates);
    expect(summary.verdict).toBe("errored");
    expect(summary.reason).toMatch(/1 of 2 trials errored: run errored: the standby did not start/);
  });
});
