/** How every report words the end of a write outage: a failover, or a recovery on the same primary. */
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { renderHtml } from "../../harness/report/html-page.ts";
import { emptyReportContext } from "../../harness/report/index.ts";
import { renderJunit } from "../../harness/report/junit.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { againstClaim, claimFor } from "../../harness/report/strategy-claims.ts";
import { formatSummary } from "../../harness/report/summary.ts";
import type { RunResult } from "../../harness/result.ts";
import { history } from "../fixtures/histories/builder.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { reportModel } from "../../harness/report/model.ts";

/** pair-pause-primary in small: a 3 s freeze, the same primary back, a failover gate and a recovery gate. */
function pausedResult(): RunResult {
  const b = history().start().steadyState(500);
  for (let id = 1; id <= 10; id += 1) b.write(id, (id - 1) * 100, "ok").role((id - 1) * 100, "primary", "primary");
  b.fault(950, "pause primary")
    .write(11, 1000, "info", 1000)
    .write(12, 2000, "info", 1000)
    .write(13, 3000, "ok", 30) // thawed at ~3000: completes at 3030
    .role(3100, "primary", "primary")
    .write(14, 3100, "ok")
    .finalRead(3500, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14], { node: "primary" })
    .end(4000);
  return analyzeHistory(b.events, { gate: { "failover.latencyMs": "< 30000", "recovery.latencyMs": "< 6000" } });
}

describe("failover or recovery, in the reports", () => {
  it("the summary says failover and where to, or that the same primary recovered", () => {
    expect(formatSummary(deviatedResult(), { color: false })).toContain("· failover 770.0 ms → standby");
    const paused = formatSummary(pausedResult(), { color: false });
    expect(paused).toContain("· no failover: recovered on the same primary in 2.08 s");
    expect(paused).toContain("✗ failover.latencyMs < 30000 (actual not measured: no failover: recovered on the same primary (primary); gate recovery.* instead)");
  });

  it("report.md puts only a real failover beside the claim, with its error bar", () => {
    const killed = renderMarkdown(reportModel(deviatedResult()));
    expect(killed).toContain("| Manual streaming replication | manual | varies | **770.0 ms +0/−220.0 ms** |");
    expect(killed).toContain("Writes may have become possible up to x earlier (−x), but not before the last refused write was sent.");

    const paused = renderMarkdown(reportModel(pausedResult()));
    expect(paused).toContain("| failover | none: recovered on the same primary (primary) in 2.08 s |");
    // The last refused write was sent at 2000, 1030 ms before the acknowledgement at 3030.
    expect(paused).toContain('| recovery | 2.08 s +0/−1.03 s after "pause primary" at 950.0 ms, on primary |');
    expect(paused).toContain("| Manual streaming replication | manual | varies | — (no failover: recovered on the same primary in 2.08 s) |");
    expect(paused).toContain("| ❌ | `failover.latencyMs` | < 30000 | not measured (no failover: recovered on the same primary (primary); gate recovery.* instead) |");
    expect(paused).toContain("| ✅ | `recovery.latencyMs` | < 6000 | 2080 |");
    expect(paused).not.toMatch(/primary → primary/);
  });

  it("report.html shows the recovery and keeps the claims table to real failovers", async () => {
    const html = await renderHtml(reportModel(pausedResult(), emptyReportContext()));
    expect(html).toContain("<td>failover</td><td>none: recovered on the same primary (primary) in 2.08 s</td>");
    expect(html).toContain("<td>recovery</td><td>2.08 s +0/−1.03 s after &quot;pause primary&quot; at 950.0 ms, on primary</td>");
    expect(html).toContain("<td><strong>Manual streaming replication</strong> (drilled)</td><td>manual</td><td>varies</td><td>— (no failover: recovered on the same primary in 2.08 s)</td>");
    expect(html).not.toContain("primary → primary");
    const killed = await renderHtml(reportModel(deviatedResult(), emptyReportContext()));
    expect(killed).toContain("<td>failover</td><td>770.0 ms +0/−220.0 ms after &quot;kill primary&quot; at 950.0 ms: primary → standby</td>");
  });

  it("junit.xml names the outcome and says why a failover gate failed", () => {
    const xml = renderJunit(reportModel(pausedResult()));
    expect(xml).toContain('<property name="failover" value="no failover: recovered on the same primary in 2.08 s"/>');
    expect(xml).toContain('message="failover.latencyMs was not measured (no failover: recovered on the same primary (primary); gate recovery.* instead), expected &lt; 30000"');
    expect(renderJunit(reportModel(deviatedResult()))).toContain('<property name="failover" value="failover 770.0 ms → standby"/>');
  });

  it("compares a claim with a failover only", () => {
    const cnpg = claimFor("cnpg")!;
    const failover = deviatedResult().metrics.failover;
    expect(againstClaim(cnpg, failover)).toBe("within");
    expect(againstClaim(cnpg, { ...failover, latencyMs: 45_000 })).toBe("slower");
    expect(againstClaim(cnpg, pausedResult().metrics.failover)).toBeNull();
    expect(againstClaim(claimFor("container-pair")!, failover)).toBeNull(); // "manual": no bound
  });
});

describe("a failover's anatomy, in report.md", () => {
  it("is one row: detection (who acted) → promotion → each client's recovery with its path", () => {
    // deviatedResult's standby is first seen out of recovery by the sample completing at 1602; no HA decision is recorded.
    const markdown = renderMarkdown(reportModel(deviatedResult()));
    expect(markdown).toMatch(/\| failover anatomy \| detection not seen → promoted after 652\.0 ms → clients: writes [\d.]+ ms \(path not recorded\), select1 [\d.]+ ms \(path not recorded\) \|/);
  });

  it("is absent when the same primary came back", () => {
    expect(renderMarkdown(reportModel(pausedResult()))).not.toContain("failover anatomy");
  });

  it("names pgdrill's promote as the detection on a pair", () => {
    const result = deviatedResult();
    const anatomy = { ...result.metrics.anatomy, mechanism: "pgdrill" as const, detectedAfterMs: 500, detectionMs: 500, promotionMs: 152, detectedBy: "pgdrill's promote began" };
    expect(renderMarkdown(reportModel({ ...result, metrics: { ...result.metrics, anatomy } }))).toContain("| failover anatomy | detection 500.0 ms (pgdrill's promote) → promotion 152.0 ms → clients:");
  });
});
