/**
 * Heavy findings (two writable primaries, lost acknowledged writes, a probe that never recovered) in the headline, the
 * terminal summary and report.md whatever the gates say; writes named when they were down far longer than select1; promoted
 * told from writable. Hand-made Histories, analysed for real.
 */
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { BOUNDS_NOTE } from "../../harness/report/failover-text.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { reportContextOf, reportModel } from "../../harness/report/index.ts";
import { formatSummary } from "../../harness/report/summary.ts";
import type { ProbeRecord } from "../../harness/history/events.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

const PROBES: ProbeRecord[] = [
  { name: "select1", type: "select1", everyMs: 100, timeoutMs: 1000, endpoint: "rw", connection: "fresh" },
  { name: "writes", type: "write", everyMs: 100, timeoutMs: 1000, endpoint: "rw", connection: "fresh" },
];

/** Both probes ok on the primary every 100 ms until t = 1000, role samples of both nodes every 100 ms (the primary writable). */
function steady(): HistoryBuilder {
  const b = history().start({ probes: PROBES }).steadyState(500);
  for (let t = 0; t < 1000; t += 100)
    b.write(t / 100 + 1, t, "ok")
      .select1(t, "ok", 2)
      .role(t, "primary", "writable")
      .role(t, "standby", "standby");
  return b;
}

function analysed(b: HistoryBuilder) {
  const result = analyzeHistory(b.events, { gate: {} });
  const model = reportModel(result, reportContextOf(b.events));
  return { result, model, summary: formatSummary(result, { color: false }), markdown: renderMarkdown(model) };
}

/**
 * The primary is killed at 1000; the standby is promoted at once but read-only until 3000 (pg_auto_failover's demote
 * timeout, shortened). select1 is back on the standby at 1300; writes only at 3000.
 */
function promotedReadOnly(): HistoryBuilder {
  const b = steady().fault(1000, "kill primary");
  let id = 100;
  for (let t = 1000; t < 3500; t += 100) {
    b.select1(t, t < 1300 ? "fail" : "ok", 2, t < 1300 ? "primary" : "standby");
    b.write(id++, t, t < 3000 ? "fail" : "ok", 5, t < 3000 ? "primary" : "standby");
    b.role(t, "primary", t < 2000 ? "down" : "read-only"); // comes back promoted, read-only: not a second writable primary
    b.role(t, "standby", t < 1100 ? "standby" : t < 3000 ? "read-only" : "writable", 2); // on timeline 2
  }
  const acknowledged = [...Array.from({ length: 10 }, (_, i) => i + 1), ...Array.from({ length: 5 }, (_, i) => 120 + i)];
  return b.finalRead(3600, acknowledged).end(3700);
}

describe("promoted is not writable", () => {
  it("reads two promoted nodes of which one is writable as no split brain, and says which was read-only", () => {
    const { result, model, markdown } = analysed(promotedReadOnly());
    expect(result.metrics.splitBrain.detected).toBe(false);
    expect(result.verdict).toBe("pass");
    expect(model.headline.findings).toEqual([]);
    expect(model.sentence).not.toMatch(/split brain/);
    const row = model.keyMetrics.rows.find((r) => r.label === "split brain");
    expect(row?.value).toBe(
      "none seen (standby promoted at 1.10 s but read-only until 3.00 s; primary promoted at 2.00 s but read-only until 3.40 s)",
    );
    expect(markdown).toContain("| 1.10 s | standby | primary (read-only) | 2 |");
    expect(markdown).toContain("| 3.00 s | standby | primary | 2 |");
  });

  it("gives the failover's anatomy a read-only phase, and times the writes' recovery from writable", () => {
    const { result } = analysed(promotedReadOnly());
    const anatomy = result.metrics.anatomy;
    expect(anatomy).toMatchObject({ newPrimary: "standby", promotedAfterMs: 102, writableAfterMs: 2002, readOnlyMs: 1900 });
    expect(anatomy.clients.find((client) => client.probe === "writes")?.recoveryMs).toBe(3005 - 3002);
    const line = analysed(promotedReadOnly()).model.keyMetrics.rows.find((r) => r.label === "failover anatomy")?.value;
    expect(line).toMatch(/promoted after 102\.0 ms → read-only 1\.90 s → clients: /);
  });

  it("names the writes when they were down far longer than select1, with both numbers", () => {
    const { model } = analysed(promotedReadOnly());
    expect(model.sentence).toMatch(
      /^Kill primary: clients were down 302\.0 ms \(select1\), but writes were down 2\.00 s \(writes\); failover /,
    );
  });
});

describe("heavy findings, whatever the gates say", () => {
  /** The standby is promoted and writable at 1500 while the old primary, cut off, still accepts writes until 2500. */
  function splitBrain(): HistoryBuilder {
    const b = steady().fault(1000, "partition primary");
    let id = 100;
    for (let t = 1000; t < 3000; t += 100) {
      b.write(id++, t, "ok").select1(t, "ok", 2);
      b.role(t, "primary", t < 2500 ? "writable" : "standby", 1);
      b.role(t, "standby", t < 1500 ? "standby" : "writable", 2);
    }
    const ids = [...Array.from({ length: 10 }, (_, i) => i + 1), ...Array.from({ length: 20 }, (_, i) => 100 + i)];
    return b.finalRead(3100, ids).end(3200);
  }

  it("puts two writable primaries in the headline, the summary and report.md of a passing run without gates", () => {
    const { result, model, summary, markdown } = analysed(splitBrain());
    expect(result.gates).toEqual([]);
    expect(result.verdict).toBe("pass");
    const finding = "split brain: 2 writable primaries (primary and standby) for 1.00 s (writes acknowledged in it: primary 10, standby 0)";
    expect(model.headline.findings).toEqual([finding]);
    expect(model.sentence).toBe(
      `Partition primary: ${finding}; clients saw no downtime (select1); no write outage, no failover; no acknowledged write lost.`,
    );
    expect(summary.split("\n")).toContain(`  ! ${finding}`);
    expect(markdown).toContain(`**Whatever the gates say:** ${finding}.`);
  });

  it("says which probe never recovered, and the acknowledged writes lost", () => {
    const b = steady().fault(1000, "kill primary");
    for (let t = 1000; t < 2000; t += 100) b.write(100 + t / 100, t, "fail").select1(t, "fail", 2);
    const { model, summary, markdown } = analysed(b.finalRead(2100, [1, 2, 3, 4, 5, 6, 7, 8]).end(2200));
    expect(model.headline.findings).toEqual([
      "2 acknowledged writes lost",
      "writes never recovered (down from 1.00 s to the end)",
      "select1 never recovered (down from 1.00 s to the end)",
    ]);
    expect(model.sentence).toMatch(
      /; did not recover; 2 acknowledged writes lost; writes never recovered \(down from 1\.00 s to the end\); select1 never/,
    );
    expect(summary).toContain("  ! select1 never recovered (down from 1.00 s to the end)");
    expect(markdown).toContain("**Whatever the gates say:** 2 acknowledged writes lost; writes never recovered");
  });

  it("has no findings line for a quiet run", () => {
    const { model, summary, markdown } = analysed(steady().finalRead(1100, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).end(1200));
    expect(model.headline.findings).toEqual([]);
    expect(summary).not.toContain("  ! ");
    expect(markdown).not.toContain("Whatever the gates say");
  });
});

describe("the error bars' note", () => {
  it("is two plain sentences saying what +0 and −x mean", () => {
    expect(BOUNDS_NOTE).toBe(
      "Failover and recovery times run from the fault to the first acknowledged write after the outage (+0: writes were " +
        "possible by then). Writes may have become possible up to x earlier (−x), but not before the last refused write was sent.",
    );
  });
});
