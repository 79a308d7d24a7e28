import { describe, expect, it } from "vitest";
import { decideVerdict, describeFailedGates, type VerdictInput } from "../../harness/gate/verdict.ts";
import type { GateResult } from "../../harness/result.ts";

const passing: GateResult = { metric: "failover.latencyMs", operator: "<", threshold: 30000, expected: "< 30000", actual: 1190, pass: true };
const failing: GateResult = { metric: "writes.lostAcknowledged", operator: "==", threshold: 0, expected: "== 0", actual: 3, pass: false };
const unmeasured: GateResult = { metric: "availability.ratio", operator: ">=", threshold: 0.99, expected: ">= 0.99", actual: null, pass: false };

/** A run that started, completed, met its steady state, and whose checkers all finished. */
function completed(overrides: Partial<VerdictInput> = {}): VerdictInput {
  return { started: true, runEnd: { status: "completed" }, steadyStateFailure: null, crashed: [], gates: [passing], ...overrides };
}

describe("decideVerdict", () => {
  it("passes a completed run whose gates all hold, with no reason", () => {
    expect(decideVerdict(completed())).toEqual({ verdict: "pass", reason: null });
  });

  it("passes a completed run with no gates: it is reported, not judged", () => {
    expect(decideVerdict(completed({ gates: [] }))).toEqual({ verdict: "pass", reason: null });
  });

  it("deviates when a gate fails, naming each failed gate and its actual value", () => {
    expect(decideVerdict(completed({ gates: [passing, failing, unmeasured] }))).toEqual({
      verdict: "deviated",
      reason: "2 gates failed: writes.lostAcknowledged == 0 (actual 3); availability.ratio >= 0.99 (actual not measured)",
    });
  });

  it("is errored without a run-start, saying the last line was cut short when it was", () => {
    expect(decideVerdict(completed({ started: false }))).toEqual({
      verdict: "errored",
      reason: "the history has no run-start event: it is not a pgdrill history or it was cut off",
    });
    expect(decideVerdict(completed({ started: false, runEnd: null, truncated: true })).reason).toBe(
      "the history has no run-start event (its last line was cut short): it is not a pgdrill history or it was cut off",
    );
  });

  it("is errored without a run-end: the harness was killed", () => {
    expect(decideVerdict(completed({ runEnd: null, truncated: true }))).toEqual({
      verdict: "errored",
      reason: "the history has no run-end (its last line was cut short): the harness was killed or crashed mid-run; numbers cover what was recorded",
    });
  });

  it.each(["errored", "aborted"] as const)("is errored when the run ended %s, with its error when it has one", (status) => {
    expect(decideVerdict(completed({ runEnd: { status, error: "docker went away" } })).reason).toBe(`the run ${status}: docker went away`);
    expect(decideVerdict(completed({ runEnd: { status } })).reason).toBe(`the run ${status}`);
  });

  it("is errored when the steady state was not met", () => {
    expect(decideVerdict(completed({ steadyStateFailure: { message: "steady state: availability 50.0% (1/2), required 100.0%" } }))).toEqual({
      verdict: "errored",
      reason: "steady state not met before any fault: steady state: availability 50.0% (1/2), required 100.0%",
    });
  });

  it("is errored when a checker crashed, even if every gate passes; each crash is listed", () => {
    const crashed = [
      { check: "availability", reason: "checker crashed: boom" },
      { check: "roles", reason: "checker crashed: bang" },
    ];
    expect(decideVerdict(completed({ crashed }))).toEqual({ verdict: "errored", reason: "availability checker crashed: boom; roles checker crashed: bang" });
  });

  it("takes the worst first: an errored run is errored whatever its gates say, and the first reason wins", () => {
    const everythingWrong = completed({
      runEnd: { status: "aborted", error: "SIGINT" },
      steadyStateFailure: { message: "too few ok" },
      crashed: [{ check: "writes", reason: "checker crashed: x" }],
      gates: [failing],
    });
    expect(decideVerdict(everythingWrong)).toEqual({ verdict: "errored", reason: "the run aborted: SIGINT" });
    expect(decideVerdict({ ...everythingWrong, runEnd: { status: "completed" } }).reason).toBe("steady state not met before any fault: too few ok");
    expect(decideVerdict({ ...everythingWrong, runEnd: { status: "completed" }, steadyStateFailure: null }).reason).toBe("writes checker crashed: x");
  });
});

describe("describeFailedGates", () => {
  it("says one gate in the singular, and fractions to four decimals", () => {
    expect(describeFailedGates([{ ...unmeasured, actual: 0.973125 }])).toBe("1 gate failed: availability.ratio >= 0.99 (actual 0.9731)");
  });
});
