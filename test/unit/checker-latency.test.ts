import { describe, expect, it } from "vitest";
import { latencyChecker } from "../../harness/checker/latency.ts";
import { history } from "../fixtures/histories/builder.ts";

describe("latency checker", () => {
  it("summarises ok operations of non-role probes: count, p50, p90, p99 and max in ms", () => {
    const events = history()
      .start()
      .select1(0, "ok", 1)
      .select1(100, "ok", 2)
      .write(1, 0, "ok", 3)
      .write(2, 100, "ok", 4)
      .select1(200, "fail", 900) // failures are not latency samples
      .role(0, "primary", "primary", 1, 50) // role probes are not client latency
      .end(1000).events;
    const { valid, metrics } = latencyChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ count: 4, p50Ms: 2, p90Ms: 4, p99Ms: 4, maxMs: 4 });
    expect(metrics.byProbe.select1).toEqual({ count: 2, p50Ms: 1, p90Ms: 2, p99Ms: 2, maxMs: 2 });
    expect(metrics.byProbe.role).toMatchObject({ count: 1, maxMs: 50 });
  });

  it("keeps sub-millisecond precision (microseconds in the histogram)", () => {
    const events = history().start().select1(0, "ok", 0.25).select1(100, "ok", 0.25).select1(200, "ok", 0.75).end(1000).events;
    expect(latencyChecker.check(events).metrics).toMatchObject({ p50Ms: 0.25, maxMs: 0.75 });
  });

  it("stays within HDR precision (0.1%) for large values and never reports a percentile above the max", () => {
    const builder = history().start();
    for (let i = 0; i < 100; i += 1) builder.select1(i * 100, "ok", 10_000 + i);
    const { metrics } = latencyChecker.check(builder.end(20_000).events);
    expect(metrics.p50Ms! / 10_049).toBeCloseTo(1, 3);
    expect(metrics.maxMs).toBe(10_099);
    expect(metrics.p99Ms!).toBeLessThanOrEqual(10_099);
  });

  it("is unknown with null percentiles when nothing succeeded", () => {
    const events = history().start().select1(0, "fail").end(100).events;
    const { valid, metrics } = latencyChecker.check(events);
    expect(valid).toBe("unknown");
    expect(metrics).toMatchObject({ count: 0, p50Ms: null, maxMs: null });
  });
});
