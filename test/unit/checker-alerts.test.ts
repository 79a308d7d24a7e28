import { describe, expect, it } from "vitest";
import { alertsChecker } from "../../harness/checker/alerts.ts";
import { runChecks } from "../../harness/checker/index.ts";
import { alertRule, history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

const pg1 = { alertname: "PostgresDown", instance: "pg1:9187", severity: "critical" };
const pg2 = { alertname: "PostgresDown", instance: "pg2:9187", severity: "critical" };
const lag = alertRule({ alert: "PostgresReplicationLag", expr: "pg_replication_lag_seconds > 30", metrics: ["pg_replication_lag_seconds"] });
const connections = alertRule({ alert: "PostgresHighConnections", expr: "pg_stat_activity_count > 180", metrics: ["pg_stat_activity_count"] });

/** The seed guide's three rules loaded, PostgresDown expected within 2 min; a fault at 10 s. */
function drill(options: { expect?: number | null; mustNotFire?: string[]; fault?: string; rules?: ReturnType<typeof alertRule>[] } = {}) {
  const within = options.expect === undefined ? 120_000 : options.expect;
  return history()
    .start()
    .alerting(100, "setup", {
      source: "started",
      prometheus: "http://127.0.0.1:9090",
      alertmanager: "http://127.0.0.1:9093",
      scrapeIntervalMs: 15_000,
      evaluationIntervalMs: 15_000,
      groupWaitMs: 30_000,
      rules: options.rules ?? [alertRule(), lag, connections],
      expect: within === null ? [] : [{ alert: "PostgresDown", withinMs: within }],
      mustNotFire: options.mustNotFire ?? [],
    })
    .fault(10_000, options.fault ?? "kill primary");
}

const check = (b: HistoryBuilder) => alertsChecker.check(b.events);
const rule = (b: HistoryBuilder, alert = "PostgresDown") => check(b).metrics.rules.find((r) => r.alert === alert)!;

describe("alerts checker: did the alert fire", () => {
  it("times pending, firing and Alertmanager's notice from the fault, and the resolution from the heal; within 2 min is met", () => {
    const b = drill({ fault: "pause primary" })
      .alerting(25_000, "alert", { alert: "PostgresDown", labels: pg1, state: "pending", from: "prometheus" })
      .fault(40_000, "pause primary", "heal")
      .alerting(85_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "prometheus" })
      .alerting(115_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "alertmanager" })
      .alerting(130_000, "alert", { alert: "PostgresDown", labels: pg1, state: "resolved", from: "prometheus" })
      .end(140_000);
    const { valid, metrics, reason } = check(b);
    expect(valid).toBe(true);
    expect(reason).toBeUndefined();
    expect(metrics).toMatchObject({ observed: true, source: "started", faultAtMs: 10_000, healAtMs: 40_000, unexpected: [], unreachableMs: 0 });
    expect(metrics.rules.find((r) => r.alert === "PostgresDown")).toEqual({
      alert: "PostgresDown",
      fired: true,
      firingBeforeFault: false,
      pendingAfterMs: 15_000,
      firedAfterMs: 75_000,
      notifiedAfterMs: 105_000,
      resolvedAfterHealMs: 90_000,
      earliestMs: 60_000,
      latestMs: 115_000,
      notifiedLatestMs: 145_000,
      cannotFire: null,
      expectedWithinMs: 120_000,
      expectedLabels: null,
      expectation: "met",
      mustNotFire: false,
    });
    expect(rule(b, "PostgresReplicationLag")).toMatchObject({ fired: false, firedAfterMs: null, expectation: null, cannotFire: null });
  });

  it("calls a firing after `within` late, and the check invalid, saying by how much", () => {
    const b = drill()
      .alerting(160_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "prometheus" })
      .end(170_000);
    const { valid, reason } = check(b);
    expect(rule(b)).toMatchObject({ firedAfterMs: 150_000, expectation: "late" });
    expect(valid).toBe(false);
    expect(reason).toBe("PostgresDown was expected within 2.0 min of the fault and fired after 2.5 min (late)");
  });

  it("meets a labelled expectation only with an alert carrying those labels", () => {
    const labelled = (instance: string) =>
      history()
        .start()
        .alerting(100, "setup", {
          source: "started",
          scrapeIntervalMs: 15_000,
          evaluationIntervalMs: 15_000,
          groupWaitMs: 30_000,
          rules: [alertRule()],
          expect: [{ alert: "PostgresDown", withinMs: 120_000, labels: { instance } }],
          mustNotFire: [],
        })
        .fault(10_000)
        .alerting(85_000, "alert", { alert: "PostgresDown", labels: pg2, state: "firing", from: "prometheus" })
        .end(140_000);
    // pg2 fired, pg1 was expected: the rule fired, the expectation missed.
    expect(rule(labelled("pg1:9187"))).toMatchObject({ fired: true, expectation: "missed", expectedLabels: { instance: "pg1:9187" } });
    expect(check(labelled("pg1:9187")).valid).toBe(false);
    expect(rule(labelled("pg2:9187"))).toMatchObject({ fired: true, expectation: "met" });
  });

  it("calls an alert that never fired missed", () => {
    const b = drill().end(200_000);
    const { valid, reason } = check(b);
    expect(rule(b)).toMatchObject({ fired: false, firedAfterMs: null, pendingAfterMs: null, expectation: "missed", cannotFire: null });
    expect(valid).toBe(false);
    expect(reason).toBe("PostgresDown was expected within 2.0 min of the fault and did not fire");
  });

  it("names a must-not-fire alert that fired as unexpected, with when", () => {
    const b = drill({ expect: null, mustNotFire: ["PostgresHighConnections"] })
      .alerting(30_000, "alert", { alert: "PostgresHighConnections", labels: { instance: "pg1:9187" }, state: "firing", from: "prometheus" })
      .end(60_000);
    const { valid, metrics, reason } = check(b);
    expect(metrics.unexpected).toEqual(["PostgresHighConnections"]);
    expect(rule(b, "PostgresHighConnections")).toMatchObject({ mustNotFire: true, fired: true, firedAfterMs: 20_000 });
    expect(valid).toBe(false);
    expect(reason).toBe("PostgresHighConnections must not fire and fired 20.00 s after the fault");
  });

  it("takes what fired from the drill's Prometheus, not from an Alertmanager other Prometheus servers may share", () => {
    const b = drill({ expect: null, mustNotFire: ["PostgresHighConnections"] })
      .alerting(30_000, "alert", { alert: "PostgresHighConnections", labels: {}, state: "pending", from: "prometheus" })
      .alerting(31_000, "alert", { alert: "PostgresHighConnections", labels: { instance: "other:9187" }, state: "firing", from: "alertmanager" })
      .end(60_000);
    expect(check(b)).toMatchObject({ valid: true, metrics: { unexpected: [] } });
  });

  it("names a rule whose selector lost series in the outage as one that cannot fire: pg_up 2 → 1 series", () => {
    const b = drill()
      .alerting(5_000, "sample", { alert: "PostgresDown", exprSeries: 0, selectorSeries: { pg_up: 2 } })
      .alerting(12_000, "sample", { alert: "PostgresDown", exprSeries: 0, selectorSeries: { pg_up: 1 } })
      .end(200_000);
    const { valid, reason } = check(b);
    expect(rule(b).cannotFire).toEqual({
      reason: "series-vanished",
      detail: "pg_up had 2 series before the fault and 1 during it: the instance's series vanished with it, so `pg_up == 0` cannot match it",
    });
    expect(valid).toBe(false);
    expect(reason).toMatch(/^PostgresDown was expected within 2\.0 min of the fault and did not fire \(cannot fire: pg_up had 2 series/);
  });

  it("does not blame vanished series when the count came back only after the outage healed, nor when it never fell", () => {
    const healed = drill({ fault: "pause primary", expect: null })
      .alerting(5_000, "sample", { alert: "PostgresDown", selectorSeries: { pg_up: 2 } })
      .fault(20_000, "pause primary", "heal")
      .alerting(25_000, "sample", { alert: "PostgresDown", selectorSeries: { pg_up: 1 } })
      .end(60_000);
    expect(rule(healed).cannotFire).toBeNull();
    const steady = drill({ expect: null }).alerting(5_000, "sample", { alert: "PostgresDown", selectorSeries: { pg_up: 2 } }).end(60_000);
    expect(rule(steady).cannotFire).toBeNull();
  });

  it("names a rule whose metric is not in the scrape: metric-missing comes first, and the check stays valid when it is not expected", () => {
    const missing = { ...lag, missingMetrics: ["pg_replication_lag_seconds"] };
    const b = drill({ expect: null, rules: [alertRule(), missing] })
      .alerting(5_000, "sample", { alert: "PostgresReplicationLag", selectorSeries: { pg_replication_lag_seconds: 0 } })
      .end(60_000);
    const { valid, reason } = check(b);
    expect(rule(b, "PostgresReplicationLag").cannotFire).toEqual({
      reason: "metric-missing",
      detail: "pg_replication_lag_seconds had no series in the scrape when the drill started, so `pg_replication_lag_seconds > 30` cannot match",
    });
    expect(valid).toBe(true);
    expect(reason).toMatch(/^rules that cannot fire: PostgresReplicationLag \(pg_replication_lag_seconds had no series/);
  });

  it("names a rule none of whose selectors ever returned a series (no-series)", () => {
    const b = drill({ expect: null })
      .alerting(5_000, "sample", { alert: "PostgresHighConnections", selectorSeries: { pg_stat_activity_count: 0 } })
      .alerting(30_000, "sample", { alert: "PostgresHighConnections", selectorSeries: { pg_stat_activity_count: 0 } })
      .end(60_000);
    expect(rule(b, "PostgresHighConnections").cannotFire).toMatchObject({ reason: "no-series", detail: expect.stringMatching(/^pg_stat_activity_count returned no series/) });
  });

  it("reports an alert already firing before the fault, and does not count it as met", () => {
    const b = drill()
      .alerting(5_000, "alert", { alert: "PostgresDown", labels: pg2, state: "firing", from: "prometheus" })
      .end(200_000);
    const { valid, reason } = check(b);
    expect(rule(b)).toMatchObject({ fired: true, firingBeforeFault: true, firedAfterMs: null, expectation: "missed" });
    expect(valid).toBe(false);
    expect(reason).toContain("did not fire; it was already firing before it, which does not count");
  });

  it("counts a new label set firing after the fault even with another firing from before", () => {
    const b = drill()
      .alerting(5_000, "alert", { alert: "PostgresDown", labels: pg2, state: "firing", from: "prometheus" })
      .alerting(80_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "prometheus" })
      .end(200_000);
    expect(rule(b)).toMatchObject({ firingBeforeFault: true, firedAfterMs: 70_000, expectation: "met" });
    expect(check(b).valid).toBe(true);
  });

  it("adds up the time Prometheus could not be read, one still down running to the end", () => {
    const b = drill({ expect: null })
      .alerting(20_000, "reachable", { reachable: false, from: "prometheus", error: "connect ECONNREFUSED" })
      .alerting(26_000, "reachable", { reachable: true, from: "prometheus" })
      .alerting(30_000, "reachable", { reachable: false, from: "alertmanager" })
      .alerting(50_000, "reachable", { reachable: false, from: "prometheus" })
      .end(60_000);
    const { metrics, reason } = check(b);
    expect(metrics.unreachableMs).toBe(16_000);
    expect(reason).toBe("pgdrill could not read Prometheus for 16.00 s");
  });

  it("times a hand-over's alerts from its start and the resolution from its end", () => {
    const b = history()
      .start()
      .alerting(100, "setup", { source: "existing", rules: [alertRule()], expect: [], mustNotFire: [] });
    b.events.push({ kind: "action", t: 10_000, phase: "start", id: "a1", action: "switchover", label: "switchover", handsOver: true });
    b.events.push({ kind: "action", t: 12_000, phase: "end", id: "a1", action: "switchover", label: "switchover", ok: true });
    b.alerting(11_000, "alert", { alert: "PostgresDown", labels: pg1, state: "pending", from: "prometheus" })
      .alerting(14_000, "alert", { alert: "PostgresDown", labels: pg1, state: "resolved", from: "prometheus" })
      .end(30_000);
    const { metrics } = check(b);
    expect(metrics).toMatchObject({ source: "existing", faultAtMs: 10_000, healAtMs: 12_000 });
    expect(rule(b)).toMatchObject({ pendingAfterMs: 1_000, firedAfterMs: null, resolvedAfterHealMs: 2_000, fired: false });
  });

  it("times a kill's resolution from the kill itself: it has nothing to heal", () => {
    const b = drill()
      .alerting(80_000, "alert", { alert: "PostgresDown", labels: pg1, state: "firing", from: "prometheus" })
      .alerting(100_000, "alert", { alert: "PostgresDown", labels: pg1, state: "resolved", from: "prometheus" })
      .end(120_000);
    expect(check(b).metrics.healAtMs).toBe(10_000);
    expect(rule(b).resolvedAfterHealMs).toBe(90_000);
  });

  it("refuses an expected alert no loaded rule has, naming the rules", () => {
    const b = history()
      .start()
      .alerting(100, "setup", { rules: [alertRule()], expect: [{ alert: "PostgresDwn", withinMs: 60_000 }], mustNotFire: [] })
      .fault(10_000)
      .end(20_000);
    const { valid, metrics, reason } = check(b);
    expect(metrics.notLoaded).toEqual([{ alert: "PostgresDwn", expectedWithinMs: 60_000, mustNotFire: false }]);
    expect(valid).toBe(false);
    expect(reason).toBe("PostgresDwn is expected but no loaded rule has that name (rules: PostgresDown)");
  });

  it("notes a must-not-fire alert no loaded rule has (it cannot fire, but the name may be a typo) without failing the check", () => {
    const b = drill({ expect: null, mustNotFire: ["PostgresHighConn"] }).end(20_000);
    expect(check(b)).toMatchObject({
      valid: true,
      reason: "must not fire, but no loaded rule has that name: PostgresHighConn",
      metrics: { notLoaded: [{ alert: "PostgresHighConn", expectedWithinMs: null, mustNotFire: true }], unexpected: [] },
    });
  });

  it("cannot judge expectations without a fault or hand-over", () => {
    const b = history()
      .start()
      .alerting(100, "setup", { rules: [alertRule()], expect: [{ alert: "PostgresDown", withinMs: 60_000 }], mustNotFire: [] })
      .end(20_000);
    expect(check(b)).toMatchObject({ valid: "unknown", reason: expect.stringMatching(/^no fault or hand-over in this run/) });
    expect(rule(b).expectation).toBeNull();
  });

  it("is unknown without monitoring, and runs among every checker", () => {
    const plain = history().start().fault(1_000).end(2_000);
    expect(check(plain)).toEqual({ valid: "unknown", metrics: alertsChecker.empty(), reason: "no monitoring in this run" });
    const { checks, metrics } = runChecks(drill().end(200_000).events);
    expect(checks.alerts).toMatchObject({ valid: false });
    expect(metrics.alerts.rules.map((r) => r.alert)).toEqual(["PostgresDown", "PostgresReplicationLag", "PostgresHighConnections"]);
  });
});
