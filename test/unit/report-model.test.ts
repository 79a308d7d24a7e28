/**
 * The report model: built once from a result, read by every format, so report.md, report.html,
 * the terminal summary and junit.xml cannot drift apart; a target's own rows come from its plugin.
 */
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../harness/report/html-page.ts";
import { htmlText } from "../../harness/report/html-parts.ts";
import { analyzeHistory } from "../../harness/analyze.ts";
import { reportContextOf } from "../../harness/report/index.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { emptyReportContext, reportModel } from "../../harness/report/model.ts";
import type { Metrics, RunResult } from "../../harness/result.ts";
import { operatorRows } from "../../harness/targets/cnpg/report-rows.ts";
import { history } from "../fixtures/histories/builder.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";

/** A cnpg run whose operator was watched: promotion, Lease, the rw Service's two endpoints for a moment. */
function cnpgResult(operator: Partial<Metrics["operator"]> = {}): RunResult {
  const result = deviatedResult();
  const watched: Metrics["operator"] = {
    ...result.metrics.operator,
    observed: true,
    promotedAfterMs: 650,
    newPrimary: "pgdrill-2",
    pendingMs: 400,
    noPrimaryLabelMs: 300,
    multiplePrimaryLabelsMs: 0,
    leaseAcquiredAfterMs: 700,
    leaseReleased: true,
    rwObserved: true,
    rwMovedAfterMs: 900,
    noRwEndpointMs: 250,
    multipleRwEndpointsMs: 10,
    resyncs: 0,
    ...operator,
  };
  return { ...result, target: "cnpg", metrics: { ...result.metrics, operator: watched } };
}

const labels = (result: RunResult) => reportModel(result).keyMetrics.rows.map((row) => row.label);

describe("the report model", () => {
  it("puts the target's own rows after the generic ones, from its plugin", () => {
    const result = cnpgResult();
    const rows = reportModel(result).keyMetrics.rows;
    expect(rows.slice(-operatorRows(result.metrics).length)).toEqual(operatorRows(result.metrics));
    expect(labels(result)).toContain("primary Lease taken");
    expect(labels(result)).not.toContain("watch resyncs");
  });

  it("has no operator rows for a target whose plugin adds none, or when the operator was not watched", () => {
    expect(labels({ ...cnpgResult(), target: "container-pair" })).not.toContain("operator promoted");
    expect(labels(cnpgResult({ observed: false }))).not.toContain("operator promoted");
  });

  it("draws every key-metric row in report.md and report.html alike (report.html lacked cnpg's operator rows)", async () => {
    const model = reportModel(cnpgResult(), emptyReportContext());
    const markdown = renderMarkdown(model);
    const html = await renderHtml(model);
    for (const { label } of model.keyMetrics.rows) {
      expect(markdown).toContain(`| ${label} |`);
      expect(html).toContain(`<td>${label}</td>`);
    }
    expect(markdown).toContain("| rw Service with two ready endpoints | **10.0 ms** |");
    expect(html).toContain('<td>rw Service with two ready endpoints</td><td><strong class="bad">10.0 ms</strong></td>');
  });

  it("gives report.html the warnings, marks and client comparison report.md had alone", async () => {
    const b = history().start();
    for (let id = 1; id <= 3; id += 1) b.write(id, id * 100, "ok").select1(id * 100, "ok");
    b.events.push({ kind: "log", t: 200, level: "warn", message: "probes ran <outside> the cluster" });
    b.events.push({ kind: "mark", t: 250, note: "deleted the primary pod", by: "command" });
    const events = b.end(1000).events;
    const model = reportModel(analyzeHistory(events, { gate: {} }), reportContextOf(events));
    const [markdown, html] = [renderMarkdown(model), await renderHtml(model)];
    for (const heading of ["Warnings recorded", "Marks and manual steps", "Clients compared"]) {
      expect(markdown).toContain(`### ${heading}`);
      expect(html).toContain(`<h2>${heading}</h2>`);
    }
    expect(html).toContain("<td>warn</td><td>probes ran &lt;outside&gt; the cluster</td>");
    expect(html).toContain("<td>mark</td><td>deleted the primary pod</td><td>command</td>");
    expect(html).toMatch(/<td>select1<\/td><td>node-postgres<\/td><td>path not recorded<\/td>/);
  });

  it("says what only the History knows only when it was given", () => {
    expect(reportModel(deviatedResult()).sentence).toBeNull();
    expect(reportModel(deviatedResult(), emptyReportContext()).sentence).toMatch(/^No fault injected/);
  });
});

describe("report text in HTML", () => {
  it("escapes every part and sets off the strong and the bad ones", () => {
    expect(htmlText("a <b>")).toBe("a &lt;b&gt;");
    expect(htmlText([{ text: "1", strong: true, bad: true }, " & ", { text: "x", bad: true }, { text: "y", strong: true }])).toBe(
      '<strong class="bad">1</strong> &amp; <span class="bad">x</span><strong>y</strong>',
    );
  });
});
