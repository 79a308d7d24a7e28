import { convert } from "xmlbuilder2";
import { describe, expect, it } from "vitest";
import { renderJunit } from "../../harness/report/junit.ts";
import type { RunResult } from "../../harness/result.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { reportModel } from "../../harness/report/model.ts";

type Json = Record<string, unknown>;
const parse = (xml: string) => convert(xml, { format: "object" }) as Json;
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
/** xmlbuilder2's object conversion leaves entities in attribute values encoded. */
const text = (value: unknown) =>
  String(value).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");

describe("JUnit report", () => {
  it("has one testcase per gate, with actual vs expected on a failed gate", () => {
    const result = deviatedResult();
    const suites = parse(renderJunit(reportModel(result))).testsuites as Json;
    const suite = suites.testsuite as Json;
    const testcases = asList(suite.testcase as Json | Json[]);
    expect(testcases).toHaveLength(result.gates.length);
    const failed = result.gates.filter((gate) => !gate.pass);
    expect(failed.length).toBeGreaterThan(0);
    expect(suites["@failures"]).toBe(String(failed.length));
    for (const gate of result.gates) {
      const testcase = testcases.find((tc) => text(tc["@name"]) === `${gate.metric} ${gate.expected}`)!;
      expect(testcase).toBeDefined();
      if (gate.pass) expect(testcase.failure).toBeUndefined();
      else expect(text((testcase.failure as Json)["@message"])).toMatch(new RegExp(`^${gate.metric.replace(".", "\\.")} was .*, expected ${gate.expected}`));
    }
  });

  it("reports an errored run as an error, not as failed gates", () => {
    const errored: RunResult = { ...deviatedResult(), verdict: "errored", reason: "run errored: steady state not met", gates: [] };
    const suites = parse(renderJunit(reportModel(errored))).testsuites as Json;
    expect(suites["@errors"]).toBe("1");
    const testcase = (suites.testsuite as Json).testcase as Json;
    expect((testcase.error as Json)["@message"]).toBe("run errored: steady state not met");
  });

  it("writes one testsuite per trial", () => {
    const xml = renderJunit([deviatedResult(), { ...deviatedResult(), runId: "second" }].map((result) => reportModel(result)));
    const suites = asList((parse(xml).testsuites as Json).testsuite as Json[]);
    expect(suites.map((suite) => suite["@name"])).toEqual([expect.stringMatching(/\(trial 1\)$/), expect.stringMatching(/\(trial 2\)$/)]);
  });

  it("escapes text from the run", () => {
    const result: RunResult = { ...deviatedResult(), verdict: "errored", reason: 'broke: <b>&"', gates: [] };
    const xml = renderJunit(reportModel(result));
    expect(xml).not.toContain("<b>");
    const testcase = ((parse(xml).testsuites as Json).testsuite as Json).testcase as Json;
    expect(text((testcase.error as Json)["@message"])).toBe('broke: <b>&"');
  });
});
