import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { reportModel } from "../../harness/report/model.ts";

describe("Markdown report", () => {
  const markdown = renderMarkdown(reportModel(deviatedResult()));

  it("opens with the verdict and the one-line reason", () => {
    expect(markdown.split("\n")[0]).toBe("## ❌ hand-made: deviated");
    expect(markdown).toContain("**Why:** 2 gates failed: writes.lostAcknowledged == 0 (actual 1); availability.ratio >= 0.9 (actual 0.5875)");
  });

  it("tabulates the key metrics", () => {
    // Served 1000 of its 1702 ms; 11 of 13 operations ok.
    expect(markdown).toContain("| availability (select1) | 58.75% (52.97–70.51%) of 1.70 s observed · operations 84.62% (ok 11, fail 2, info 0) |");
    expect(markdown).toContain("| availability from first fault | 6.65% of the time · 33.33% of operations |");
    expect(markdown).toContain("| downtime | 702.0 ms +98.5 ms/−200.0 ms total, longest 702.0 ms |");
    // The last refused write was sent at 1500, 220 ms before the first acknowledgement.
    expect(markdown).toContain('| failover | 770.0 ms +0/−220.0 ms after "kill primary" at 950.0 ms: primary → standby |');
    expect(markdown).not.toContain("| recovery | 770");
    expect(markdown).toContain("| lost acknowledged writes | **1** (final read on standby; unknown committed 1, failed but present 0) |");
  });

  it("shows each gate with expected and actual values", () => {
    expect(markdown).toContain("| ✅ | `failover.latencyMs` | < 1000 | 770 |");
    expect(markdown).toContain("| ❌ | `availability.ratio` | >= 0.9 | 0.5875 |");
  });

  it("lists downtime windows, lost ids and role changes", () => {
    expect(markdown).toContain("| select1 | 1.00 s | 1.70 s | 702.0 ms +98.5 ms/−200.0 ms | 2 | 0 |");
    expect(markdown).toContain("1 lost, ids: 3");
    expect(markdown).toContain("| 1.60 s | standby | primary | 2 |");
    expect(markdown).toContain('| writes | ❌ invalid | 1 acknowledged write(s) of "writes" missing from the final read on standby |');
  });

  it("caps a long list of lost ids, as ranges", () => {
    const result = deviatedResult();
    const lostIds = Array.from({ length: 200 }, (_, i) => i * 2); // 200 separate ranges
    const capped = renderMarkdown(reportModel({ ...result, metrics: { ...result.metrics, writes: { ...result.metrics.writes, lostAcknowledged: 200, lostIds } } }));
    expect(capped).toContain("200 lost, ids: 0, 2, 4,");
    expect(capped).toContain(", 98, … and 150 more");
  });

  it("escapes pipes in free text so table rows stay intact", () => {
    const result = deviatedResult();
    const text = renderMarkdown(reportModel({ ...result, checks: { ...result.checks, latency: { valid: "unknown", reason: "a | b\nc" } } }));
    expect(text).toContain("| latency | ❔ unknown | a \\| b c |");
  });

  it("says when there are no gates", () => {
    expect(renderMarkdown(reportModel({ ...deviatedResult(), gates: [] }))).toContain("No gates: the verdict only says whether the run completed.");
  });
});

describe("warnings the run recorded", () => {
  it("are listed from the History's warn and error log events, info left out, at most 20 shown", async () => {
    const { history } = await import("../fixtures/histories/builder.ts");
    const { analyzeHistory } = await import("../../harness/analyze.ts");
    const { reportContextOf } = await import("../../harness/report/index.ts");
    const b = history().start();
    for (let id = 1; id <= 5; id += 1) b.write(id, id * 100, "ok");
    b.events.push({ kind: "log", t: 200, level: "warn", message: "probes ran OUTSIDE the cluster | through NodePorts" });
    b.events.push({ kind: "log", t: 250, level: "info", message: "an ordinary line" });
    for (let i = 0; i < 21; i += 1) b.events.push({ kind: "log", t: 300 + i, level: "error", message: `heal failed ${i}` });
    const events = b.end(1000).events;
    const markdown = renderMarkdown(reportModel(analyzeHistory(events, { gate: {} }), reportContextOf(events)));
    expect(markdown).toContain("### Warnings recorded");
    expect(markdown).toContain("| 200.0 ms | warn | probes ran OUTSIDE the cluster \\| through NodePorts |");
    expect(markdown).not.toContain("an ordinary line");
    expect(markdown).toContain("heal failed 18");
    expect(markdown).not.toContain("heal failed 19");
    expect(markdown).toContain("… and 2 more in history.jsonl.");
    expect(renderMarkdown(reportModel(deviatedResult()))).not.toContain("### Warnings recorded");
  });
});
