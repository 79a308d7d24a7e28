import { describe, expect, it } from "vitest";
import { availabilityChecker } from "../../harness/checker/availability.ts";
import { downtimeChecker } from "../../harness/checker/downtime.ts";
import type { ProbeRecord } from "../../harness/history/events.ts";
import { history } from "../fixtures/histories/builder.ts";

const select1Slo = (sloMs: number): ProbeRecord[] => [{ name: "select1", type: "select1", everyMs: 100, timeoutMs: 5000, sloMs }];

describe("availability checker", () => {
  it("is the share of the observed time served (first invoke → last completion), the operation count beside it", () => {
    // Observed 0 → 305; down from the failure's invoke (200) to the next success (305).
    const events = history().start().select1(0, "ok").select1(100, "ok").select1(200, "fail").select1(300, "ok").end(400).events;
    const { valid, metrics } = availabilityChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ probe: "select1", observedFromMs: 0, observedToMs: 305, observedMs: 305, unavailableMs: 105, operationRatio: 0.75, ok: 3, fail: 1, info: 0, stalled: 0, sloMs: null });
    expect(metrics.ratio).toBe(1 - 105 / 305);
  });

  it("counts info as not served and leaves out operations that never completed", () => {
    // The pending operation invoked at 200 is not observed: the span ends at the last completion (105).
    const events = history().start().select1(0, "ok").select1(100, "info").select1(200, "pending").end(400).events;
    const { metrics } = availabilityChecker.check(events);
    expect(metrics).toMatchObject({ operationRatio: 0.5, ok: 1, fail: 0, info: 1, observedMs: 105, unavailableMs: 5 });
    expect(metrics.ratio).toBe(1 - 5 / 105);
  });

  it("weighs a long freeze by its length, while the operation count barely moves", () => {
    // Every 50 ms for 10 s; a 3 s freeze from 3000 in which each attempt hangs to its 500 ms timeout.
    const b = history().start();
    for (let at = 0; at < 3000; at += 50) b.select1(at, "ok", 2);
    for (let at = 3000; at < 6000; at += 500) b.select1(at, "fail", 500);
    for (let at = 6000; at < 10_000; at += 50) b.select1(at, "ok", 2);
    const { metrics } = availabilityChecker.check(b.end(10_100).events);
    expect(metrics.fail).toBe(6);
    expect(metrics.operationRatio).toBeGreaterThan(0.95);
    expect(metrics.observedMs).toBe(9952);
    expect(metrics.unavailableMs).toBe(3002);
    expect(metrics.ratio).toBeCloseTo(1 - 3000 / 10_000, 2);
  });

  it("counts an ok operation slower than the probe's slo as down for the time beyond it, and one within it as served", () => {
    const build = (latencyMs: number) =>
      history().start({ probes: select1Slo(1000) }).select1(0, "ok").select1(100, "ok", latencyMs).select1(100 + latencyMs + 100, "ok").end(10_000).events;
    const within = availabilityChecker.check(build(900)).metrics;
    expect(within).toMatchObject({ ratio: 1, unavailableMs: 0, stalled: 0, sloMs: 1000, operationRatio: 1 });
    const beyond = availabilityChecker.check(build(3000)).metrics;
    // Invoked at 100, answered at 3100: unserved from 1100 (invoke + slo) to 3100. Observed 0 → 3205.
    expect(beyond).toMatchObject({ unavailableMs: 2000, observedMs: 3205, stalled: 1, ok: 3, operationRatio: 1 });
    expect(beyond.ratio).toBe(1 - 2000 / 3205);
  });

  it("without an slo, a slow ok operation is served (the timeout is the only line)", () => {
    const events = history().start().select1(0, "ok").select1(100, "ok", 3000).end(4000).events;
    expect(availabilityChecker.check(events).metrics).toMatchObject({ ratio: 1, stalled: 0, sloMs: null });
  });

  it("agrees exactly with the downtime windows, for every probe", () => {
    const b = history().start({ probes: [...select1Slo(300), { name: "writes", type: "write", everyMs: 100, timeoutMs: 2000, sloMs: 150 }] });
    const outcomes = ["ok", "ok", "fail", "info", "ok", "slow", "ok", "fail", "slow", "ok", "ok", "slow", "fail", "ok"] as const;
    outcomes.forEach((outcome, index) => {
      const at = index * 700;
      b.select1(at, outcome === "slow" ? "ok" : outcome, outcome === "slow" ? 650 : 7);
      b.write(index + 1, at + 3, outcome === "slow" ? "ok" : outcome === "ok" ? "ok" : "info", outcome === "slow" ? 400 : 11);
    });
    const events = b.fault(2000).end(20_000).events;
    const availability = availabilityChecker.check(events).metrics;
    const downtime = downtimeChecker.check(events).metrics;
    for (const [probe, own] of Object.entries(availability.byProbe)) {
      const down = downtime.byProbe[probe]!;
      expect(own.unavailableMs).toBe(down.totalMs);
      expect(own.ratio).toBe(1 - down.totalMs / own.observedMs);
      expect(own.ratioLower).toBe(1 - down.totalUpperMs / own.observedMs);
      expect(own.ratioUpper).toBe(1 - down.totalLowerMs / own.observedMs);
      expect(own.ratioLower!).toBeLessThanOrEqual(own.ratio!);
      expect(own.ratio!).toBeLessThanOrEqual(own.ratioUpper!);
      expect(own.stalled).toBe(3);
    }
    expect(downtime.windows.some((window) => window.stalls > 0 && window.failures === 0)).toBe(true);
    expect(availability.ratio).toBe(availability.byProbe.select1!.ratio);
    expect(availability.unavailableMs).toBe(downtime.totalMs);
    // Every window lies inside the observed span, bounds included, and none overlaps the next.
    for (const [index, window] of downtime.windows.entries()) {
      const own = availability.byProbe[window.probe]!;
      expect(window.startLowerMs).toBeGreaterThanOrEqual(own.observedFromMs!);
      expect(window.endMs).toBeLessThanOrEqual(own.observedToMs!);
      const next = downtime.windows[index + 1];
      if (next && next.probe === window.probe) expect(next.startLowerMs).toBeGreaterThanOrEqual(window.endMs);
    }
  });

  it("measures the fault window as the share of time from the first disruption, and its operations beside it", () => {
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
    // Observed 0 → 505, down 200 → 305: overall 400 of 505 ms served; from the fault, 200 of 305.
    expect(metrics.ratio).toBe(1 - 105 / 505);
    expect(metrics.faultWindowRatio).toBe(1 - 105 / 305);
    expect(metrics.operationRatio).toBeCloseTo(5 / 6, 10);
    expect(metrics.faultWindowOperationRatio).toBe(0.75);
  });

  it("clips a window that began before the first fault to the fault window", () => {
    const events = history().start().select1(0, "ok").select1(100, "fail").fault(150).select1(200, "ok").select1(300, "ok").end(400).events;
    // Down 100 → 205; from the fault (150) to the last completion (305): 55 of 155 ms down.
    expect(availabilityChecker.check(events).metrics.faultWindowRatio).toBe(1 - 55 / 155);
  });

  it("has no fault-window ratios when no fault was injected", () => {
    const { metrics } = availabilityChecker.check(history().start().select1(0, "ok").end(100).events);
    expect(metrics.faultWindowRatio).toBeNull();
    expect(metrics.faultWindowOperationRatio).toBeNull();
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
    // Writes: observed 0 → 105, down until the success at 105: never seen served.
    expect(metrics.byProbe.writes).toMatchObject({ ratio: 0, operationRatio: 0.5, ok: 1, fail: 1, info: 0, observedMs: 105, unavailableMs: 105 });
  });

  it("falls back to the first writes probe when there is no select1 probe", () => {
    const events = history().start().write(1, 0, "ok").write(2, 100, "info").end(200).events;
    expect(availabilityChecker.check(events).metrics).toMatchObject({ probe: "writes", operationRatio: 0.5, ratio: 1 - 5 / 105 });
  });

  it("is unknown with a null ratio when there were no probe operations", () => {
    const events = history().start().role(0, "primary", "primary").end(100).events;
    const { valid, metrics, reason } = availabilityChecker.check(events);
    expect(valid).toBe("unknown");
    expect(metrics.ratio).toBeNull();
    expect(metrics.operationRatio).toBeNull();
    expect(metrics.probe).toBeNull();
    expect(reason).toMatch(/no select1 or writes/);
  });

  it("is unknown when the headline probe completed no operation", () => {
    const events = history().start().select1(0, "pending").end(100).events;
    const { valid, reason, metrics } = availabilityChecker.check(events);
    expect(valid).toBe("unknown");
    expect(metrics.ratio).toBeNull();
    expect(reason).toBe('probe "select1" completed no operation');
  });
});
