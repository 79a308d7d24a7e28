/** The alerts in every report: the Markdown and HTML tables, a JUnit test case per expectation and must-not-fire, the timeline's markers. */
import { convert } from "xmlbuilder2";
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { alertMarkers } from "../../harness/report/alerts-timeline.ts";
import { renderHtml } from "../../harness/report/html-page.ts";
import { reportContextOf } from "../../harness/report/index.ts";
import { renderJunit } from "../../harness/report/junit.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { reportModel } from "../../harness/report/model.ts";
import { alertRule, history } from "../fixtures/histories/builder.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";

type Json = Record<string, unknown>;
const pg1 = { instance: "pg1:9187" };
const lag = alertRule({
  alert: "PostgresReplicationLag",
  expr: "pg_replication_lag_seconds > 30",
  metrics: ["pg_replication_lag_seconds"],
});
const connections = alertRule({
  alert: "PostgresHighConnections",
  expr: "pg_stat_activity_count > 180",
  metrics: ["pg_stat_activity_count"],
});

/**
 * A kill at 10 s: PostgresDown fires 75 s after it (expected within 2 min), the lag rule is expected within 1 min but its metric is not
 * scraped, and PostgresHighConnections, which must not fire, fires 20 s after the kill.
 */
function alertsRun() {
  const b = history()
    .start()
    .select1(0, "ok")
    .alerting(100, "setup", {
      source: "started",
      scrapeIntervalMs: 15_000,
      evaluationIntervalMs: 15_000,
      groupWaitMs: 30_000,
      rules: [alertRule(), { ...lag, missingMetrics: ["pg_replication_lag_seconds"] }, connections],
      expect: [
        { alert: "PostgresDown", withinMs: 120_000 },
        { alert: "PostgresReplicationLag", withinMs: 60_000 },
      ],
      mustNotFire: ["PostgresHighConnections"],
    })
    .fault(10_000, "kill primary")
    .alerting(25_000, "alert", { alert: "PostgresDown", labels: pg1, state: "pending", from: "prometheus" })
    .alerting(30_000, "alert", { alert: "PostgresHighConnections", labels: pg1, state: "firing", from: "prometheus" })
    .alerting(85_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "prometheus" })
    .alerting(85_000, "alert", { alert: "PostgresDown", labels: { instance: "pg2:9187" }, state: "firing", from: "prometheus" })
    .alerting(115_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "alertmanager" })
    .select1(130_000, "ok")
    .end(140_000);
  const result = analyzeHistory(b.events, { gate: { "alerts.PostgresDown.firedAfterMs": "< 120000" } });
  return { result, model: reportModel(result, reportContextOf(b.events)), events: b.events };
}

describe("alerts in the reports", { timeout: 30_000 }, () => {
  it("tabulates each rule in report.md, with the earliest possible and latest expected beside the measured", () => {
    const markdown = renderMarkdown(alertsRun().model);
    expect(markdown).toContain(
      "### Alerts\n\nFrom Prometheus started by pgdrill; times after the first fault (or hand-over), resolution after its heal.",
    );
    expect(markdown).toContain(
      "| alert | fired? | pending after | fired after (earliest possible / latest expected) | notified after | resolved after heal | expected | note |",
    );
    expect(markdown).toContain(
      "| `PostgresDown` | yes | 15.00 s | 1.3 min (1.0 min / 1.9 min) | 1.8 min (latest 2.4 min) | — | within 2.0 min: met |  |",
    );
    expect(markdown).toContain(
      "| ❌ `PostgresReplicationLag` | no | — | — (1.0 min / 1.9 min) | — (latest 2.4 min) | — | within 1.0 min: missed | cannot fire (metric missing): " +
        "pg_replication_lag_seconds had no series in the scrape when the drill started, so `pg_replication_lag_seconds > 30` cannot match |",
    );
    expect(markdown).toContain(
      "| ❌ `PostgresHighConnections` | yes | — | 20.00 s (1.0 min / 1.9 min) | — (latest 2.4 min) | — | must not fire: fired |  |",
    );
    // The check says so too, and the gate on the family reads the same figure.
    expect(markdown).toMatch(
      /\| alerts \| ❌ invalid \| PostgresReplicationLag was expected within 1\.0 min of the fault and did not fire/,
    );
    expect(markdown).toContain("| ✅ | `alerts.PostgresDown.firedAfterMs` | < 120000 | 75000 |");
  });

  it("has no Alerts section without monitoring", () => {
    expect(renderMarkdown(reportModel(deviatedResult()))).not.toContain("### Alerts");
    expect(reportModel(deviatedResult()).alerts).toBeNull();
  });

  it("writes a JUnit test case per expectation and per must-not-fire, a failure saying which alert and when", () => {
    const suites = convert(renderJunit(alertsRun().model), { format: "object" }) as Json;
    const suite = (suites.testsuites as Json).testsuite as Json;
    const cases = (suite.testcase as Json[]).filter((tc) => String(tc["@name"]).startsWith("alert "));
    expect(cases.map((tc) => tc["@name"])).toEqual([
      "alert PostgresDown fires within 2.0 min of the fault",
      "alert PostgresReplicationLag fires within 1.0 min of the fault",
      "alert PostgresHighConnections does not fire",
    ]);
    expect(cases[0]!.failure).toBeUndefined();
    expect((cases[1]!.failure as Json)["@message"]).toMatch(
      /^PostgresReplicationLag did not fire after the fault \(cannot fire: pg_replication_lag_seconds had no series/,
    );
    expect((cases[2]!.failure as Json)["@message"]).toBe("PostgresHighConnections must not fire and fired 20.00 s after the fault");
    // Two gates (the scenario's, and alerts.failedExpectations == 0 its expectations imply) and three alert cases: the
    // implied gate and two alert cases failed.
    expect(suite["@tests"]).toBe("5");
    expect(suite["@failures"]).toBe("3");
    expect((suites.testsuites as Json)["@failures"]).toBe("3");
  });

  it("shows the same table in report.html, and marks each alert's state change on the timeline", async () => {
    const { model, events } = alertsRun();
    const html = await renderHtml(model);
    expect(html).toContain("<h2>Alerts</h2>");
    expect(html).toContain(
      "<tr><td><code>PostgresDown</code></td><td>yes</td><td>15.00 s</td><td>1.3 min (1.0 min / 1.9 min)</td><td>1.8 min (latest 2.4 min)</td>",
    );
    expect(html).toContain('<span class="bad">must not fire: fired</span>');
    // Two label sets firing at 85 s are one marker; Alertmanager's word is not Prometheus's state.
    expect(alertMarkers(events).map((marker) => marker.text)).toEqual([
      "PostgresDown pending",
      "PostgresHighConnections firing",
      "PostgresDown firing",
    ]);
    expect(html).toContain("PostgresDown firing</text>");
    expect(html).toContain("alert resolved</span>");
  });
});
