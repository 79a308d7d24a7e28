import { describe, expect, it } from "vitest";
import { availabilityChecker } from "../../harness/checker/availability.ts";
import { history } from "../fixtures/histories/builder.ts";

describe("availability checker", () => {
  it("is ok / (ok + fail + info) of completed operations: 3 ok and 1 fail is 0.75", () => {
    const events = history().start().select1(0, "ok").select1(100, "ok").select1(200, "fail").select1(300, "ok").end(400).events;
    const { valid, metrics } = availabilityChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ probe: "select1", ratio: 0.75, ok: 3, fail: 1, info: 0 });
  });

  it("counts info as not available and ignores operations that never completed", () => {
    const events = history().start().select1(0, "ok").select1(100, "info").select1(200, "pending").end(400).events;
    expect(availabilityChecker.check(events).metrics).toMatchObject({ ratio: 0.5, ok: 1, fail: 0, info: 1 });
  });

  it("measures the fault window from operations invoked at or after the first fault", () => {
    const events = history()
      .start()
      .select1(0, "ok")
      .select1(100, "ok")
      .fault(200)
      .select1(200, "fail")
      .select1(300, "ok")
      .fault(350, "pause standby", "inject", "f2")
      .select1(400, "ok")
      .select1(500, "ok")
      .end(600).events;
    const { metrics } = availabilityChecker.check(events);
    expect(metrics.ratio).toBeCloseTo(5 / 6, 10);
    expect(metrics.faultWindowRatio).toBe(0.75);
  });

  it("has no fault-window ratio when no fault was injected", () => {
    const events = history().start().select1(0, "ok").end(100).events;
    expect(availabilityChecker.check(events).metrics.faultWindowRatio).toBeNull();
  });

  it("headlines the first select1 probe, reports every non-role probe, and never counts role probes", () => {
    const events = history()
      .start()
      .write(1, 0, "fail")
      .role(0, "primary", "down")
      .select1(10, "ok")
      .write(2, 100, "ok")
      .end(200).events;
    const { metrics } = availabilityChecker.check(events);
    expect(metrics.probe).toBe("select1");
    expect(metrics.ratio).toBe(1);
    expect(Object.keys(metrics.byProbe)).toEqual(["writes", "select1"]);
    expect(metrics.byProbe.writes).toEqual({ ratio: 0.5, ok: 1, fail: 1, info: 0 });
  });

  it("falls back to the first writes probe when there is no select1 probe", () => {
    const events = history().start().write(1, 0, "ok").write(2, 100, "info").end(200).events;
    expect(availabilityChecker.check(events).metrics).toMatchObject({ probe: "writes", ratio: 0.5 });
  });

  it("is unknown with a null ratio when there were no probe operations", () => {
    const events = history().start().role(0, "primary", "primary").end(100).events;
    const { valid, metrics, reason } = availabilityChecker.check(events);
    expect(valid).toBe("unknown");
    expect(metrics.ratio).toBeNull();
    expect(metrics.probe).toBeNull();
    expect(reason).toMatch(/no select1 or writes/);
  });
});
