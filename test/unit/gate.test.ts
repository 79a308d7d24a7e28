import { describe, expect, it } from "vitest";
import { runChecks } from "../../harness/checker/index.ts";
import { InputError } from "../../harness/errors.ts";
import { compare, evaluateGate, metricValue, parseGate, parseGateOverride, withOverrides } from "../../harness/gate/gate.ts";
import type { Metrics } from "../../harness/result.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { history } from "../fixtures/histories/builder.ts";

/** Real metrics from a small run: 3 of 4 operations ok, served 200 of its 305 ms, no final read (lostAcknowledged null). */
function metrics(): Metrics {
  const events = history().start().select1(0, "ok").select1(100, "ok").select1(200, "fail").select1(300, "ok").write(1, 0, "ok").end(400).events;
  return runChecks(events).metrics;
}

describe("gate", () => {
  it("parses a scenario gate map in order", () => {
    expect(parseGate({ "availability.ratio": ">= 0.99", "failover.latencyMs": "<30000" })).toEqual([
      { metric: "availability.ratio", operator: ">=", threshold: 0.99, expected: ">= 0.99" },
      { metric: "failover.latencyMs", operator: "<", threshold: 30000, expected: "<30000" },
    ]);
  });

  it("keeps the order a scenario wrote its gates in, through validation", () => {
    const scenario = validateScenario(
      { name: "x", target: { kind: "container-pair" }, probes: [{ kind: "writes" }], duration: "10s", gate: { "writes.lostAcknowledged": "== 0", "availability.ratio": ">= 0.5" } },
      "s",
    );
    expect(parseGate(scenario.gate).map((spec) => spec.metric)).toEqual(["writes.lostAcknowledged", "availability.ratio"]);
  });

  it("compares the metric at its path with each operator", () => {
    const results = evaluateGate(
      parseGate({ "availability.operationRatio": ">= 0.75", "downtime.totalMs": "== 105", "latency.maxMs": "< 5", "writes.acknowledged": "!= 1" }),
      metrics(),
    );
    expect(results.map(({ metric, actual, pass }) => ({ metric, actual, pass }))).toEqual([
      { metric: "availability.operationRatio", actual: 0.75, pass: true },
      { metric: "downtime.totalMs", actual: 105, pass: true },
      { metric: "latency.maxMs", actual: 5, pass: false },
      { metric: "writes.acknowledged", actual: 1, pass: false },
    ]);
    expect([compare(1, "<=", 1), compare(2, ">", 1), compare(1, ">", 1), compare(-1, "<", 0)]).toEqual([true, true, false, true]);
  });

  it("fails a gate whose metric could not be measured (null), whatever the comparison", () => {
    const [lost, notFive] = evaluateGate(parseGate({ "writes.lostAcknowledged": "== 0", "failover.latencyMs": "!= 5" }), {
      ...metrics(),
      failover: { ...metrics().failover, latencyMs: null },
    });
    expect(lost).toMatchObject({ actual: null, pass: false });
    expect(notFive).toMatchObject({ actual: null, pass: false });
  });

  it("refuses an unknown metric or a malformed comparison, naming the field and the fix", () => {
    expect(() => parseGate({ "availability.ratoi": ">= 1" })).toThrow(InputError);
    expect(() => parseGate({ "availability.ratoi": ">= 1" })).toThrow(
      /^gate\.availability\.ratoi: unknown metric "availability\.ratoi"\. Did you mean "availability\.ratio"\? Use one of availability\.ratio, availability\.faultWindowRatio, /,
    );
    // Nothing close: just the list.
    expect(() => parseGate({ "replication.lagMs": "< 5" })).toThrow(/unknown metric "replication\.lagMs"\. Use one of availability\.ratio/);
    expect(() => parseGate({ "availability.ratio": "at least 0.9" })).toThrow(/"at least 0\.9" is not a comparison\. Write it like ">= 0\.99"/);
  });

  it("reads metric values by path, null for what was not measured", () => {
    const m = metrics();
    expect(metricValue(m, "availability.ratio")).toBe(1 - 105 / 305);
    expect(metricValue(m, "availability.operationRatio")).toBe(0.75);
    expect(metricValue(m, "writes.lostAcknowledged")).toBeNull();
  });
});

describe("--gate overrides", () => {
  it("parses a metric and its comparison from one string", () => {
    expect(parseGateOverride("failover.latencyMs<20000")).toEqual({ metric: "failover.latencyMs", operator: "<", threshold: 20000, expected: "<20000" });
    expect(parseGateOverride(" availability.ratio >= 0.9 ")).toMatchObject({ operator: ">=", threshold: 0.9, expected: ">= 0.9" });
  });

  it("refuses a malformed override with an error naming --gate and showing the form", () => {
    const attempt = () => parseGateOverride("latency<");
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(/^--gate: "latency<" is not a metric and a comparison\. Write it like --gate "failover\.latencyMs<20000"/);
    expect(() => parseGateOverride("latency.p95Ms<10")).toThrow(/--gate: unknown metric "latency\.p95Ms" in "latency\.p95Ms<10"\. Did you mean "latency\.p99Ms"\?/);
  });

  it("replaces the scenario's gate on the same metric and appends new ones", () => {
    const merged = withOverrides(parseGate({ "availability.ratio": ">= 0.99", "failover.latencyMs": "< 30000" }), [
      parseGateOverride("failover.latencyMs<20000"),
      parseGateOverride("writes.lostAcknowledged==0"),
    ]);
    expect(merged.map((spec) => `${spec.metric} ${spec.expected}`)).toEqual([
      "availability.ratio >= 0.99",
      "failover.latencyMs <20000",
      "writes.lostAcknowledged ==0",
    ]);
  });
});
