import { describe, expect, it } from "vitest";
import { downtimeChecker } from "../../harness/checker/downtime.ts";
import { history } from "../fixtures/histories/builder.ts";

describe("downtime checker", () => {
  const events = history()
    .start()
    .select1(0, "ok")
    .select1(100, "ok")
    .select1(200, "fail")
    .select1(300, "info")
    .select1(400, "fail")
    .select1(500, "ok")
    .select1(600, "fail", 5)
    .end(9000).events;

  it("opens a window at the first non-ok invoke and closes it when the next ok operation completes", () => {
    const { windows } = downtimeChecker.check(events).metrics;
    expect(windows[0]).toMatchObject({ probe: "select1", startMs: 200, endMs: 505, durationMs: 305, open: false, failures: 3, stalls: 0 });
  });

  it("leaves a window that never recovers open, ending at the probe's last observation", () => {
    const { windows } = downtimeChecker.check(events).metrics;
    expect(windows[1]).toMatchObject({ probe: "select1", startMs: 600, endMs: 605, durationMs: 5, open: true, failures: 1 });
  });

  it("totals the headline probe's windows", () => {
    expect(downtimeChecker.check(events).metrics).toMatchObject({ totalMs: 310, longestMs: 305 });
  });

  it("orders operations by invoke time, so a slow failure does not split a window", () => {
    // Worker 1's op invoked at 150 fails late, at 900; by invoke order it belongs between 100 and 200.
    const interleaved = history()
      .start()
      .op("select1", "select1", 0, 5, "ok")
      .op("select1", "select1", 100, 105, "fail")
      .op("select1", "select1", 200, 205, "fail")
      .op("select1", "select1", 300, 305, "ok")
      .op("select1", "select1", 150, 900, "info", { worker: 1 })
      .end(1000).events;
    const { windows } = downtimeChecker.check(interleaved).metrics;
    expect(windows).toEqual([
      // The slow unknown from worker 1 completes after worker 0's success: the end stays exact.
      { probe: "select1", startMs: 100, endMs: 305, durationMs: 205, open: false, failures: 3, stalls: 0, startLowerMs: 5, startUpperMs: 105, endLowerMs: 305, durationLowerMs: 200, durationUpperMs: 300 },
    ]);
  });

  it("bounds each edge by what the probe saw around it: the start between the last ok completion and the first failure's, the end after the last failure", () => {
    const { windows } = downtimeChecker.check(events).metrics;
    // Served at 105 (the ok invoked at 100); the failure invoked at 200 was refused by 205, by
    // something that struck while it was in flight. Unserved at 405 (the last failure's completion);
    // served at 505.
    expect(windows[0]).toMatchObject({ startLowerMs: 105, startMs: 200, startUpperMs: 205, endLowerMs: 405, endMs: 505, durationLowerMs: 200, durationUpperMs: 400 });
    // Open: within the observed span it was seen down to its end, so the end is exact; its one
    // failure may have struck as late as its completion, so it may have lasted no time at all.
    expect(windows[1]).toMatchObject({ startLowerMs: 505, startMs: 600, startUpperMs: 605, endLowerMs: 605, endMs: 605, durationLowerMs: 0, durationUpperMs: 100 });
    for (const window of windows) {
      expect(window.startLowerMs).toBeLessThanOrEqual(window.startMs);
      expect(window.startUpperMs).toBeGreaterThanOrEqual(window.startMs);
      expect(window.endLowerMs).toBeLessThanOrEqual(window.endMs);
      expect(window.durationLowerMs).toBeLessThanOrEqual(window.durationMs);
      expect(window.durationUpperMs).toBeGreaterThanOrEqual(window.durationMs);
    }
    expect(downtimeChecker.check(events).metrics).toMatchObject({ totalMs: 310, totalLowerMs: 200, totalUpperMs: 500 });
  });

  it("a window opened by the probe's first operation cannot start earlier than it", () => {
    const first = history().start().select1(0, "fail").select1(100, "ok").end(200).events;
    expect(downtimeChecker.check(first).metrics.windows).toEqual([
      { probe: "select1", startMs: 0, endMs: 105, durationMs: 105, open: false, failures: 1, stalls: 0, startLowerMs: 0, startUpperMs: 5, endLowerMs: 5, durationLowerMs: 0, durationUpperMs: 105 },
    ]);
  });

  describe("stalls past the probe's slo", () => {
    const slo = (sloMs?: number) => ({ probes: [{ name: "select1", type: "select1" as const, everyMs: 100, timeoutMs: 5000, ...(sloMs === undefined ? {} : { sloMs }) }] });

    it("an ok operation slower than the slo is a window from invoke + slo to its completion, its end exact", () => {
      const stalled = history().start(slo(1000)).select1(0, "ok").select1(100, "ok").select1(200, "ok", 3000).select1(3300, "ok").end(4000).events;
      const { windows, totalMs } = downtimeChecker.check(stalled).metrics;
      expect(windows).toEqual([
        // Served at 105, so a client invoking right after it was past its slo from 1105 on.
        { probe: "select1", startMs: 1200, endMs: 3200, durationMs: 2000, open: false, failures: 0, stalls: 1, startLowerMs: 1105, startUpperMs: 1200, endLowerMs: 3200, durationLowerMs: 2000, durationUpperMs: 2095 },
      ]);
      expect(totalMs).toBe(2000);
    });

    it("an ok operation within the slo is served, however slow", () => {
      const slow = history().start(slo(1000)).select1(0, "ok").select1(100, "ok", 1000).select1(1200, "ok", 999).end(3000).events;
      expect(downtimeChecker.check(slow).metrics.windows).toEqual([]);
    });

    it("a stall after failures extends their window to its completion", () => {
      const mixed = history().start(slo(500)).select1(0, "ok").select1(100, "fail").select1(200, "ok", 1500).select1(1800, "ok").end(2000).events;
      expect(downtimeChecker.check(mixed).metrics.windows).toEqual([
        { probe: "select1", startMs: 100, endMs: 1700, durationMs: 1600, open: false, failures: 1, stalls: 1, startLowerMs: 5, startUpperMs: 105, endLowerMs: 1700, durationLowerMs: 1595, durationUpperMs: 1695 },
      ]);
    });

    it("without an slo (or in a history from before they were recorded) no operation is a stall", () => {
      const build = (options: ReturnType<typeof slo> | undefined) => history().start(options).select1(0, "ok").select1(100, "ok", 3000).end(4000).events;
      expect(downtimeChecker.check(build(slo())).metrics.windows).toEqual([]);
      expect(downtimeChecker.check(build(undefined)).metrics.windows).toEqual([]);
    });

    it("reads each probe's own slo", () => {
      const two = history()
        .start({ probes: [{ name: "select1", type: "select1", everyMs: 100, timeoutMs: 5000 }, { name: "writes", type: "write", everyMs: 100, timeoutMs: 5000, sloMs: 100 }] })
        .select1(0, "ok", 400)
        .write(1, 0, "ok", 400)
        .end(1000).events;
      const { windows, byProbe } = downtimeChecker.check(two).metrics;
      expect(windows).toMatchObject([{ probe: "writes", startMs: 100, endMs: 400, stalls: 1 }]);
      expect(byProbe.select1!.totalMs).toBe(0);
      expect(byProbe.writes!.totalMs).toBe(300);
    });
  });

  it("lists other probes' windows but totals only the headline's, and ignores role probes", () => {
    const mixed = history()
      .start()
      .select1(0, "ok")
      .write(1, 0, "fail")
      .write(2, 100, "ok")
      .role(0, "primary", "down")
      .role(100, "primary", "primary")
      .select1(100, "ok")
      .end(200).events;
    const { metrics } = downtimeChecker.check(mixed);
    expect(metrics.windows.map((window) => window.probe)).toEqual(["writes"]);
    expect(metrics.totalMs).toBe(0);
  });
});
