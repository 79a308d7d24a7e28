import { describe, expect, it } from "vitest";
import { failoverChecker } from "../../harness/checker/failover.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

/** Writes every 100 ms acknowledged by the primary up to t = 900 (ids 1..10). */
function healthyUntil900(): HistoryBuilder {
  const builder = history().start();
  for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
  return builder;
}

describe("failover checker", () => {
  it("measures kill → failing writes → promote → first acknowledged write", () => {
    const events = healthyUntil900()
      .fault(950, "kill primary")
      .write(11, 1000, "info", 500) // cut mid-commit by the kill
      .write(12, 1500, "fail", 10)
      .write(13, 1600, "fail", 10)
      .write(14, 1700, "ok", 20, "standby") // promoted: completes at 1720
      .write(15, 1800, "ok", 5, "standby")
      .end(2000).events;
    const { valid, metrics } = failoverChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toEqual({
      faultAtMs: 950,
      faultLabel: "kill primary",
      latencyMs: 770,
      stableAfterMs: 770,
      originalPrimary: "primary",
      newPrimary: "standby",
    });
  });

  it("blames the latest fault injected before the outage, not the first fault", () => {
    const events = healthyUntil900()
      .fault(300, "partition primary standby", "inject", "f1")
      .fault(950, "kill primary", "inject", "f2")
      .write(11, 1000, "fail")
      .write(12, 1100, "ok", 10, "standby")
      .end(2000).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({ faultAtMs: 950, faultLabel: "kill primary", latencyMs: 160 });
  });

  it("is stable only after the last failed write: a relapse pushes stableAfterMs out", () => {
    const events = healthyUntil900()
      .fault(950)
      .write(11, 1000, "fail")
      .write(12, 1100, "ok", 10, "standby") // first recovery: 1110
      .write(13, 1200, "fail")
      .write(14, 1300, "ok", 7, "standby") // stable from here: 1307
      .end(2000).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({ latencyMs: 160, stableAfterMs: 357 });
  });

  it("reports null latency and is invalid when writes never recovered", () => {
    const events = healthyUntil900().fault(950).write(11, 1000, "fail").write(12, 1100, "info").end(2000).events;
    const { valid, metrics, reason } = failoverChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({ faultAtMs: 950, latencyMs: null, stableAfterMs: null, newPrimary: null });
    expect(reason).toMatch(/never recovered/);
  });

  it("has a null stableAfterMs when writes were failing again at the end", () => {
    const events = healthyUntil900().fault(950).write(11, 1000, "fail").write(12, 1100, "ok").write(13, 1200, "fail").end(2000).events;
    const { valid, metrics } = failoverChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({ latencyMs: 155, stableAfterMs: null });
  });

  it("reports 0 ms and says no outage was observed when the fault did not interrupt writes", () => {
    const events = healthyUntil900().fault(450, "kill standby").end(2000).events;
    const { valid, metrics, reason } = failoverChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ faultAtMs: 450, faultLabel: "kill standby", latencyMs: 0, stableAfterMs: 0, newPrimary: "primary" });
    expect(reason).toMatch(/no outage observed/);
  });

  it("reports 0 ms with no fault time when no fault was injected, even if a write failed", () => {
    const events = healthyUntil900().write(11, 1000, "fail").end(2000).events;
    const { metrics, reason } = failoverChecker.check(events);
    expect(metrics).toMatchObject({ faultAtMs: null, faultLabel: null, latencyMs: 0 });
    expect(reason).toMatch(/no fault injected: no outage observed/);
  });

  it("falls back to the headline select1 probe when there is no writes probe", () => {
    const events = history()
      .start()
      .select1(0, "ok")
      .fault(50)
      .select1(100, "fail")
      .select1(200, "ok", 3, "standby")
      .end(300).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({ latencyMs: 153, newPrimary: "standby" });
  });
});
