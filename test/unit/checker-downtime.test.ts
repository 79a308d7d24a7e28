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
    expect(windows[0]).toEqual({ probe: "select1", startMs: 200, endMs: 505, durationMs: 305, open: false, failures: 3 });
  });

  it("leaves a window that never recovers open, ending at the probe's last observation", () => {
    const { windows } = downtimeChecker.check(events).metrics;
    expect(windows[1]).toEqual({ probe: "select1", startMs: 600, endMs: 605, durationMs: 5, open: true, failures: 1 });
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
    expect(windows).toEqual([{ probe: "select1", startMs: 100, endMs: 305, durationMs: 205, open: false, failures: 3 }]);
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
