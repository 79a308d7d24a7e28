import { describe, expect, it } from "vitest";
import { formatSummary } from "../../harness/report/summary.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";

describe("terminal summary", () => {
  it("has the verdict, the headline numbers and each failed gate, without escape codes when colour is off", () => {
    const text = formatSummary(deviatedResult(), { color: false });
    expect(text).not.toContain("\u001b[");
    expect(text.split("\n")).toEqual([
      "DEVIATED hand-made run run-1, 3.00 s",
      "  availability 58.75% of the time (84.62% of operations) · downtime 702.0 ms +98.5 ms/−200.0 ms · failover 770.0 ms → standby",
      "  writes 11 acknowledged, 1 unknown, lost 1 · p99 20.0 ms",
      "  lost ids: 3",
      "  ! 1 acknowledged write lost",
      "  gates 1/3 passed",
      "  ✗ writes.lostAcknowledged == 0 (actual 1)",
      "  ✗ availability.ratio >= 0.9 (actual 0.5875)",
    ]);
  });

  it("colours the verdict when asked", () => {
    expect(formatSummary(deviatedResult(), { color: true })).toContain("\u001b[31mDEVIATED\u001b[39m");
  });

  it("prints the reason of an errored run", () => {
    const text = formatSummary({ ...deviatedResult(), verdict: "errored", reason: "the run aborted: interrupted" }, { color: false });
    expect(text.split("\n").slice(0, 2)).toEqual(["ERRORED hand-made run run-1, 3.00 s", "  the run aborted: interrupted"]);
  });
});
