/** report.html from a real run's history and hand-made ones: self-contained, complete, escaped, and each of its sections. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { readHistory } from "../../harness/history/reader.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import type { FaultEvent } from "../../harness/history/events.ts";
import type { Metrics, RunResult } from "../../harness/result.ts";
import { ANATOMY_COLORS, renderAnatomyHtml } from "../../harness/report/anatomy-html.ts";
import { renderEventsHtml } from "../../harness/report/events-html.ts";
import { escapeHtml, renderHtml } from "../../harness/report/html-page.ts";
import { emptyReportContext, reportContextOf } from "../../harness/report/index.ts";
import { redactSecrets } from "../../harness/secrets.ts";
import { claimFor } from "../../harness/report/strategy-claims.ts";
import { drillSteps, OUTCOME_COLORS, steadyStateWindow } from "../../harness/report/timeline.ts";
import { wallClockOf } from "../../harness/report/wall-clock.ts";
import { history } from "../fixtures/histories/builder.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { reportModel } from "../../harness/report/model.ts";

const EXAMPLE = "reports/examples/pair-partition-then-kill";

async function exampleHtml() {
  const { events } = await readHistory(join(EXAMPLE, "history.jsonl"), TARGET_OBSERVATIONS);
  const result = analyzeHistory(events, { gate: { "writes.lostAcknowledged": "== 0" } });
  return { result, html: await renderHtml(reportModel(result, reportContextOf(events))) };
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
    const html = await renderHtml(reportModel(result, emptyReportContext()));
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; reason");
    expect(escapeHtml("'")).toBe("&#39;");
  });
});

/** A pause healed, a kill, a pause never healed, around a steady-state window of 1 s → 3 s of a 10 s run. */
function drilledHistory() {
  const b = history().start();
  b.events.push({ kind: "phase", t: 1000, phase: "steady-state" }, { kind: "phase", t: 3000, phase: "drill" });
  for (let t = 1000; t < 10_000; t += 250) b.select1(t, "ok");
  b.fault(4000, "pause primary", "inject", "f1").fault(6000, "pause primary", "heal", "f1");
  b.fault(7000, "kill standby", "inject", "f2");
  b.fault(8000, "pause standby", "inject", "f3");
  b.end(10_000);
  return b.events;
}

async function drilledHtml(scenario?: unknown) {
  const events = drilledHistory();
  const result = analyzeHistory(events, { gate: { "availability.ratio": ">= 0.5" } });
  return renderHtml(reportModel(result, reportContextOf(events, scenario)));
}

/** The SVG group of a named layer of the timeline (Vega names it "<layer>_marks"). */
function marks(html: string, name: string): string {
  const start = html.indexOf(`role-mark ${name}_marks"`);
  expect(start, `${name}_marks in the SVG`).toBeGreaterThan(0);
  return html.slice(start, html.indexOf("</g>", start));
}

describe("report.html's timeline marks", { timeout: 30_000 }, () => {
  it("pairs each heal with its inject by id: a healed span, an instant, an open fault", () => {
    const steps = drillSteps(drilledHistory(), 10_000);
    expect(steps.map((s) => [s.id, s.startMs, s.endMs, s.end])).toEqual([
      ["f1", 4000, 6000, "healed"],
      ["f2", 7000, 7000, "instant"],
      ["f3", 8000, 10_000, "open"],
    ]);
  });

  it("keeps a fault whose heal failed open, heals one whose retried heal worked, and does not draw a failed inject", () => {
    const fault = (t: number, phase: "inject" | "heal", id: string, ok: boolean): FaultEvent => ({ kind: "fault", t, phase, id, fault: "pause", label: `pause ${id}`, nodes: ["primary"], ok, ...(ok ? {} : { error: "no such container" }) });
    const events = [fault(1000, "inject", "f1", true), fault(2000, "heal", "f1", false), fault(3000, "inject", "f2", true), fault(4000, "heal", "f2", false), fault(4500, "heal", "f2", true), fault(5000, "inject", "f3", false)];
    expect(drillSteps(events, 9000).map((s) => [s.id, s.endMs, s.end, s.error])).toEqual([
      ["f1", 9000, "heal failed", "no such container"],
      ["f2", 4500, "healed", undefined],
      ["f3", 5000, "not injected", "no such container"],
    ]);
    expect(renderEventsHtml(reportModel(analyzeHistory(events, { gate: {} }), { history: { runStart: null, events, disruptions: [], firstDisruptionAt: null, lastT: 9000 }, points: [] }))).toContain('<span class="bad">not injected</span> (no such container)');
  });

  it("marks the heal of a healed fault with a dashed line and a label, and says an open one was not healed", async () => {
    const html = await drilledHtml();
    const heals = marks(html, "heals");
    expect(heals.match(/<line /g)).toHaveLength(1);
    expect(heals).toContain('stroke-dasharray="4,3"');
    // The heal at 6 s of a 10 s run, on an 860 px axis.
    expect(Number(heals.match(/translate\(([\d.]+),/)![1])).toBeCloseTo(516, 0);
    expect(marks(html, "heal_labels")).toContain("healed: pause primary");
    expect(marks(html, "open_labels")).toContain("pause standby: no heal recorded");
    expect(marks(html, "open_labels")).not.toContain("kill standby");
  });

  it("shades the steady-state window from its phase to the drill's", async () => {
    expect(steadyStateWindow(drilledHistory())).toEqual({ startMs: 1000, endMs: 3000 });
    const shade = marks(await drilledHtml(), "steady_state");
    // 1 s → 3 s of 10 s on 860 px: from x 86, 172 px wide.
    const [, x, width] = shade.match(/d="M([\d.]+),0h([\d.]+)v/)!.map(Number);
    expect(x).toBeCloseTo(86, 0);
    expect(width).toBeCloseTo(172, 0);
    expect(marks(await drilledHtml(), "steady_state_label")).toContain("steady state");
  });

  it("ends the window at run-start's steadyStateMs when the drill phase never came", () => {
    const events = drilledHistory().filter((e) => !(e.kind === "phase" && e.phase === "drill"));
    expect(steadyStateWindow(events)).toEqual({ startMs: 1000, endMs: 2000 });
  });

  it("draws legend swatches that can be seen: square, opaque, in the outcome and role colours", async () => {
    const { html } = await exampleHtml();
    const symbols = [...html.matchAll(/legend-symbol"[^>]*><path ([^>]*)>/g)].map((m) => m[1]!);
    expect(symbols.length).toBeGreaterThanOrEqual(6);
    for (const symbol of symbols) {
      expect(symbol).toMatch(/fill="#[0-9a-f]{3,6}"/);
      expect(symbol).toContain('opacity="1"');
    }
    for (const colour of [...Object.values(OUTCOME_COLORS), "#1f77b4", "#9ecae1"]) expect(symbols.some((s) => s.includes(`fill="${colour}"`))).toBe(true);
    // The key under the chart: a sized box with a background for each shading and fault.
    const key = html.slice(html.indexOf('class="timeline-key'), html.indexOf("</p>", html.indexOf('class="timeline-key')));
    const swatches = [...key.matchAll(/class="swatch" style="([^"]*)"/g)].map((m) => m[1]!);
    expect(swatches.length).toBeGreaterThanOrEqual(4);
    for (const style of swatches) expect(style).toMatch(/width: 12px; height: 12px;.*background: #[0-9a-f]{6};/);
  });
});

describe("report.html's wall-clock times", { timeout: 30_000 }, () => {
  it("turns t into UTC from run-start's wall clock", () => {
    const clock = wallClockOf({ wallClock: "2026-11-25T02:36:12.667Z" });
    expect(clock.at(7316.596)).toBe("2026-11-25 02:36:19.983 UTC");
    expect(clock.timeOfDay(0)).toBe("02:36:12.667");
    expect(wallClockOf({ wallClock: "unknown" }).at(0)).toBeNull();
  });

  it("shows the run's start and end in the header, and each step's UTC time in the events table", async () => {
    const html = await drilledHtml();
    expect(html).toContain("started <time>2025-01-01 00:00:00.000 UTC</time> · ended <time>2025-01-01 00:00:10.000 UTC</time>");
    const events = html.slice(html.indexOf('<div id="events">'), html.indexOf("</table>", html.indexOf('<div id="events">')));
    expect(events).toContain('<td>fault pause primary</td><td><span class="t" title="2025-01-01 00:00:04.000 UTC">4.00 s</span></td>');
    expect(events).toContain('<time title="2025-01-01 00:00:06.000 UTC">00:00:06.000</time>');
    expect(events).toContain("<td>healed</td>");
    expect(events).toContain("still active at the end: no heal recorded");
    expect(events).toContain("nothing to heal");
    expect(events).toMatch(/steady-state window.*00:00:01\.000.*00:00:03\.000/);
  });
});

describe("report.html's settings", { timeout: 30_000 }, () => {
  const scenario = {
    name: "endpoint-drill",
    target: { kind: "endpoint", url: "postgres://app:s3cret-pw@db.example.com:5432/app?sslmode=require", allowWrites: true, ssl: { rejectUnauthorized: false }, password: "hunter22" },
    probes: [
      { kind: "select1", name: "<b>reads</b>", every: "50ms", timeout: "500ms", slo: "250ms", connectTimeout: "1s", connection: "fresh", endpoint: "rw" },
      { kind: "writes", every: "50ms", timeout: "1s", connectTimeout: "1s", connection: "pool", endpoint: "rw", pool: { max: 4 } },
      { kind: "role", every: "200ms", timeout: "500ms", connectTimeout: "500ms" },
    ],
    steadyState: { window: "3s", minAvailability: 1 },
    schedule: [{ at: "3s", fault: { kind: "command", run: "PGPASSWORD=t0psecret psql -c 'select pg_reload_conf()'", timeout: "5m" }, for: "2s" }, { at: "6s", action: { kind: "promote", node: "standby", after: "1s" } }],
    duration: "12s",
    gate: { "availability.ratio": ">= 0.5", "failover.latencyMs": "< 30000" },
  };

  it("lists the target, the probes with their timing and path, the schedule and the gates", async () => {
    const html = await drilledHtml(scenario);
    const settings = html.slice(html.indexOf('<div id="settings">'), html.indexOf("<h2>Checks"));
    expect(settings).toContain("<code>endpoint</code>");
    expect(settings).toContain("<th>kind</th><th>name</th><th>every</th><th>timeout</th><th>slo</th><th>endpoint</th><th>connection</th>");
    expect(settings).toContain("<td>select1</td><td>&lt;b&gt;reads&lt;/b&gt;</td><td>50ms</td><td>500ms</td><td>250ms</td><td>rw</td><td>fresh</td>");
    expect(settings).toContain("<td>writes</td><td>writes</td><td>50ms</td><td>1s</td><td>—</td><td>rw</td><td>pool</td><td><code>connectTimeout</code> 1s, <code>pool.max</code> 4</td>");
    expect(settings).toContain("<td>role</td><td>role</td><td>200ms</td><td>500ms</td><td>—</td><td>every node</td>");
    expect(settings).toContain("<td>3s</td><td>fault <code>command</code></td>");
    expect(settings).toContain("<td>6s</td><td>action <code>promote</code></td><td><code>node</code> standby, <code>after</code> 1s</td><td>—</td>");
    expect(settings).toContain("<td><code>failover.latencyMs</code></td><td>&lt; 30000</td>");
    expect(settings).toContain("window 3s, each probe served ≥ 1 of the time");
  });

  it("never prints a password: URLs' user:password@, password settings in commands, password fields", async () => {
    const html = await drilledHtml(scenario);
    for (const secret of ["s3cret-pw", "t0psecret", "hunter22"]) expect(html).not.toContain(secret);
    expect(html).toContain("postgres://app:***@db.example.com:5432/app?sslmode=require");
    expect(html).toContain("PGPASSWORD=***");
    expect(html).toContain("<code>password</code> *** (set)");
    expect(redactSecrets("host=db password='a b' user=x")).toBe("host=db password=*** user=x");
    expect(redactSecrets("https://db.example.com/x")).toBe("https://db.example.com/x");
  });

  it("falls back on run-start's probe records without a scenario.json", async () => {
    const b = history().start({ probes: [{ name: "select1", type: "select1", everyMs: 20, timeoutMs: 500, sloMs: 250, endpoint: "rw", connection: "fresh" }] }).select1(0, "ok").end(100);
    const html = await renderHtml(reportModel(analyzeHistory(b.events, { gate: {} }), reportContextOf(b.events)));
    expect(html).toContain("No scenario.json");
    expect(html).toContain("<td>select1</td><td>select1</td><td>20.0 ms</td><td>500.0 ms</td><td>250.0 ms</td><td>rw</td><td>fresh</td>");
  });
});

describe("report.html's anatomy of a failover", () => {
  /** A hand-built anatomy: detection 1 s, promotion 0.5 s, then a direct client back in 0.5 s and a pooled one in 2.5 s. */
  function withAnatomy(anatomy: Partial<Metrics["anatomy"]>): RunResult {
    const result = deviatedResult();
    const base: Metrics["anatomy"] = {
      observed: true,
      faultAtMs: 950,
      faultLabel: "kill primary",
      mechanism: "pgdrill",
      detectedAfterMs: 1000,
      detectedBy: 'action "promote standby" began',
      promotedAfterMs: 1500,
      promotedLowerMs: 1400,
      promotedBy: "role probe: standby out of recovery",
      writableAfterMs: 1500,
      readOnlyMs: 0,
      newPrimary: "standby",
      detectionMs: 1000,
      promotionMs: 500,
      clients: [
        { probe: "select1", type: "select1", via: "rw, fresh connections", recoveredAfterMs: 2000, recoveryMs: 500 },
        { probe: "pooled", type: "write", via: "pooler, held connection", recoveredAfterMs: 4000, recoveryMs: 2500 },
      ],
      clientsRecoveredAfterMs: 4000,
      clientRecoveryMs: 2500,
    };
    return { ...result, metrics: { ...result.metrics, anatomy: { ...base, ...anatomy } } };
  }

  const segments = (html: string, probe: string) => {
    const start = html.indexOf(`data-probe="${probe}"`);
    const bar = html.slice(start, html.indexOf("</div>\n</div>", start));
    return [...bar.matchAll(/class="anatomy-segment (\w+)" data-ms="([\d.]*)"[^>]*width: ([\d.]+)%/g)].map((m) => [m[1], m[2], Number(m[3])]);
  };

  it("draws one bar per client path: detection, promotion, its recovery, widths on one scale", () => {
    const html = renderAnatomyHtml(reportModel(withAnatomy({})));
    // The pooled path is the longest (4 s): it fills the width; the direct one's recovery is a fifth of its.
    expect(segments(html, "select1")).toEqual([["detection", "1000", 25], ["promotion", "500", 12.5], ["recovery", "500", 12.5]]);
    expect(segments(html, "pooled")).toEqual([["detection", "1000", 25], ["promotion", "500", 12.5], ["recovery", "2500", 62.5]]);
    expect(html).toContain("via pooler, held connection");
    expect(html).toContain("detection 1.00 s");
    expect(html).toContain("promotion 500.0 ms");
    expect(html).toContain("client recovery 2.50 s");
    expect(html).toContain("mechanism: pgdrill · detected by: action &quot;promote standby&quot; began · promoted by: role probe: standby out of recovery (standby)");
    for (const [phase, colour] of Object.entries(ANATOMY_COLORS)) {
      if (phase === "readOnly") expect(html).not.toContain(colour); // no read-only phase seen: none drawn
      else expect(html).toContain(`background: ${colour};`);
    }
  });

  it("draws a read-only phase between the promotion and the client's recovery when the new primary refused writes", () => {
    const client = { probe: "writes", type: "write" as const, via: "rw, fresh connections", recoveredAfterMs: 3000, recoveryMs: 500 };
    const html = renderAnatomyHtml(reportModel(withAnatomy({ writableAfterMs: 2500, readOnlyMs: 1000, clients: [client] })));
    expect(segments(html, "writes")).toEqual([["detection", "1000", 33.33], ["promotion", "500", 16.67], ["readOnly", "1000", 33.33], ["recovery", "500", 16.67]]);
    expect(html).toContain("promoted but read-only 1.00 s");
    expect(html).toContain("writable 1.00 s after its promotion");
  });

  it("draws an unobserved phase as nothing, said as n/a", () => {
    const html = renderAnatomyHtml(reportModel(withAnatomy({ detectionMs: null, detectedBy: null })));
    expect(segments(html, "select1")[0]).toEqual(["detection", "", 0]);
    expect(html).toContain("detection n/a");
    expect(html).toContain("detected by: not observed");
  });

  it("says in one line why there is no anatomy when no failover was observed", async () => {
    const result = withAnatomy({ observed: false, clients: [] });
    const sameServer = { ...result, metrics: { ...result.metrics, failover: { ...result.metrics.failover, happened: false }, recovery: { ...result.metrics.recovery, latencyMs: 3030, node: "primary" } } };
    const html = renderAnatomyHtml(reportModel(sameServer));
    expect(html).not.toContain("anatomy-bar");
    expect(html).toContain('<p class="meta anatomy-none">No anatomy: no failover — writes came back on the same primary (primary), a recovery, not a failover.</p>');
    expect(await renderHtml(reportModel(sameServer, emptyReportContext()))).toContain("No anatomy: no failover");
  });

  it("escapes the probe's name and path", () => {
    const html = renderAnatomyHtml(reportModel(withAnatomy({ clients: [{ probe: "<i>p</i>", type: "select1", via: "<script>", recoveredAfterMs: 1, recoveryMs: 1 }] })));
    expect(html).not.toMatch(/<i>|<script>/);
    expect(html).toContain("via &lt;script&gt;");
  });
});
