/** The one sentence atop report.md and report.html, from hand-made Histories analysed for real. */
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { ContextBuilder } from "../../harness/history/context.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { runSentence } from "../../harness/report/sentence.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { history } from "../fixtures/histories/builder.ts";
import { reportModel } from "../../harness/report/model.ts";

function contextOf(events: readonly HistoryEvent[]) {
  const builder = new ContextBuilder();
  for (const event of events) builder.add(event);
  return builder.finish();
}

/** A pause of the primary for `pauseMs` from t=1000: writes and reads fail, then recover on the same primary. */
function pausedPrimary(pauseMs: number) {
  const b = history().start().steadyState(500);
  for (let t = 0; t < 1000; t += 100) b.write(t / 100 + 1, t, "ok").select1(t, "ok", 1);
  b.fault(1000, "pause primary", "inject", "f1").write(11, 1000, "info", pauseMs).select1(1000, "fail", pauseMs);
  b.fault(1000 + pauseMs, "pause primary", "heal", "f1");
  const after = 1000 + pauseMs + 10;
  b.write(12, after, "ok", 5).select1(after, "ok", 2).finalRead(after + 500, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]).end(after + 1000);
  return b.events;
}

describe("the report's one-sentence summary", () => {
  it("says what was done and for how long, what clients saw, that the same primary came back, and that nothing was lost", () => {
    const events = pausedPrimary(3000);
    const result = analyzeHistory(events, { gate: {} });
    const sentence = runSentence(result, contextOf(events));
    expect(sentence).toMatch(/^Pause primary for 3\.00 s: clients were down 3\.\d+ s \(select1\); no failover: recovered on the same primary in 3\.\d+ s; no acknowledged write lost\.$/);
  });

  it("names a failover and the writes it lost", () => {
    const result = deviatedResult();
    const sentence = runSentence(result, contextOf(deviatedEvents()));
    expect(sentence).toMatch(/^Kill primary: clients were down [\d.]+ m?s \(select1\); failover [\d.]+ m?s → standby; 1 acknowledged write lost\.$/);
  });

  it("lists what was done in the order it began, not the order the History recorded it", () => {
    const b = history().start().steadyState(500);
    for (let t = 0; t < 1000; t += 100) b.write(t / 100 + 1, t, "ok").select1(t, "ok", 1);
    // A promote that began after the kill but was recorded first (an inject is recorded when it finishes).
    b.events.push({ kind: "action", t: 1100, phase: "start", id: "a1", action: "promote", label: "promote standby", node: "standby" });
    b.fault(1000, "kill primary");
    b.finalRead(1500, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).end(2000);
    const result = analyzeHistory(b.events, { gate: {} });
    expect(runSentence(result, contextOf(b.events))).toMatch(/^Kill primary, then promote standby: /);
  });

  it("says no fault once when none was injected", () => {
    const b = history().start().steadyState(500);
    for (let t = 0; t < 1000; t += 100) b.write(t / 100 + 1, t, "ok").select1(t, "ok", 1);
    b.finalRead(1500, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).end(2000);
    const result = analyzeHistory(b.events, { gate: {} });
    expect(runSentence(result, contextOf(b.events))).toBe("No fault injected: clients saw no downtime (select1); no acknowledged write lost.");
  });

  it("stands under report.md's heading when the History's context is given, and not without it", () => {
    const events = pausedPrimary(1000);
    const result = analyzeHistory(events, { gate: {} });
    const lines = renderMarkdown(reportModel(result, { history: contextOf(events), points: [] })).split("\n");
    expect(lines[2]).toMatch(/^Pause primary for 1\.00 s: /);
    expect(renderMarkdown(reportModel(result)).split("\n")[2]).not.toMatch(/^Pause primary/);
  });
});

/** The same History deviatedResult() analyses (a kill, a promotion, one lost write). */
function deviatedEvents(): HistoryEvent[] {
  const b = history().start().steadyState(500);
  b.fault(950, "kill primary");
  return b.events;
}
