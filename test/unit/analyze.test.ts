import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeHistory, analyzeRunDir } from "../../harness/analyze.ts";
import { availabilityChecker } from "../../harness/checker/availability.ts";
import { CHECKERS } from "../../harness/checker/index.ts";
import { InputError } from "../../harness/errors.ts";
import { HistoryFile, readHistory } from "../../harness/history/reader.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { OperationSequencer, type Operation } from "../../harness/history/operations.ts";
import { writeSyntheticHistory } from "../../fixtures/histories/synthetic.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

/** kill at 950, writes fail until the standby is promoted, nothing acknowledged is lost. */
function killDrill(): HistoryBuilder {
  const builder = history().start().steadyState(500);
  for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
  return builder
    .fault(950, "kill primary")
    .write(11, 1000, "info", 500)
    .write(12, 1500, "fail", 10)
    .write(13, 1700, "ok", 20, "standby")
    .finalRead(2500, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
}

const GATE = { "failover.latencyMs": "< 1000", "writes.lostAcknowledged": "== 0" };

describe("analyzeHistory verdicts", () => {
  it("passes when the run completed and every gate holds", () => {
    const result = analyzeHistory(killDrill().end(3000).events, { gate: GATE });
    expect(result).toMatchObject({ verdict: "pass", reason: null, complete: true, scenario: "hand-made", runId: "run-1", durationMs: 3000 });
    expect(result.metrics.failover.latencyMs).toBe(770);
    expect(result.gates.map((gate) => gate.pass)).toEqual([true, true]);
  });

  it("deviates when a gate fails, naming the gate and the actual value", () => {
    const result = analyzeHistory(killDrill().end(3000).events, { gate: { "failover.latencyMs": "< 500" } });
    expect(result.verdict).toBe("deviated");
    expect(result.reason).toBe("1 gate failed: failover.latencyMs < 500 (actual 770)");
  });

  it("passes with an empty gate when nothing errored", () => {
    expect(analyzeHistory(killDrill().end(3000).events, { gate: {} }).verdict).toBe("pass");
  });

  it("is errored and incomplete when the history has no run-end", () => {
    const result = analyzeHistory(killDrill().events, { gate: GATE, truncated: true });
    expect(result).toMatchObject({ verdict: "errored", complete: false, durationMs: 2500 });
    expect(result.reason).toMatch(/no run-end \(its last line was cut short\): the harness was killed/);
    // The numbers still cover what was recorded.
    expect(result.metrics.writes.acknowledged).toBe(11);
  });

  it.each([
    ["errored", "docker went away"],
    ["aborted", "interrupted during the drill"],
  ] as const)("is errored when the run ended %s", (status, error) => {
    const result = analyzeHistory(killDrill().end(3000, status, error).events, { gate: GATE });
    expect(result.verdict).toBe("errored");
    expect(result.reason).toBe(`the run ${status}: ${error}`);
  });

  it("is errored when the steady state was not met", () => {
    const events = history().start().steadyState(500, false).end(600, "errored").events;
    // run-end "errored" comes first in the rules; without it the steady state alone errors the run.
    const withoutEnd = events.map((event): HistoryEvent => (event.kind === "run-end" ? { ...event, status: "completed" } : event));
    const result = analyzeHistory(withoutEnd, { gate: {} });
    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/^steady state not met before any fault: steady state: availability 50\.0%/);
  });

  it("is errored when a checker crashes, even if every gate passes", () => {
    const checkers = { ...CHECKERS, availability: { empty: availabilityChecker.empty, start: () => { throw new Error("boom"); } } };
    const result = analyzeHistory(killDrill().end(3000).events, { gate: GATE, checkers });
    expect(result.verdict).toBe("errored");
    expect(result.reason).toBe("availability checker crashed: boom");
    expect(result.checks.availability?.valid).toBe("unknown");
    expect(result.gates.every((gate) => gate.pass)).toBe(true);
  });

  it("deviates, not errors, when a gated metric is unknown for lack of data (no final read)", () => {
    const events = killDrill().events.filter((event) => event.kind !== "final-read");
    const result = analyzeHistory([...events, { kind: "run-end", t: 3000, status: "completed" }], { gate: GATE });
    expect(result.checks.writes?.valid).toBe("unknown");
    expect(result.verdict).toBe("deviated");
    expect(result.reason).toBe("1 gate failed: writes.lostAcknowledged == 0 (actual not measured)");
  });
});

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-analyze-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("readHistory", () => {
  it("drops a cut-short last line and says the history was truncated", async () => {
    const dir = tempDir();
    const path = join(dir, "history.jsonl");
    writeFileSync(path, killDrill().jsonl() + '{"kind":"complete","t":26');
    const { events, truncated } = await readHistory(path, TARGET_OBSERVATIONS);
    expect(truncated).toBe(true);
    expect(events).toEqual(killDrill().events);
  });

  it("reads a whole history, skipping blank lines, as not truncated", async () => {
    const path = join(tempDir(), "history.jsonl");
    writeFileSync(path, killDrill().end(3000).jsonl() + "\n");
    const { events, truncated } = await readHistory(path, TARGET_OBSERVATIONS);
    expect(truncated).toBe(false);
    expect(events.at(-1)).toEqual({ kind: "run-end", t: 3000, status: "completed" });
  });

  it("refuses a corrupt line in the middle, naming its line number", async () => {
    const path = join(tempDir(), "history.jsonl");
    const lines = killDrill().end(3000).jsonl().split("\n");
    lines[2] = "{not json";
    writeFileSync(path, lines.join("\n"));
    await expect(readHistory(path, TARGET_OBSERVATIONS)).rejects.toThrow(InputError);
    await expect(readHistory(path, TARGET_OBSERVATIONS)).rejects.toThrow(/history\.jsonl:3: is not a History event \(.*\)\. Only the last line/);
  });

  it("refuses a line that is JSON but not an event", async () => {
    const path = join(tempDir(), "history.jsonl");
    writeFileSync(path, '{"kind":"run-start"}\n{"kind":"run-end","t":1,"status":"completed"}\n');
    await expect(readHistory(path, TARGET_OBSERVATIONS)).rejects.toThrow(/:1: is not a History event \(no number "t"\)/);
  });

  it("names a missing file and says what to pass", async () => {
    await expect(readHistory(join(tempDir(), "nope.jsonl"), TARGET_OBSERVATIONS)).rejects.toThrow(/nope\.jsonl: does not exist or cannot be read\. Pass a run directory/);
  });

  it("scans line by line, and reads an operation's time without parsing it", async () => {
    const path = join(tempDir(), "history.jsonl");
    writeFileSync(path, killDrill().end(3000).jsonl());
    const file = new HistoryFile(path, TARGET_OBSERVATIONS);
    const kinds: string[] = [];
    const fastTimes: Array<number | null> = [];
    await file.scan((line) => {
      const event = line.parse();
      kinds.push(event.kind);
      fastTimes.push(line.operationTime());
      if (event.kind === "invoke" || event.kind === "complete") expect(line.operationTime()).toBe(event.t);
    });
    expect(kinds[0]).toBe("run-start");
    expect(kinds.at(-1)).toBe("run-end");
    expect(fastTimes[0]).toBeNull();
    expect(fastTimes.filter((t) => t !== null).length).toBe(kinds.filter((kind) => kind === "invoke" || kind === "complete").length);
    expect(file.truncated).toBe(false);
  });

  it("finds a line that straddles two read chunks, and a last line with no newline", async () => {
    const path = join(tempDir(), "history.jsonl");
    const filler = `{"kind":"phase","t":1,"phase":"drill","note":"${"x".repeat(1_500_000)}"}`;
    writeFileSync(path, `${filler}\n${killDrill().end(3000).jsonl().trimEnd()}`);
    const { events, truncated } = await readHistory(path, TARGET_OBSERVATIONS);
    expect(events).toHaveLength(killDrill().end(3000).events.length + 1);
    expect(events.at(-1)).toEqual({ kind: "run-end", t: 3000, status: "completed" });
    expect(truncated).toBe(false);
  });
});

describe("streamed analysis", () => {
  it("gives the same result from the file (two passes, folds) as from the History in memory", async () => {
    const dir = join(tempDir(), "run");
    const synthetic = await writeSyntheticHistory(dir, { events: 30_000 });
    const streamed = await analyzeRunDir(dir, { formats: ["json"] });
    const { events } = await readHistory(join(dir, "history.jsonl"), TARGET_OBSERVATIONS);
    const gate = JSON.parse(readFileSync(join(dir, "scenario.json"), "utf8")).gate;
    expect(streamed).toEqual(analyzeHistory(events, { gate }));
    expect(streamed.metrics.writes.lostAcknowledged).toBe(synthetic.expected.lostAcknowledged);
    expect(streamed.metrics.failover.faultAtMs).toBe(synthetic.expected.faultAtMs);
  });

  it("hands operations on in invoke order, holding them only as long as it must", () => {
    const out: Operation[] = [];
    const sequencer = new OperationSequencer((operation) => out.push(operation), { holdMs: 100 });
    const invoke = (op: number, t: number) => sequencer.add({ kind: "invoke", t, probe: "p", type: "select1", worker: op, op });
    const complete = (op: number, t: number) => sequencer.add({ kind: "complete", t, probe: "p", type: "select1", worker: op, op, outcome: "ok", latencyMs: 1 });
    invoke(1, 0);
    invoke(2, 10);
    complete(2, 11);
    expect(out).toEqual([]); // 1 is still in flight
    complete(1, 50);
    expect(out).toEqual([]); // nothing invoked 100 ms later yet: a late line could still come before them
    invoke(3, 5); // out of order, within the hold: put between 1 and 2
    complete(3, 6);
    invoke(4, 200);
    expect(out.map((operation) => operation.op)).toEqual([1, 3, 2]);
    sequencer.finish();
    expect(out.map((operation) => [operation.op, operation.outcome])).toEqual([[1, "ok"], [3, "ok"], [2, "ok"], [4, null]]);
  });
});

describe("analyzeRunDir", () => {
  function runDir(builder: HistoryBuilder, gate: Record<string, string>): string {
    const dir = tempDir();
    writeFileSync(join(dir, "history.jsonl"), builder.jsonl());
    writeFileSync(join(dir, "scenario.json"), JSON.stringify({ name: "hand-made", duration: "10s", gate }, null, 2));
    return dir;
  }

  it("reads history.jsonl and the gate from scenario.json, and writes result.json and report.md", async () => {
    const dir = runDir(killDrill().end(3000), GATE);
    const result = await analyzeRunDir(dir);
    expect(result.verdict).toBe("pass");
    expect(JSON.parse(readFileSync(join(dir, "result.json"), "utf8"))).toEqual(result);
    const report = readFileSync(join(dir, "report.md"), "utf8");
    expect(report).toMatch(/^## ✅ hand-made: pass/);
    expect(report).toContain("| ✅ | `failover.latencyMs` | < 1000 | 770 |");
  });

  it("lets --gate overrides replace the scenario's gate", async () => {
    const dir = runDir(killDrill().end(3000), GATE);
    const result = await analyzeRunDir(dir, { gateOverrides: ["failover.latencyMs<700"] });
    expect(result.verdict).toBe("deviated");
    expect(result.gates.map((gate) => gate.expected)).toEqual(["<700", "== 0"]);
  });

  it("analyses a history whose run-end was cut off as errored and incomplete", async () => {
    const dir = runDir(killDrill(), GATE);
    appendFileSync(join(dir, "history.jsonl"), '{"kind":"run-end","t":30');
    const result = await analyzeRunDir(dir);
    expect(result).toMatchObject({ verdict: "errored", complete: false });
    expect(readFileSync(join(dir, "report.md"), "utf8")).toContain("**incomplete history**");
  });

  it("stops when interrupted and writes an errored result saying so, leaving the history as it was", async () => {
    const dir = runDir(killDrill().end(3000), GATE);
    const before = readFileSync(join(dir, "history.jsonl"), "utf8");
    const interrupt = new AbortController();
    interrupt.abort(new Error("interrupted by SIGINT"));
    const result = await analyzeRunDir(dir, { signal: interrupt.signal });
    expect(result).toMatchObject({ verdict: "errored", runId: "run-1", scenario: "hand-made", gates: [] });
    expect(result.reason).toMatch(/the analysis was interrupted before it finished.*run `pgdrill report .*` to analyse it/);
    expect(JSON.parse(readFileSync(join(dir, "result.json"), "utf8"))).toEqual(result);
    expect(readFileSync(join(dir, "junit.xml"), "utf8")).toMatch(/analysis was interrupted/);
    expect(readFileSync(join(dir, "history.jsonl"), "utf8")).toBe(before);
    // Analysing again without the interrupt gives the real numbers.
    expect((await analyzeRunDir(dir)).verdict).toBe("pass");
  });

  it("refuses a run directory without scenario.json, and a bad gate in it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "history.jsonl"), killDrill().end(3000).jsonl());
    await expect(analyzeRunDir(dir)).rejects.toThrow(/scenario\.json: does not exist/);
    writeFileSync(join(dir, "scenario.json"), JSON.stringify({ gate: { "availability.ratio": "about 1" } }));
    await expect(analyzeRunDir(dir)).rejects.toThrow(/scenario\.json: gate\.availability\.ratio: must be a comparison/);
  });
});
