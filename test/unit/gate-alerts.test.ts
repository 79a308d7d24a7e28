import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { runChecks } from "../../harness/checker/index.ts";
import { InputError } from "../../harness/errors.ts";
import { evaluateGate, metricValue, parseGate, parseGateOverride } from "../../harness/gate/gate.ts";
import { ALERT_GATE_DESCRIPTION, isGateMetric } from "../../harness/gate/metrics.ts";
import type { Metrics } from "../../harness/result.ts";
import { scenarioJsonSchema } from "../../harness/scenario/json-schema.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { alertRule, history } from "../fixtures/histories/builder.ts";

const pg1 = { instance: "pg1:9187" };

/** PostgresDown fired 75 s after a pause at 10 s (healed at 40 s) and resolved 90 s after the heal; its ratio rule never fired. */
function alertMetrics(): Metrics {
  const ratio = alertRule({ alert: "job:pg_up:ratio_low", expr: "avg(pg_up) < 1", metrics: ["pg_up"] });
  const events = history()
    .start()
    .alerting(100, "setup", { source: "started", groupWaitMs: 30_000, rules: [alertRule(), ratio], expect: [], mustNotFire: [] })
    .alerting(5_000, "sample", { alert: "job:pg_up:ratio_low", selectorSeries: { pg_up: 2 } })
    .fault(10_000, "pause primary")
    .alerting(12_000, "sample", { alert: "job:pg_up:ratio_low", selectorSeries: { pg_up: 1 } })
    .alerting(25_000, "alert", { alert: "PostgresDown", labels: pg1, state: "pending", from: "prometheus" })
    .fault(40_000, "pause primary", "heal")
    .alerting(85_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "prometheus" })
    .alerting(115_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "alertmanager" })
    .alerting(130_000, "alert", { alert: "PostgresDown", labels: pg1, state: "resolved", from: "prometheus" })
    .end(140_000).events;
  return runChecks(events).metrics;
}

const base = { name: "x", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "10s" };

describe("gates on the alerts family: alerts.<Alert>.<figure>", () => {
  it("names any alert Prometheus allows, with one of four figures", () => {
    for (const name of ["alerts.PostgresDown.firedAfterMs", "alerts.job:pg_up:ratio_low.pendingAfterMs", "alerts._x.resolvedAfterHealMs"])
      expect(isGateMetric(name), name).toBe(true);
    for (const name of ["alerts.PostgresDown.firedAfter", "alerts.Postgres-Down.firedAfterMs", "alerts.1Down.firedAfterMs", "alerts.firedAfterMs"])
      expect(isGateMetric(name), name).toBe(false);
  });

  it("reads each figure from metrics.alerts.rules by the alert's name", () => {
    const metrics = alertMetrics();
    const gate = parseGate({
      "alerts.PostgresDown.pendingAfterMs": "< 30000",
      "alerts.PostgresDown.firedAfterMs": "< 120000",
      "alerts.PostgresDown.notifiedAfterMs": "<= 100000",
      "alerts.PostgresDown.resolvedAfterHealMs": "< 120000",
    });
    expect(evaluateGate(gate, metrics).map(({ metric, actual, pass }) => ({ metric, actual, pass }))).toEqual([
      { metric: "alerts.PostgresDown.pendingAfterMs", actual: 15_000, pass: true },
      { metric: "alerts.PostgresDown.firedAfterMs", actual: 75_000, pass: true },
      { metric: "alerts.PostgresDown.notifiedAfterMs", actual: 105_000, pass: false },
      { metric: "alerts.PostgresDown.resolvedAfterHealMs", actual: 90_000, pass: true },
    ]);
  });

  it("never passes a figure not measured, and says why: no such rule, an alert that could not fire, no monitoring", () => {
    const metrics = alertMetrics();
    const [absent, vanished] = evaluateGate(
      parseGate({ "alerts.PostgresDwn.firedAfterMs": "> -1", "alerts.job:pg_up:ratio_low.firedAfterMs": "> -1" }),
      metrics,
    );
    expect(absent).toMatchObject({ actual: null, pass: false, note: 'no alerting rule "PostgresDwn" was loaded (rules: PostgresDown, job:pg_up:ratio_low)' });
    expect(vanished).toMatchObject({ actual: null, pass: false });
    expect(vanished!.note).toMatch(/^job:pg_up:ratio_low did not fire after the fault \(cannot fire: pg_up had 2 series before the fault and 1 during it/);
    const plain = runChecks(history().start().fault(1_000).end(2_000).events).metrics;
    expect(evaluateGate(parseGate({ "alerts.PostgresDown.firedAfterMs": "< 1" }), plain)[0]).toMatchObject({
      actual: null,
      pass: false,
      note: "no monitoring in this run",
    });
  });

  it("reads nothing, without throwing, from a result.json written before alerts were checked", () => {
    const { alerts: _, ...older } = alertMetrics();
    expect(metricValue(older as Metrics, "alerts.PostgresDown.firedAfterMs")).toBeNull();
  });

  it("refuses a misspelt figure or a name no alert can have, naming the field and the fix", () => {
    expect(() => parseGate({ "alerts.PostgresDown.firedAfter": "< 1" })).toThrow(InputError);
    expect(() => parseGate({ "alerts.PostgresDown.firedAfter": "< 1" })).toThrow(
      /^gate\.alerts\.PostgresDown\.firedAfter: unknown metric "alerts\.PostgresDown\.firedAfter"\. Did you mean "alerts\.PostgresDown\.firedAfterMs"\? Use one of availability\.ratio, .* or alerts\.<Alert>\.pendingAfterMs\|firedAfterMs\|notifiedAfterMs\|resolvedAfterHealMs/,
    );
    expect(() => parseGate({ "alerts.Postgres-Down.firedAfterMs": "< 1" })).toThrow(/"Postgres-Down" is not an alert's name \(letters, digits, _ and :\)/);
  });

  it("takes a --gate override on an alert whose name holds : and _", () => {
    expect(parseGateOverride("alerts.job:pg_up:ratio_low.firedAfterMs<60000")).toEqual({
      metric: "alerts.job:pg_up:ratio_low.firedAfterMs",
      operator: "<",
      threshold: 60000,
      expected: "<60000",
    });
  });

  it("passes scenario validation, and a misspelt one is refused there with the fix", () => {
    const scenario = validateScenario({ ...base, gate: { "alerts.PostgresDown.firedAfterMs": "< 120000" } }, "s");
    expect(scenario.gate).toEqual({ "alerts.PostgresDown.firedAfterMs": "< 120000" });
    expect(() => validateScenario({ ...base, gate: { "alerts.PostgresDown.resolvedAfterMs": "< 1" } }, "s")).toThrow(
      /unknown metric "alerts\.PostgresDown\.resolvedAfterMs"[\s\S]*Did you mean "alerts\.PostgresDown\.resolvedAfterHealMs"\?/,
    );
  });

  it("is a patternProperties entry of the JSON Schema's gate, which still refuses unknown metrics", () => {
    const schema = scenarioJsonSchema();
    const gate = (schema["properties"] as Record<string, { patternProperties: Record<string, { description: string }> }>)["gate"]!;
    expect(Object.values(gate.patternProperties)).toEqual([expect.objectContaining({ description: ALERT_GATE_DESCRIPTION })]);
    const validate = new Ajv2020({ allErrors: true, strictSchema: true, strictTypes: true, allowUnionTypes: true, strictRequired: false }).compile(schema);
    expect(validate({ ...base, gate: { "alerts.PostgresDown.firedAfterMs": "< 120000", "alerts.job:up:low.pendingAfterMs": "< 1" } })).toBe(true);
    expect(validate({ ...base, gate: { "alerts.PostgresDown.firedAfter": "< 1" } })).toBe(false);
    expect(validate({ ...base, gate: { "alerts.PostgresDown.firedAfterMs": "soon" } })).toBe(false);
    expect(validate({ ...base, gate: { "failover.latency": "< 1" } })).toBe(false);
  });
});
