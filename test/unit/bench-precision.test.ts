import { describe, expect, it } from "vitest";
import { downtimeCoverage, downtimeCoverageTotal, parseEngineTime, type PrecisionTrial } from "../../bench/precision.ts";

/** A trial whose downtime window began within [startLower, start] and ended within [endLower, end], against the server's truths (ms after the fault). */
function trial(edges: [number, number, number, number], lost: number, firstCommit: number): PrecisionTrial {
  const [startLower, start, endLower, end] = edges;
  const within = (truth: number, lower: number, upper: number) => Math.min(truth - lower, upper - truth);
  return {
    intervalMs: 20,
    trial: 0,
    ok: true,
    downtimeStartLowerMs: startLower,
    downtimeStartMs: start,
    downtimeEndLowerMs: endLower,
    downtimeEndMs: end,
    truthPrimaryLostMs: lost,
    primaryLostInside: within(lost, startLower, start) >= 0,
    primaryLostMarginMs: within(lost, startLower, start),
    truthFirstCommitMs: firstCommit,
    endCommitInside: within(firstCommit, endLower, end) >= 0,
    endCommitMarginMs: within(firstCommit, endLower, end),
    engineExitMs: lost + 10,
    startConsistent: true,
  };
}

describe("precision bench: downtime-bound coverage", () => {
  it("counts the trials whose server truths fall inside both edges' bounds, against the 95 % target", () => {
    const trials = [
      trial([2, 20, 1100, 1130], 10, 1129), // both inside
      trial([2, 20, 1100, 1130], 21, 1129), // primary lost 1 ms after the first failed write's invoke
      trial([2, 20, 1100, 1130], 10, 1131), // first commit after the acknowledgement: outside
    ];
    const coverage = downtimeCoverage(trials);
    expect(coverage).toMatchObject({ trials: 3, startInside: 2, endInside: 2, bothInside: 1, coverage: 0.333, met: false, startConsistent: 3 });
    expect(coverage.primaryLostMarginMs).toMatchObject({ min: -1, max: 8 });
    expect(coverage.engineExitLagMs).toMatchObject({ min: 10, max: 10 });
    expect(downtimeCoverage(trials.slice(0, 1))).toMatchObject({ coverage: 1, met: true });
    expect(downtimeCoverage([])).toMatchObject({ trials: 0, coverage: null, met: null });
    expect(downtimeCoverageTotal([coverage, downtimeCoverage(trials.slice(0, 1))])).toBe("primary lost inside 3/4, first commit inside 3/4, both 2/4 (50%): target ≥ 95% MISSED");
  });

  it("reads the engine's nanosecond times without losing the sub-millisecond part", () => {
    expect(parseEngineTime("2024-05-01T12:00:00.123456789Z")).toBeCloseTo(Date.parse("2024-05-01T12:00:00.123Z") + 0.456789, 6);
    expect(parseEngineTime("2024-05-01T12:00:00+02:00")).toBe(Date.parse("2024-05-01T10:00:00Z"));
    // A container that never exited reports the zero time.
    expect(parseEngineTime("0001-01-01T00:00:00Z")).toBeNull();
  });
});
