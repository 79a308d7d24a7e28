/**
 * The shipped alerting scenarios, run for real: Prometheus 2.42, Alertmanager 0.25 and
 * postgres_exporter 0.11 from pgdrill's image beside a pair and a Patroni cluster, loaded with the
 * seed guide's rules as written (or a file that keeps them and adds one). What each drill must show:
 * which alert fired, when against the earliest and latest its timings allow, which rule could not
 * fire and why (said before the fault when its metric does not exist), and nothing left in Docker.
 * The three drills run side by side: each mostly waits out its rules' `for: 1m`.
 */
import { describe, expect, it } from "vitest";
import type { AlertingEvent, HistoryEvent } from "../../harness/history/events.ts";
import type { AlertRuleOutcome, RunResult } from "../../harness/result.ts";
import { runDrill, type DrillOutcome } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

interface Drill extends DrillOutcome {
  events: HistoryEvent[];
  lines: string[];
}

async function drill(name: string): Promise<Drill> {
  const { scenario, source } = await loadScenario(name);
  const lines: string[] = [];
  const outcome = await runDrill(scenario, { source, outDir: tempRunDir(name), log: (line) => lines.push(line) });
  return { ...outcome, events: readEvents(outcome.runDir), lines };
}

function rule(result: RunResult, alert: string): AlertRuleOutcome {
  const found = result.metrics.alerts.rules.find((candidate) => candidate.alert === alert);
  expect(found, `rule ${alert} in ${result.metrics.alerts.rules.map((r) => r.alert).join(", ")}`).toBeDefined();
  return found!;
}

function alerting(events: readonly HistoryEvent[]): AlertingEvent[] {
  return events.filter((event): event is AlertingEvent => event.kind === "alerting");
}

function firstFaultAt(events: readonly HistoryEvent[]): number {
  return events.find((event) => event.kind === "fault" && event.phase === "inject")!.t;
}

/** The firing alerts Prometheus reported for `alert`, with their labels. */
function firings(events: readonly HistoryEvent[], alert: string): AlertingEvent[] {
  return alerting(events).filter(
    (event) => event.subject === "alert" && event.alert === alert && event.state === "firing" && event.from === "prometheus",
  );
}

/** The seed guide's PostgresReplicationLag reads pg_replication_lag_seconds, which postgres_exporter 0.11 does not export. */
function expectReplicationLagCannotFire(result: RunResult, events: readonly HistoryEvent[], lines: readonly string[]): void {
  const lag = rule(result, "PostgresReplicationLag");
  expect(lag.fired).toBe(false);
  expect(lag.cannotFire).toMatchObject({ reason: "metric-missing" });
  expect(lag.cannotFire!.detail).toContain("pg_replication_lag_seconds");
  // Said before the fault: in the setup event, and in the drill's log.
  const setup = alerting(events).find((event) => event.subject === "setup")!;
  expect(setup.t).toBeLessThan(firstFaultAt(events));
  expect(setup.rules!.find((r) => r.alert === "PostgresReplicationLag")!.missingMetrics).toEqual(["pg_replication_lag_seconds"]);
  const said = lines.find((line) => line.includes("PostgresReplicationLag reads"));
  expect(said).toMatch(/monitoring: PostgresReplicationLag reads pg_replication_lag_seconds, which no scraped target exposes/);
}

describe("shipped alerting scenarios", { timeout: 400_000 }, () => {
  it("pair-alerts-primary-down fires PostgresDown for the dead primary (its exporter outlives it); pair-alerts-node-down shows the seed's rule cannot fire when the exporter dies with the node; patroni-alerts-failover fires it for Patroni's old primary alone", async () => {
    const [separate, onNode, patroni] = await Promise.all([
      drill("pair-alerts-primary-down"),
      drill("pair-alerts-node-down"),
      drill("patroni-alerts-failover"),
    ]);

    // The exporter in a container of its own answers pg_up 0 for the dead primary: PostgresDown fires, for it alone.
    {
      const { result, events, lines } = separate;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      expect(result.metrics.alerts).toMatchObject({ observed: true, source: "started", unexpected: [], failedExpectations: 0 });
      const down = rule(result, "PostgresDown");
      expect(down).toMatchObject({ fired: true, firingBeforeFault: false, expectation: "met", earliestMs: 60_000 });
      // Never sooner than its `for`, never later than the intervals allow.
      expect(down.firedAfterMs!).toBeGreaterThanOrEqual(down.earliestMs);
      expect(down.firedAfterMs!).toBeLessThanOrEqual(down.latestMs!);
      expect(down.pendingAfterMs!).toBeLessThan(down.firedAfterMs!);
      // Alertmanager held it within its group_wait of the firing (10 s here) and the watch's poll.
      expect(down.notifiedAfterMs!).toBeGreaterThanOrEqual(down.firedAfterMs! - 1500);
      expect(firings(events, "PostgresDown").map((event) => event.labels?.instance)).toEqual(["primary"]);
      expect(rule(result, "PostgresHighConnections")).toMatchObject({ fired: false, mustNotFire: true });
      expectReplicationLagCannotFire(result, events, lines);
      expect(await leftovers(result.runId)).toEqual([]);
    }

    // The exporter on the node dies with it: pg_up vanishes rather than turning 0; `up == 0` still fires.
    {
      const { result, events, lines } = onNode;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      const down = rule(result, "PostgresDown");
      expect(down.fired).toBe(false);
      expect(down.cannotFire).toMatchObject({ reason: "series-vanished" });
      expect(down.cannotFire!.detail).toMatch(/pg_up had 2 series before the fault and 1 during it/);
      const instanceDown = rule(result, "PostgresInstanceDown");
      expect(instanceDown).toMatchObject({ fired: true, expectation: "met" });
      expect(instanceDown.firedAfterMs!).toBeGreaterThanOrEqual(instanceDown.earliestMs);
      expect(firings(events, "PostgresInstanceDown").map((event) => event.labels?.instance)).toEqual(["primary"]);
      expect(lines.some((line) => /PostgresReplicationLag/.test(line))).toBe(false);
      expect(await leftovers(result.runId)).toEqual([]);
    }

    // Patroni decides the failover; the old primary's exporter (its own container) says pg_up 0 for it alone.
    {
      const { result, events, lines } = patroni;
      expect(result.verdict, result.reason ?? "").toBe("pass");
      expect(result.metrics.failover.happened).toBe(true);
      const down = rule(result, "PostgresDown");
      expect(down).toMatchObject({ fired: true, expectation: "met" });
      expect(down.firedAfterMs!).toBeGreaterThanOrEqual(down.earliestMs);
      const oldPrimary = result.metrics.failover.originalPrimary;
      expect(firings(events, "PostgresDown").map((event) => event.labels?.instance)).toEqual([oldPrimary]);
      expectReplicationLagCannotFire(result, events, lines);
      expect(await leftovers(result.runId)).toEqual([]);
    }
  });
});
