/** report.html from a real run's history: self-contained, complete, and escaped. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { readHistory } from "../../harness/history/reader.ts";
import { escapeHtml, renderHtml } from "../../harness/report/html-page.ts";
import { emptyReportContext, reportContextOf } from "../../harness/report/index.ts";
import { claimFor } from "../../harness/report/strategy-claims.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";

const EXAMPLE = "reports/examples/pair-partition-then-kill";

async function exampleHtml() {
  const { events } = await readHistory(join(EXAMPLE, "history.jsonl"));
  const result = analyzeHistory(events, { gate: { "writes.lostAcknowledged": "== 0" } });
  return { result, html: await renderHtml(result, reportContextOf(events)) };
}

describe("report.html", { timeout: 30_000 }, () => {
  it("is one self-contained document: no scripts, no external references", async () => {
    const { html } = await exampleHtml();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=/i);
    const urls = [...html.matchAll(/https?:\/\/[^\s"')]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"]));
  });

  it("draws the timeline with every outcome colour and the faults of the run", async () => {
    const { html } = await exampleHtml();
    expect(html).toMatch(/<div id="timeline"><svg/);
    for (const colour of ["#2ca02c", "#d62728"]) expect(html).toContain(colour);
    for (const label of ["partition primary ↔ standby", "kill primary (SIGKILL)", "promote standby"]) expect(html).toContain(label);
  });

  it("shows the failed gate, the lost ids and the claim for the strategy drilled", async () => {
    const { html, result } = await exampleHtml();
    expect(result.metrics.writes.lostAcknowledged).toBeGreaterThan(0);
    expect(html).toMatch(/<code>writes\.lostAcknowledged<\/code><\/td><td>== 0<\/td><td>\d+<\/td><td><span class="bad">✘ fail/);
    expect(html).toContain(`Missing on <code>standby</code>: ${result.metrics.writes.lostIds[0]}`);
    expect(html).toMatch(/<strong>Manual streaming replication<\/strong> \(drilled\)/);
    expect(claimFor("cnpg")?.failover).toBe("10–30 s");
  });

  it("escapes text that comes from data", async () => {
    const result = { ...deviatedResult(), scenario: "<script>alert(1)</script>", reason: 'a "quoted" & <b>bold</b> reason' };
    const html = await renderHtml(result, emptyReportContext());
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; reason");
    expect(escapeHtml("'")).toBe("&#39;");
  });
});
