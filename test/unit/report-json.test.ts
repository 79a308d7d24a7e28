import { describe, expect, it } from "vitest";
import { RENDERERS } from "../../harness/report/index.ts";
import type { RunResult } from "../../harness/result.ts";
import { renderJson } from "../../harness/report/json.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { reportModel } from "../../harness/report/model.ts";

describe("JSON report", () => {
  it("round-trips the RunResult and ends with a newline", () => {
    const result = deviatedResult();
    const text = renderJson(reportModel(result));
    expect(JSON.parse(text)).toEqual(result);
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("is stable: fixed top-level key order and byProbe maps sorted by probe name", () => {
    const result = deviatedResult();
    const shuffled = Object.fromEntries(Object.entries(result).reverse()) as unknown as RunResult;
    expect(Object.keys(shuffled)[0]).toBe("gates");
    expect(renderJson(reportModel(shuffled))).toBe(renderJson(reportModel(result)));
    const parsed = JSON.parse(renderJson(reportModel(result)));
    expect(Object.keys(parsed)).toEqual(["scenario", "runId", "target", "startedAt", "durationMs", "verdict", "reason", "complete", "checks", "metrics", "gates"]);
    // The checkers list probes in order of appearance (writes first here); the file sorts them.
    expect(Object.keys(result.metrics.latency.byProbe)).toEqual(["writes", "select1", "role"]);
    expect(Object.keys(parsed.metrics.latency.byProbe)).toEqual(["role", "select1", "writes"]);
  });

  it("is one of the renderers written into the run directory", () => {
    expect(RENDERERS.json.file).toBe("result.json");
    expect(RENDERERS.markdown.file).toBe("report.md");
  });
});
