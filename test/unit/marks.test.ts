/**
 * Marks: the History event and its validation, the desk and the request file (`pgdrill mark`,
 * `pgdrill confirm`), the keyboard's keys, and how report.md and report.html draw them.
 */
import { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { Keyboard } from "../../harness/cli/keys.ts";
import { InputError } from "../../harness/errors.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { eventProblem as problemWith } from "../../harness/history/validate.ts";
import { renderHtml } from "../../harness/report/html-page.ts";
import { reportContextOf } from "../../harness/report/index.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { operatorMoments } from "../../harness/report/timeline.ts";
import { sendOperatorRequest } from "../../harness/cli/operator-client.ts";
import { OperatorDesk } from "../../harness/operator/desk.ts";
import { cleanNote, watchOperatorRequests, type OperatorRequest } from "../../harness/operator/requests.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import { history } from "../fixtures/histories/builder.ts";
import { reportModel } from "../../harness/report/model.ts";

const eventProblem = (value: unknown) => problemWith(value, TARGET_OBSERVATIONS);

describe("mark events in the History", () => {
  it("are validated: a note and who made it", () => {
    expect(eventProblem({ kind: "mark", t: 1, note: "deleted the primary pod", by: "keyboard" })).toBeNull();
    expect(eventProblem({ kind: "mark", t: 1, note: "x", by: "command" })).toBeNull();
    expect(eventProblem({ kind: "mark", t: 1, by: "keyboard" })).toBe('a mark event\'s "note" must be a string, got nothing');
    expect(eventProblem({ kind: "mark", t: 1, note: "x", by: "phone" })).toBe('a mark event\'s "by" must be one of keyboard, command, got "phone"');
  });

  it("notes are one printable line of at most 200 characters", () => {
    expect(cleanNote("  deleted\tthe\u0007 primary\npod  ")).toBe("deleted the primary pod");
    expect(cleanNote("x".repeat(300))).toHaveLength(200);
  });
});

function desk(mode: "ask" | "command" | "auto" | null = "ask") {
  const marks: Array<{ t: number; note: string; by: string }> = [];
  const lines: string[] = [];
  let now = 1000;
  const d = new OperatorDesk({ mode, record: (mark) => marks.push(mark), now: () => now, log: (line) => lines.push(line) });
  return { d, marks, lines, advance: (ms: number) => (now += ms) };
}

describe("the operator desk", () => {
  it("records marks now or at a given moment; a confirmation ends the waiting step, and with none waiting becomes a mark", async () => {
    const { d, marks } = desk();
    d.mark("one", "keyboard");
    d.mark("   ", "keyboard");
    d.mark("two", "command", 900.1234);
    expect(marks).toEqual([{ t: 1000, note: "one", by: "keyboard" }, { t: 900.123, note: "two", by: "command" }]);
    const waiting = d.ask({ id: "m1", say: "do it", timeoutMs: 5000 }, new AbortController().signal);
    expect(d.pending).toMatchObject({ id: "m1" });
    d.take({ type: "confirm", note: "done", pid: 1, at: "" });
    await expect(waiting).resolves.toEqual({ by: "command", note: "done" });
    expect(d.pending).toBeNull();
    d.take({ type: "confirm", note: "", pid: 1, at: "" });
    expect(marks.at(-1)).toMatchObject({ note: "confirm (no manual step was waiting)", by: "command" });
  });

  it("a wait ends with null when its signal aborts (the timeout, or the drill's end)", async () => {
    const { d } = desk();
    const controller = new AbortController();
    const waiting = d.ask({ id: "m1", say: "x", timeoutMs: 1 }, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeNull();
    expect(d.confirm("keyboard")).toBe(false);
  });

  it("the request file: `pgdrill mark` and `pgdrill confirm` lines reach a running drill; a run that ended refuses them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-marks-"));
    writeFileSync(join(dir, "history.jsonl"), `${JSON.stringify({ kind: "run-start", t: 0 })}\n`);
    const got: OperatorRequest[] = [];
    const stop = watchOperatorRequests(dir, (request) => void got.push(request));
    sendOperatorRequest(dir, "mark", "deleted the primary pod");
    sendOperatorRequest(dir, "confirm", "");
    await new Promise((resolve) => setTimeout(resolve, 250));
    sendOperatorRequest(dir, "mark", "written just before the end");
    stop();
    expect(got.map((request) => [request.type, request.type === "not-done" ? request.reason : request.note])).toEqual([["mark", "deleted the primary pod"], ["confirm", ""], ["mark", "written just before the end"]]);
    expect(() => sendOperatorRequest(dir, "mark", "  ")).toThrow(InputError);
    writeFileSync(join(dir, "history.jsonl"), `${JSON.stringify({ kind: "run-end", t: 5, status: "completed" })}\n`, { flag: "a" });
    expect(() => sendOperatorRequest(dir, "mark", "late")).toThrow(/already ended \(completed\)/);
    const empty = join(dir, "nothing");
    mkdirSync(empty);
    expect(() => sendOperatorRequest(empty, "mark", "x")).toThrow(/neither a run directory/);
  });
});

describe("the keyboard", () => {
  function keyboard(mode: "ask" | "command" = "ask") {
    const { d, marks, advance } = desk(mode);
    const prompts: Array<string | null> = [];
    const logs: string[] = [];
    let interrupts = 0;
    const stdin = Object.assign(new EventEmitter(), { isRaw: false, setRawMode() {}, setEncoding() {}, resume() {}, pause() {} }) as unknown as NodeJS.ReadStream;
    const k = new Keyboard({ stdin, view: { log: (line) => logs.push(line), setPrompt: (text) => prompts.push(text) }, interrupt: () => (interrupts += 1) });
    const detach = k.attach(d);
    return { d, k, marks, prompts, logs, advance, detach, interrupts: () => interrupts };
  }

  it("m, a note and Enter mark the moment m was pressed; Backspace edits, Esc cancels, arrow keys are ignored", () => {
    const { k, marks, advance, prompts } = keyboard();
    k.onData("m");
    advance(2500);
    k.onData("deleted the primary poddd\u007f\u007f\r");
    expect(marks).toEqual([{ t: 1000, note: "deleted the primary pod", by: "keyboard" }]);
    expect(prompts).toContain("mark> deleted the primary pod\u2588  (Enter records it, Esc cancels)");
    k.onData("\u001b[Am");
    k.onData("never mind\u001b");
    k.onData("\r");
    expect(marks).toHaveLength(1);
  });

  it("Enter confirms the manual step waiting (not in command mode); Ctrl-C interrupts", async () => {
    const { k, d, interrupts } = keyboard();
    const waiting = d.ask({ id: "m1", say: "Run: kubectl delete pod db-1", timeoutMs: 1000 }, new AbortController().signal);
    k.onData("\r");
    await expect(waiting).resolves.toEqual({ by: "keyboard" });
    k.onData("\u0003");
    expect(interrupts()).toBe(1);
    const command = keyboard("command");
    const controller = new AbortController();
    const held = command.d.ask({ id: "m1", say: "x", timeoutMs: 1000 }, controller.signal);
    command.k.onData("\r");
    expect(command.d.pending).not.toBeNull();
    expect(command.logs.at(-1)).toMatch(/pgdrill confirm/);
    controller.abort();
    await expect(held).resolves.toBeNull();
  });
});

function gameDayHistory(): HistoryEvent[] {
  const h = history().start().steadyState(900);
  h.events.push({ kind: "phase", t: 1000, phase: "drill" });
  for (let t = 1000; t < 6000; t += 100) h.op("select1", "select1", t, t + 5, t >= 3000 && t < 4000 ? "fail" : "ok");
  h.events.push(
    { kind: "mark", t: 1500, note: "starting the exercise | team A", by: "keyboard" },
    { kind: "action", t: 2000, phase: "start", id: "m1", action: "manual", label: "manual: Run: kubectl delete pod db-1" },
    { kind: "fault", t: 3000, phase: "inject", id: "m1", fault: "manual", label: "Run: kubectl delete pod db-1", nodes: [], ok: true },
    { kind: "action", t: 3000, phase: "end", id: "m1", action: "manual", label: "manual: Run: kubectl delete pod db-1", ok: true },
    { kind: "log", t: 3000, level: "info", message: "manual step m1 confirmed by keyboard 1.00 s after it was shown" },
    { kind: "action", t: 4500, phase: "start", id: "m2", action: "manual", label: "manual: Promote by hand" },
    { kind: "action", t: 5000, phase: "end", id: "m2", action: "manual", label: "manual: Promote by hand", ok: false, error: "not confirmed within 500 ms" },
    { kind: "mark", t: 5200, note: "pgdrill mark from the runbook", by: "command" },
  );
  // In time order, as a drill appends them (stable: an operation before the event at its own t).
  return h.end(6000).events.sort((a, b) => a.t - b.t);
}

describe("marks in the reports", { timeout: 30_000 }, () => {
  it("operatorMoments lists marks and manual steps in time order, with who confirmed", () => {
    expect(operatorMoments(gameDayHistory()).map((m) => [m.t, m.kind, m.text, m.by])).toEqual([
      [1500, "mark", "starting the exercise | team A", "keyboard"],
      [2000, "manual shown", "m1: Run: kubectl delete pod db-1", "schedule"],
      [3000, "manual confirmed", "m1 confirmed after 1.00 s: Run: kubectl delete pod db-1 (a fault from here)", "keyboard"],
      [4500, "manual shown", "m2: Promote by hand", "schedule"],
      [5000, "manual not done", "m2 not confirmed within 500 ms: Promote by hand", ""],
      [5200, "mark", "pgdrill mark from the runbook", "command"],
    ]);
  });

  it("report.md has a marks table (pipes escaped, UTC times); a run without marks has none", () => {
    const events = gameDayHistory();
    const md = renderMarkdown(reportModel(analyzeHistory(events, { gate: {} }), reportContextOf(events)));
    expect(md).toContain("### Marks and manual steps");
    expect(md).toContain("| at | UTC | what | note | by |");
    expect(md).toContain("| 1.50 s | 00:00:01.500 | mark | starting the exercise \\| team A | keyboard |");
    expect(md).toContain("| 3.00 s | 00:00:03.000 | manual confirmed | m1 confirmed after 1.00 s: Run: kubectl delete pod db-1 (a fault from here) | keyboard |");
    const plain = history().start().steadyState(900).op("select1", "select1", 1000, 1005, "ok").end(2000).events;
    expect(renderMarkdown(reportModel(analyzeHistory(plain, { gate: {} }), reportContextOf(plain)))).not.toContain("Marks");
  });

  it("report.html draws each mark as a labelled rule on the timeline, and the confirmed manual step as a fault", async () => {
    const events = gameDayHistory();
    const result = analyzeHistory(events, { gate: {} });
    const html = await renderHtml(reportModel(result, reportContextOf(events)));
    expect(html).toContain("\u270e starting the exercise | team A");
    expect(html).toContain("\u270e pgdrill mark from the runbook");
    expect(html).toContain("#6a3d9a");
    expect(html).toContain("Run: kubectl delete pod db-1");
    // The checkers measured from the confirmation: the outage began at the manual fault.
    expect(result.metrics.downtime.windows[0]!.startMs).toBeGreaterThanOrEqual(3000);
  });
});
