import { describe, expect, it } from "vitest";
import { availabilityChecker } from "../../harness/checker/availability.ts";
import { runChecker, type CheckerSpec } from "../../harness/checker/checker.ts";
import { CHECKERS, runChecks } from "../../harness/checker/index.ts";
import type { Metrics } from "../../harness/result.ts";
import { history } from "../fixtures/histories/builder.ts";

const events = history().start().select1(0, "ok").end(100).events;
const crashing: CheckerSpec<Metrics["availability"]> = {
  empty: availabilityChecker.empty,
  start: () => {
    throw new Error("boom");
  },
};

describe("composing checkers", () => {
  it("turns a checker that throws into unknown with the error as the reason, never a pass", () => {
    const run = runChecker(crashing, events);
    expect(run).toMatchObject({ valid: "unknown", crashed: true, reason: "checker crashed: boom" });
    expect(run.metrics.ratio).toBeNull();
  });

  it("runs every checker and reports which crashed, keeping the others' results", () => {
    const { checks, metrics, crashed } = runChecks(events, { ...CHECKERS, availability: crashing });
    expect(Object.keys(checks)).toEqual([
      "availability",
      "downtime",
      "failover",
      "recovery",
      "anatomy",
      "writes",
      "latency",
      "clients",
      "roles",
      "splitBrain",
      "alerts",
      "restore",
      "operator",
      "monitor",
    ]);
    expect(checks.availability).toEqual({ valid: "unknown", reason: "checker crashed: boom" });
    expect(crashed).toEqual([{ check: "availability", reason: "checker crashed: boom" }]);
    expect(metrics.latency.count).toBe(1);
  });

  it("does not call a checker that lacked data crashed", () => {
    const { checks, crashed } = runChecks(events);
    expect(checks.writes.valid).toBe("unknown");
    expect(crashed).toEqual([]);
  });
});
