/**
 * The monitor check (harness/targets/pg-auto-failover/monitor-check.ts) on pg_auto_failover's own
 * sequences, as measured with the defaults and a kill -9 of the primary's container at t = 0: marked
 * unhealthy at 10.6 s, node2 assigned prepare_promotion at 20.2 s, stop_replication reported at
 * 21.36 s, wait_primary at 50.69 s after the 30 s demote timeout. Then the ways no failover comes
 * (the monitor gone, no candidate, a primary that kept answering), the report's rows, and the
 * failover anatomy reading the monitor's unhealthy mark as the detection.
 */
import { describe, expect, it } from "vitest";
import { anatomyChecker } from "../../harness/checker/anatomy.ts";
import type { HistoryEvent, ProbeRecord } from "../../harness/history/events.ts";
import type { Metrics } from "../../harness/result.ts";
import type { MonitorEvent } from "../../harness/targets/pg-auto-failover/events.ts";
import { monitorChecker } from "../../harness/targets/pg-auto-failover/monitor-check.ts";
import { monitorRows } from "../../harness/targets/pg-auto-failover/report-rows.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

const FAULT = 5000;
let nextId = 1;

/** A row of the monitor's event log, read at FAULT + `after`. */
function logged(after: number, node: string, reportedState: string, goalState: string, description: string): MonitorEvent {
  return { kind: "monitor", t: FAULT + after, subject: "event", node, eventId: nextId++, reportedState, goalState, description };
}
const nodeRow = (
  after: number,
  node: string,
  reportedState: string,
  goalState: string,
  health: MonitorEvent["health"] = "good",
): MonitorEvent => ({
  kind: "monitor",
  t: FAULT + after,
  subject: "node",
  node,
  reportedState,
  goalState,
  health,
  pgRunning: true,
});
const reachable = (after: number, up: boolean): MonitorEvent => ({
  kind: "monitor",
  t: FAULT + after,
  subject: "reachable",
  reachable: up,
  ...(up ? {} : { error: "ECONNREFUSED connect ECONNREFUSED 127.0.0.1:5431" }),
});

const UNHEALTHY = 'Node node 1 "node1" (node1:5432) is marked as unhealthy by the monitor';
const DECIDED =
  'Setting goal state of node 1 "node1" (node1:5432) to draining and node 2 "node2" (node2:5432) to prepare_promotion after node 1 "node1" (node1:5432) became unhealthy.';
const TIMED_OUT =
  'Setting goal state of node 2 "node2" (node2:5432) to wait_primary and node 1 "node1" (node1:5432) to demoted after the demote timeout expired.';

/** A formation that came up healthy before the drill: node1 primary, node2 secondary, the monitor read from the start. */
function formation(): MonitorEvent[] {
  nextId = 1;
  return [
    reachable(-4900, true),
    logged(-4900, "node1", "single", "single", 'New state is reported by node 1 "node1" (node1:5432): "single"'),
    logged(-4900, "node1", "primary", "primary", 'New state is reported by node 1 "node1" (node1:5432): "primary"'),
    logged(-4900, "node2", "secondary", "secondary", 'New state is reported by node 2 "node2" (node2:5432): "secondary"'),
    nodeRow(-4900, "node1", "primary", "primary"),
    nodeRow(-4900, "node2", "secondary", "secondary"),
  ];
}

/** The default-settings failover after a kill -9 of node1, as measured. */
function failover(): MonitorEvent[] {
  return [
    logged(10_600, "node1", "primary", "primary", UNHEALTHY),
    nodeRow(10_650, "node1", "primary", "primary", "bad"),
    logged(20_200, "node1", "primary", "draining", DECIDED),
    logged(20_200, "node2", "secondary", "prepare_promotion", DECIDED),
    logged(
      20_260,
      "node2",
      "prepare_promotion",
      "stop_replication",
      'New state is reported by node 2 "node2" (node2:5432): "prepare_promotion"',
    ),
    logged(20_260, "node1", "primary", "demote_timeout", DECIDED),
    nodeRow(20_300, "node2", "prepare_promotion", "stop_replication"),
    logged(
      21_360,
      "node2",
      "stop_replication",
      "stop_replication",
      'New state is reported by node 2 "node2" (node2:5432): "stop_replication"',
    ),
    logged(50_600, "node2", "stop_replication", "wait_primary", TIMED_OUT),
    logged(50_600, "node1", "primary", "demoted", TIMED_OUT),
    logged(50_690, "node2", "wait_primary", "wait_primary", 'New state is reported by node 2 "node2" (node2:5432): "wait_primary"'),
    nodeRow(50_700, "node2", "wait_primary", "wait_primary"),
  ];
}

function drill(monitor: MonitorEvent[], endAfter = 60_000, faults: Array<[number, string]> = [[FAULT, "kill node1"]]): HistoryEvent[] {
  const builder = history().start({ primary: "node1", nodes: ["node1", "node2"] });
  builder.events.push(...formation());
  faults.forEach(([t, label], i) => builder.fault(t, label, "inject", `f${i + 1}`));
  builder.events.push(...monitor);
  builder.events.sort((a, b) => a.t - b.t);
  return builder.end(FAULT + endAfter).events;
}

const metricsWith = (monitor: Metrics["monitor"]) => ({ monitor }) as Metrics;

describe("the monitor check", () => {
  it("times the default-settings failover: unhealthy 10.6 s, decided 20.2 s, promoted 21.36 s, writes allowed 50.69 s", () => {
    const { valid, metrics } = monitorChecker.check(drill(failover()));
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({
      observed: true,
      oldPrimary: "node1",
      newPrimary: "node2",
      unhealthyAfterMs: 10_600,
      decidedAfterMs: 20_200,
      decision: { node: "node2", goalState: "prepare_promotion" },
      promotedAfterMs: 21_360,
      promotedState: "stop_replication",
      primaryAfterMs: 50_690,
      primaryState: "wait_primary",
      writesHeldMs: 29_330,
      unreachableMs: 0,
      why: null,
    });
    // The monitor's log from the fault on, not the bootstrap's.
    expect(metrics.transitions).toHaveLength(9);
    expect(metrics.transitions[0]).toEqual({
      afterMs: 10_600,
      node: "node1",
      reportedState: "primary",
      goalState: "primary",
      description: UNHEALTHY,
    });
  });

  it("with two standbys, takes the first failover goal as the decision: node1 draining and report_lsn, before prepare_promotion", () => {
    // A real run (3 nodes, fast settings): the monitor drained node1 and asked both standbys for their LSN 2.4 s before it
    // set node2 to prepare_promotion. The decision is that first goal, not the prepare_promotion.
    const events = drill([
      logged(1424, "node1", "primary", "primary", UNHEALTHY),
      logged(
        3813,
        "node1",
        "primary",
        "draining",
        'Setting goal state of node 1 "node1" (node1:5432) to draining after it became unhealthy.',
      ),
      logged(
        3813,
        "node2",
        "secondary",
        "report_lsn",
        'Setting goal state of node 3 "node2" (node2:5432) to report_lsn to find the failover candidate',
      ),
      logged(5455, "node2", "report_lsn", "fast_forward", 'Setting goal state of node 3 "node2" (node2:5432) to fast_forward after …'),
      logged(5978, "node2", "fast_forward", "prepare_promotion", 'Setting goal state of node 3 "node2" (node2:5432) to prepare_promotion'),
      logged(
        7356,
        "node2",
        "stop_replication",
        "stop_replication",
        'New state is reported by node 3 "node2" (node2:5432): "stop_replication"',
      ),
      logged(11_790, "node2", "wait_primary", "wait_primary", 'New state is reported by node 3 "node2" (node2:5432): "wait_primary"'),
    ]);
    const { metrics } = monitorChecker.check(events);
    expect(metrics).toMatchObject({
      unhealthyAfterMs: 1424,
      decidedAfterMs: 3813,
      decision: { node: "node2", goalState: "report_lsn" },
      promotedAfterMs: 7356,
      primaryAfterMs: 11_790,
      newPrimary: "node2",
    });
  });

  it("says the decision waited for the monitor when it came only after the monitor answered again", () => {
    // A monitor-outage from the first fault for 25 s; the primary killed meanwhile; the monitor decides 5 s after it is back.
    const events = drill([
      reachable(50, false),
      reachable(25_200, true),
      logged(30_000, "node1", "primary", "primary", UNHEALTHY),
      logged(30_300, "node1", "primary", "draining", DECIDED),
      logged(30_300, "node2", "secondary", "prepare_promotion", DECIDED),
      logged(
        31_500,
        "node2",
        "stop_replication",
        "stop_replication",
        'New state is reported by node 2 "node2" (node2:5432): "stop_replication"',
      ),
      logged(36_600, "node2", "wait_primary", "wait_primary", 'New state is reported by node 2 "node2" (node2:5432): "wait_primary"'),
    ]);
    const { metrics } = monitorChecker.check(events);
    expect(metrics).toMatchObject({ unreachableMs: 25_150, decidedAfterMs: 30_300, newPrimary: "node2", why: null });
    const row = monitorRows(metricsWith(metrics)).find((candidate) => candidate.label === "monitor unreachable");
    expect(row?.value).toBe(
      "for 25.15 s after the first fault: no failover can be decided while it is down, and this one came after it answered again",
    );
  });

  it("does not take the old primary's unhealthy mark after the hand-over (a standby rejoining) for the failure's detection", () => {
    // A real pgaf-switchover (CI): node2 took writes at 6.9 s, node1 rejoined as its standby, and one health check failed at 8.4 s.
    const events = drill(
      [
        logged(190, "node1", "primary", "draining", DECIDED),
        logged(190, "node2", "secondary", "prepare_promotion", DECIDED),
        logged(
          6699,
          "node2",
          "stop_replication",
          "stop_replication",
          'New state is reported by node 2 "node2" (node2:5432): "stop_replication"',
        ),
        logged(6909, "node2", "wait_primary", "wait_primary", 'New state is reported by node 2 "node2" (node2:5432): "wait_primary"'),
        logged(7752, "node1", "secondary", "secondary", 'New state is reported by node 1 "node1" (node1:5432): "secondary"'),
        logged(8397, "node1", "secondary", "secondary", UNHEALTHY),
      ],
      20_000,
    );
    const { metrics } = monitorChecker.check(events);
    expect(metrics).toMatchObject({ unhealthyAfterMs: null, decidedAfterMs: 190, primaryAfterMs: 6909, newPrimary: "node2" });
  });

  it("draws the monitor's rows: each step after the first fault, and how long writes were held", () => {
    const rows = monitorRows(metricsWith(monitorChecker.check(drill(failover())).metrics));
    expect(rows).toEqual([
      { label: "monitor marked node1 unhealthy", value: "10.60 s after the first fault" },
      { label: "monitor decided the failover", value: "20.20 s after the first fault (node2 → prepare_promotion)" },
      { label: "new primary promoted, writes held", value: "21.36 s after the first fault (node2 reported stop_replication)" },
      { label: "writes allowed", value: "50.69 s after the first fault (node2 reported wait_primary), held 29.33 s" },
    ]);
    expect(monitorRows(metricsWith(monitorChecker.empty()))).toEqual([]);
  });

  it("says the monitor was unreachable when it was killed before the primary, and counts the time", () => {
    const events = drill([reachable(150, false)], 60_000, [
      [FAULT, "kill monitor"],
      [FAULT + 3000, "kill node1"],
    ]);
    const { metrics } = monitorChecker.check(events);
    expect(metrics).toMatchObject({
      oldPrimary: "node1",
      newPrimary: null,
      unhealthyAfterMs: null,
      promotedAfterMs: null,
      unreachableMs: 60_000 - 150,
    });
    expect(metrics.why).toBe(
      "the monitor was unreachable from 150.0 ms after the first fault: pg_auto_failover cannot fail over without its monitor",
    );
    expect(metrics.transitions).toEqual([
      {
        afterMs: 150,
        node: null,
        reportedState: null,
        goalState: null,
        description: "pgdrill cannot read the monitor: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:5431",
      },
    ]);
    expect(monitorRows(metricsWith(metrics))).toEqual([
      { label: "monitor unreachable", value: "for 59.85 s after the first fault" },
      { label: "no failover", value: [{ text: metrics.why, strong: true, bad: true }] },
    ]);
  });

  it("counts the unreachable time only after the first fault, until the monitor answered again", () => {
    const { metrics } = monitorChecker.check(drill([reachable(-1000, false), reachable(2000, true), ...failover()]));
    expect(metrics).toMatchObject({ unreachableMs: 2000, newPrimary: "node2", why: null });
  });

  it("says the monitor assigned no promotion when it marked the primary unhealthy and had no candidate", () => {
    const { metrics } = monitorChecker.check(drill(failover().slice(0, 2)));
    expect(metrics).toMatchObject({ unhealthyAfterMs: 10_600, decidedAfterMs: null, newPrimary: null });
    expect(metrics.why).toBe(
      "the monitor marked node1 unhealthy 10.60 s after the first fault but assigned no promotion: no candidate (candidate priorities 0, " +
        "out of the replication quorum, or lagging) (standbys last reported node2: secondary)",
    );
  });

  it("says the monitor never marked the primary unhealthy when it kept answering", () => {
    const { metrics } = monitorChecker.check(drill([], 60_000, [[FAULT, "kill node2"]]));
    expect(metrics.why).toBe("the monitor never marked node1 unhealthy (node1 kept answering its health checks)");
  });

  it("says writes were still held when the History ended inside the demote timeout", () => {
    const { metrics } = monitorChecker.check(drill(failover().slice(0, 8), 30_000));
    expect(metrics).toMatchObject({
      newPrimary: null,
      promotedAfterMs: 21_360,
      promotedState: "stop_replication",
      primaryAfterMs: null,
      writesHeldMs: null,
    });
    expect(metrics.why).toMatch(
      /^the monitor promoted a standby \(stop_replication 21\.36 s after the first fault\), but it still held writes/,
    );
  });

  it("takes a pg_autoctl perform's first new goal as the decision when no fault started it", () => {
    const builder = history().start({ primary: "node1", nodes: ["node1", "node2"] });
    builder.events.push(...formation());
    builder.events.push(
      { kind: "action", t: FAULT, phase: "start", id: "a1", action: "perform", label: "pg_autoctl perform switchover" },
      logged(
        300,
        "node1",
        "primary",
        "draining",
        "Setting goal state of node 1 … to draining and node 2 … to prepare_promotion after a user-initiated failover.",
      ),
      logged(
        300,
        "node2",
        "secondary",
        "prepare_promotion",
        "Setting goal state of node 1 … to draining and node 2 … to prepare_promotion",
      ),
      logged(1500, "node2", "wait_primary", "wait_primary", 'New state is reported by node 2 "node2" (node2:5432): "wait_primary"'),
    );
    const { metrics } = monitorChecker.check(builder.end(FAULT + 3000).events);
    expect(metrics).toMatchObject({
      decidedAfterMs: 300,
      // The same transaction drained node1 and set node2 to prepare_promotion: the standby names the decision.
      decision: { node: "node2", goalState: "prepare_promotion" },
      // stop_replication went unseen: the writing state is the promotion too, and no write was held.
      promotedAfterMs: 1500,
      primaryAfterMs: 1500,
      writesHeldMs: 0,
      newPrimary: "node2",
    });
  });

  it("is valid and unobserved without monitor events", () => {
    const { valid, metrics } = monitorChecker.check(history().start().fault(1000).end(2000).events);
    expect(valid).toBe(true);
    expect(metrics).toEqual(monitorChecker.empty());
  });
});

describe("the failover anatomy with pg_auto_failover's signs", () => {
  const PROBES: ProbeRecord[] = [{ name: "writes", type: "write", everyMs: 1000, timeoutMs: 1000, endpoint: "rw", connection: "held" }];

  /** Writes on node1 until the kill, failing until node2 takes writes; the role probe sees node2 out of recovery but read-only first. */
  function clients(builder: HistoryBuilder): HistoryBuilder {
    let id = 1;
    for (let at = 0; at < FAULT; at += 1000) builder.write(id++, at, "ok", 5, "node1");
    for (let at = FAULT; at < FAULT + 53_000; at += 1000) {
      const back = at >= FAULT + 51_000;
      builder.write(id++, at, back ? "ok" : "fail", 5, back ? "node2" : "node1");
    }
    builder
      .role(FAULT + 20_000, "node2", "standby")
      .role(FAULT + 20_460, "node2", "read-only", 2)
      .role(FAULT + 50_760, "node2", "writable", 2);
    return builder;
  }

  it("reads the monitor's unhealthy mark as the detection and stop_replication as the promotion's word", () => {
    const builder = clients(history().start({ primary: "node1", nodes: ["node1", "node2"], probes: PROBES }));
    builder.events.push(...formation());
    builder.fault(FAULT, "kill node1");
    builder.events.push(...failover());
    builder.events.sort((a, b) => a.t - b.t);
    const { metrics } = anatomyChecker.check(builder.end(FAULT + 60_000).events);
    expect(metrics).toMatchObject({
      mechanism: "ha-manager",
      newPrimary: "node2",
      detectedAfterMs: 10_600,
      detectedBy: "pg_auto_failover monitor marked node1 unhealthy",
      // The role probe saw node2 out of recovery (20.462 s) before it reported stop_replication (21.36 s): the earlier counts.
      promotedAfterMs: 20_462,
      writableAfterMs: 50_762,
    });
  });

  it("takes the new primary's stop_replication report when no role probe ran, and the monitor's prepare_promotion without an unhealthy mark", () => {
    const builder = history().start({ primary: "node1", nodes: ["node1", "node2"], probes: PROBES });
    let id = 1;
    for (let at = 0; at < FAULT; at += 1000) builder.write(id++, at, "ok", 5, "node1");
    for (let at = FAULT; at < FAULT + 53_000; at += 1000)
      builder.write(id++, at, at >= FAULT + 51_000 ? "ok" : "fail", 5, at >= FAULT + 51_000 ? "node2" : "node1");
    builder.events.push(...formation());
    builder.fault(FAULT, "kill node1");
    // Without the unhealthy mark (read in neither the log nor the rows).
    builder.events.push(...failover().slice(2));
    builder.events.sort((a, b) => a.t - b.t);
    const { metrics } = anatomyChecker.check(builder.end(FAULT + 60_000).events);
    expect(metrics).toMatchObject({
      detectedAfterMs: 20_200,
      detectedBy: "pg_auto_failover monitor: node2 → prepare_promotion",
      promotedAfterMs: 21_360,
      promotedBy: "pg_auto_failover: node2 reported stop_replication",
    });
  });
});
