/**
 * The shipped pg-auto-failover scenarios, run for real: a monitor and two data nodes, each run by
 * pg_autoctl, in containers from pgdrill's image. The monitor decides every failover here: the
 * History holds no promote of pgdrill's, and the monitor's own log (`monitor` events) shows whom it
 * assigned prepare_promotion and what that node reported. Each test asserts what its drill must
 * show, and that nothing is left in Docker. With PGAF_NUMBERS=<file>, each drill appends its figures
 * (start-up, failover, the monitor's timings, the anatomy) to that file as a Markdown table row.
 */
import { execFile } from "node:child_process";
import { appendFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import {
  defineScenario,
  killProcess,
  partition,
  role,
  selectOne,
  trackedWrites,
  type DurationText,
  type ScenarioInput,
} from "../../harness/index.ts";
import type { RunResult } from "../../harness/result.ts";
import { runDrill, type DrillOutcome } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { MonitorEvent } from "../../harness/targets/pg-auto-failover/events.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const run = promisify(execFile);

interface Drill extends DrillOutcome {
  events: HistoryEvent[];
  /** "formation settled in N ms", from the drill's log. */
  startupMs: number | null;
}

/** Runs a shipped scenario by name, or one built here; `onEvent` sees the History as it is written. */
async function drill(what: string | ScenarioInput, onEvent?: (event: HistoryEvent) => void): Promise<Drill> {
  const { scenario, source } =
    typeof what === "string"
      ? await loadScenario(what)
      : { scenario: validateScenario(what, "pgaf-scenarios.test.ts"), source: "pgaf-scenarios.test.ts" };
  let startupMs: number | null = null;
  const log = (line: string) => {
    const settled = /formation settled in (\d+) ms/.exec(line);
    if (settled) startupMs = Number(settled[1]);
  };
  const outcome = await runDrill(scenario, { source, outDir: tempRunDir(scenario.name), log, ...(onEvent ? { onEvent } : {}) });
  const finished = { ...outcome, events: readEvents(outcome.runDir), startupMs };
  recordNumbers(scenario.name, finished);
  return finished;
}

/** The lead's closing note reads these: one Markdown row per drill, appended when PGAF_NUMBERS names a file. */
function recordNumbers(name: string, { result, startupMs }: Drill): void {
  const file = process.env.PGAF_NUMBERS;
  if (!file) return;
  const { failover, monitor: m, anatomy: a, downtime, writes } = result.metrics;
  const ms = (value: number | null | undefined) => (value === null || value === undefined ? "–" : String(Math.round(value)));
  const cells = [
    name,
    result.verdict,
    ms(startupMs),
    failover.happened ? `${ms(failover.latencyMs)} → ${failover.newPrimary}` : `none (${String(failover.happened)})`,
    ms(m.unhealthyAfterMs),
    ms(m.decidedAfterMs),
    ms(m.promotedAfterMs),
    ms(m.primaryAfterMs),
    ms(m.writesHeldMs),
    ms(m.unreachableMs),
    `${m.oldPrimary ?? "–"} → ${m.newPrimary ?? "–"}`,
    a.observed
      ? `${a.mechanism}; ${a.detectedBy}; detected ${ms(a.detectedAfterMs)}, promoted ${ms(a.promotedAfterMs)}, writable ${ms(a.writableAfterMs)}, read-only ${ms(a.readOnlyMs)}`
      : "not observed",
    ms(downtime.totalMs),
    String(writes.lostAcknowledged ?? "n/a"),
    m.why ?? "",
  ];
  appendFileSync(file, `| ${cells.map((cell) => cell.replaceAll("|", "/")).join(" | ")} |\n`);
}

/** The fast settings of pgaf-kill-primary-fast: health checks every second, acted on after 2 s, writes held 5 s. */
const FAST_TARGET = {
  kind: "pg-auto-failover" as const,
  monitor: {
    health_check_period: 1000,
    health_check_timeout: 1000,
    health_check_max_retries: 1,
    health_check_retry_delay: 500,
    node_considered_unhealthy_timeout: 2000,
    primary_demote_timeout: 5000,
  },
  keeper: { network_partition_timeout: 3 },
};

function fastScenario(name: string, schedule: ScenarioInput["schedule"], duration: DurationText): ScenarioInput {
  return defineScenario({
    name,
    target: FAST_TARGET,
    probes: [selectOne({ every: "50ms", timeout: "500ms" }), trackedWrites({ every: "50ms" }), role({ every: "100ms" })],
    steadyState: { window: "4s", minAvailability: 1 },
    schedule,
    duration,
  });
}

const isMonitor = (event: HistoryEvent): event is MonitorEvent => event.kind === "monitor";

/** The first fault's injection (or the first action's start): where the monitor's story begins. */
function firstDisruptionAt(events: readonly HistoryEvent[]): number {
  const first = events.find(
    (event) => (event.kind === "fault" && event.phase === "inject") || (event.kind === "action" && event.phase === "start"),
  );
  if (!first) throw new Error("the History has no fault and no action");
  return first.t;
}

/** What the monitor said after `since` (its log and node rows). */
function monitorSaid(events: readonly HistoryEvent[], since: number): MonitorEvent[] {
  return events.filter(isMonitor).filter((event) => event.t >= since && event.subject !== "reachable");
}

/** The states `node` reported after `since`, in order, consecutive repeats dropped. */
function reportedBy(events: readonly HistoryEvent[], node: string, since: number): string[] {
  const states = monitorSaid(events, since).flatMap((event) =>
    event.node === node && event.reportedState !== undefined ? [event.reportedState] : [],
  );
  return states.filter((state, i) => i === 0 || state !== states[i - 1]);
}

/** Whether the monitor assigned `node` the goal `goal` after `since`. */
function assigned(events: readonly HistoryEvent[], node: string, goal: string, since: number): boolean {
  return monitorSaid(events, since).some((event) => event.node === node && event.goalState === goal);
}

/** `later` comes after `earlier` in `states` (both present). */
function inOrder(states: readonly string[], earlier: string, later: string): boolean {
  const first = states.indexOf(earlier);
  return first >= 0 && states.indexOf(later, first + 1) > first;
}

/** pgdrill promoted nothing: any change of primary was the monitor's. */
function promotedByPgdrill(events: readonly HistoryEvent[]): boolean {
  return events.some((event) => event.kind === "action" && event.action === "promote");
}

/** The monitor's four edges of a failover, in the order its state machine must pass them. */
function expectMonitorOrder({ monitor }: RunResult["metrics"]): void {
  const { unhealthyAfterMs, decidedAfterMs, promotedAfterMs, primaryAfterMs } = monitor;
  for (const figure of [unhealthyAfterMs, decidedAfterMs, promotedAfterMs, primaryAfterMs]) expect(figure).not.toBeNull();
  expect(unhealthyAfterMs!).toBeLessThanOrEqual(decidedAfterMs!);
  expect(decidedAfterMs!).toBeLessThanOrEqual(promotedAfterMs!);
  expect(promotedAfterMs!).toBeLessThanOrEqual(primaryAfterMs!);
}

/** The monitor failed node1 over to node2 by its own state machine, as its log tells it. */
function expectMonitorFailover(events: readonly HistoryEvent[], result: RunResult, oldPrimaryStaysUp = false): void {
  const faultAt = firstDisruptionAt(events);
  expect(promotedByPgdrill(events)).toBe(false);
  expect(assigned(events, "node2", "prepare_promotion", faultAt)).toBe(true);
  expect(inOrder(reportedBy(events, "node2", faultAt), "stop_replication", "wait_primary")).toBe(true);
  expect(result.metrics.monitor).toMatchObject({
    observed: true,
    oldPrimary: "node1",
    newPrimary: "node2",
    decision: { node: "node2", goalState: "prepare_promotion" },
    why: null,
  });
  expect(result.metrics.failover).toMatchObject({ happened: true, originalPrimary: "node1", newPrimary: "node2" });
  const { anatomy } = result.metrics;
  expect(anatomy).toMatchObject({ observed: true, mechanism: "ha-manager", newPrimary: "node2" });
  expect(anatomy.detectedBy).toMatch(/^pg_auto_failover monitor( marked node1 unhealthy|: node2 → prepare_promotion)$/);
  // The promoted node held writes until the demote timeout: out of recovery, read-only, for a while.
  expect(anatomy.readOnlyMs!).toBeGreaterThan(0);
  expect(result.metrics.writes.lostAcknowledged).toBe(0);
  // A dead or isolated old primary leaves one writable node; one cut from the monitor alone may look writable beside node2 (below).
  if (!oldPrimaryStaysUp) expect(result.metrics.splitBrain.overlapMs).toBe(0);
}

/** Writes node1 acknowledged after `since` (ms into the run). */
function acknowledgedBy(events: readonly HistoryEvent[], node: string, since: number): number {
  return events.filter(
    (event) => event.kind === "complete" && event.type === "write" && event.outcome === "ok" && event.node === node && event.t > since,
  ).length;
}

/** Seconds since the monitor last heard `node`'s keeper (its node row's reporttime), asked inside the monitor's container. */
async function secondsSinceReport(runId: string, node: string): Promise<number> {
  const sql = `SELECT extract(epoch FROM now() - reporttime) FROM pgautofailover.node WHERE nodename = '${node}'`;
  const { stdout } = await run("docker", [
    "exec",
    "-u",
    "postgres",
    `pgdrill-${runId}-monitor`,
    "psql",
    "-Atq",
    "postgres://autoctl_node@localhost:5432/pg_auto_failover?sslmode=require",
    "-c",
    sql,
  ]);
  return Number(stdout.trim());
}

describe("shipped pg-auto-failover scenarios", { timeout: 300_000 }, () => {
  it("pgaf-kill-primary-fast: the monitor marks node1 unhealthy within seconds, promotes node2 and lets it write after the 5 s demote timeout", async () => {
    const { result, events } = await drill("pgaf-kill-primary-fast");
    expect(result.verdict).toBe("pass");
    expectMonitorFailover(events, result);
    expectMonitorOrder(result.metrics);
    const { monitor, failover } = result.metrics;
    // Checks every 1 s, 1 s timeout, one retry 0.5 s later: a dead node is marked within ~1–4 s.
    expect(monitor.unhealthyAfterMs!).toBeGreaterThan(500);
    expect(monitor.unhealthyAfterMs!).toBeLessThan(4000);
    // The demote timeout (5 s) runs from the decision's next step, so node2 writes at least 5 s after the decision, and not much later.
    expect(monitor.primaryAfterMs! - monitor.decidedAfterMs!).toBeGreaterThanOrEqual(5000);
    expect(monitor.primaryAfterMs! - monitor.decidedAfterMs!).toBeLessThan(5000 + 3000);
    expect(monitor.writesHeldMs!).toBeGreaterThan(0);
    expect(monitor.writesHeldMs!).toBeLessThanOrEqual(5000 + 500);
    expect(monitor.primaryState).toBe("wait_primary");
    expect(failover.latencyMs!).toBeLessThan(20_000);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pgaf-kill-primary: with pg_auto_failover's defaults the monitor waits out its health checks and node_considered_unhealthy_timeout, then holds writes 30 s", async () => {
    const { result, events } = await drill("pgaf-kill-primary");
    expect(result.verdict).toBe("pass");
    expectMonitorFailover(events, result);
    expectMonitorOrder(result.metrics);
    const { monitor, failover } = result.metrics;
    // Checks every 5 s, each failing one retried twice 2 s apart: not before ~5 s.
    expect(monitor.unhealthyAfterMs!).toBeGreaterThanOrEqual(5000);
    // node_considered_unhealthy_timeout (20 s) since node1's last report, sent at most a few seconds before the kill.
    expect(monitor.decidedAfterMs!).toBeGreaterThanOrEqual(15_000);
    expect(monitor.decidedAfterMs!).toBeLessThan(30_000);
    // primary_demote_timeout (30 s): node2 writes no sooner than that after the decision; held about that long once promoted.
    expect(monitor.primaryAfterMs! - monitor.decidedAfterMs!).toBeGreaterThanOrEqual(30_000);
    expect(monitor.writesHeldMs!).toBeGreaterThan(30_000 - 5000);
    expect(monitor.writesHeldMs!).toBeLessThan(30_000 + 3000);
    expect(failover.latencyMs!).toBeLessThan(60_000);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pgaf-switchover: pg_autoctl perform switchover hands the primary to node2 through the monitor's states, briefly and losing nothing", async () => {
    const { result, events } = await drill("pgaf-switchover");
    expect(result.verdict).toBe("pass");
    expect(
      events.some((event) => event.kind === "action" && event.action === "perform" && event.phase === "end" && event.ok === true),
    ).toBe(true);
    expect(promotedByPgdrill(events)).toBe(false);
    const since = firstDisruptionAt(events);
    // The monitor drained node1 and promoted node2, which ends primary once node1 is its secondary again.
    expect(assigned(events, "node1", "draining", since)).toBe(true);
    expect(assigned(events, "node2", "prepare_promotion", since)).toBe(true);
    const node2 = reportedBy(events, "node2", since);
    expect(inOrder(node2, "stop_replication", "wait_primary")).toBe(true);
    expect(node2.at(-1)).toBe("primary");
    expect(inOrder(reportedBy(events, "node1", since), "demoted", "secondary")).toBe(true);
    const { monitor, roles, downtime, writes, splitBrain, failover, anatomy } = result.metrics;
    // A hand-over the operator asked for: the failover and its anatomy count from the perform, with no detection to wait for.
    expect(failover).toMatchObject({ happened: true, originalPrimary: "node1", newPrimary: "node2" });
    expect(anatomy).toMatchObject({ observed: true, mechanism: "switchover", detectedAfterMs: 0 });
    // Nothing failed: the first decision is the monitor's answer to the operator. node1, demoted, restarts its PostgreSQL as a
    // standby, and the monitor's health check can catch it down then (once in CI under load, 7.7 s in): an unhealthy mark may
    // follow the decision, never come before it.
    expect(monitor).toMatchObject({ oldPrimary: "node1", newPrimary: "node2", why: null });
    expect(monitor.decidedAfterMs!).toBeLessThan(monitor.primaryAfterMs!);
    if (monitor.unhealthyAfterMs !== null) expect(monitor.unhealthyAfterMs).toBeGreaterThan(monitor.decidedAfterMs!);
    const lastRole = (node: string) => roles.changes.filter((change) => change.node === node).at(-1);
    expect(lastRole("node2")).toMatchObject({ role: "primary" });
    expect(lastRole("node2")?.readOnly).toBeUndefined();
    expect(lastRole("node1")).toMatchObject({ role: "standby" });
    expect(downtime.totalMs).toBeLessThan(15_000);
    expect(writes.lostAcknowledged).toBe(0);
    expect(splitBrain.overlapMs).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pgaf-monitor-down-then-kill-primary: while its monitor is down pg_auto_failover cannot fail over; back, it waits out its grace, then does", async () => {
    const { result, events } = await drill("pgaf-monitor-down-then-kill-primary");
    expect(result.verdict).toBe("pass");
    expect(promotedByPgdrill(events)).toBe(false);
    const downAt = firstDisruptionAt(events);
    const backAt = events.find((event) => event.kind === "fault" && event.phase === "heal" && event.fault === "monitor-outage")!.t;
    const { monitor, roles, splitBrain, writes, failover } = result.metrics;
    // node2 was never writable while the monitor was down: the role probe never saw it out of recovery before.
    expect(roles.changes.some((change) => change.node === "node2" && change.role === "primary" && change.t < backAt)).toBe(false);
    expect(
      monitorSaid(events, downAt).some((event) => event.t < backAt && event.node === "node2" && event.goalState === "prepare_promotion"),
    ).toBe(false);
    // pgdrill could not read the monitor for about the outage.
    expect(monitor.unreachableMs).toBeGreaterThan(backAt - downAt - 5000);
    expect(monitor.unreachableMs).toBeLessThan(backAt - downAt + 5000);
    // Back, the monitor decides only after its startup_grace_period (10 s): it needs a health check it ran since it started.
    expect(monitor.decidedAfterMs! - (backAt - downAt)).toBeGreaterThan(10_000 - 3000);
    expect(monitor.decision).toEqual({ node: "node2", goalState: "prepare_promotion" });
    expect(failover).toMatchObject({ happened: true, originalPrimary: "node1", newPrimary: "node2" });
    expect(failover.latencyMs!).toBeGreaterThan(backAt - downAt);
    expect(splitBrain.overlapMs).toBe(0);
    expect(writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pgaf-partition-primary: the isolated primary stops taking writes, the monitor promotes node2, and node1 rejoins as its standby after the heal", async () => {
    const { result, events } = await drill("pgaf-partition-primary");
    expect(result.metrics.splitBrain).toMatchObject({ detected: false, overlapMs: 0 });
    expect(result.verdict).toBe("pass");
    expectMonitorFailover(events, result);
    const cutAt = firstDisruptionAt(events);
    const healAt = events.find((event) => event.kind === "fault" && event.phase === "heal")!.t;
    // Cut off, the old primary stopped being one: the role probe saw it gone or in recovery, never writable again until it rejoined.
    const node1 = result.metrics.roles.changes.filter((change) => change.node === "node1" && change.t > cutAt);
    expect(node1.length).toBeGreaterThan(0);
    expect(node1.every((change) => change.role !== "primary")).toBe(true);
    // Its first report after the heal says it demoted itself while cut off (demote_timeout: PostgreSQL stopped);
    // then the monitor has it follow node2.
    const node1Reports = reportedBy(events, "node1", healAt);
    expect(node1Reports[0]).toBe("demote_timeout");
    expect(inOrder(node1Reports, "demoted", "secondary")).toBe(true);
    expect(node1.at(-1)).toMatchObject({ role: "standby" });
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pgaf-kill-keeper: with its keeper dead the primary keeps serving, the monitor keeps it, and the heal starts the keeper again", async () => {
    // Seconds since node1's keeper last reported, asked of the monitor 15 s into the 20 s kill and 3 s after the heal.
    const keeperSilence: { dead?: Promise<number>; revived?: Promise<number> } = {};
    let runId = "";
    const askAfter = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)).then(() => secondsSinceReport(runId, "node1"));
    const { result, events } = await drill("pgaf-kill-keeper", (event) => {
      if (event.kind === "run-start") runId = event.runId;
      if (event.kind === "fault" && event.phase === "inject") keeperSilence.dead = askAfter(15_000);
      if (event.kind === "fault" && event.phase === "heal") keeperSilence.revived = askAfter(3000);
    });
    expect(result.verdict).toBe("pass");
    const { downtime, failover, monitor, writes } = result.metrics;
    expect(downtime.totalMs).toBe(0);
    expect(failover.happened).toBe(false);
    expect(writes.lostAcknowledged).toBe(0);
    // Its health checks reach PostgreSQL: the monitor never marks node1 unhealthy, though node1 sends no report for 20 s.
    const faultAt = firstDisruptionAt(events);
    expect(
      monitorSaid(events, faultAt).some(
        (event) => event.node === "node1" && (event.health === "bad" || /marked as unhealthy/.test(event.description ?? "")),
      ),
    ).toBe(false);
    expect(monitor).toMatchObject({ oldPrimary: "node1", newPrimary: null, unhealthyAfterMs: null, decidedAfterMs: null });
    expect(monitor.why).toMatch(/never marked node1 unhealthy/);
    // The keeper was silent for the 20 s it was dead, and reports again once started.
    expect(await keeperSilence.dead).toBeGreaterThan(12);
    expect(await keeperSilence.revived).toBeLessThan(2.5);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("partition between the primary and the monitor alone: the monitor fails over anyway, and the old primary acknowledges no write once node2 takes them", async () => {
    /*
     * The monitor judges a node by its own health checks and the node's reports, never by whether a
     * standby still reaches it: node1 cut from the monitor fails both, so after node_considered_unhealthy_timeout
     * the monitor promotes node2, though node2 streams from node1 until then. What node1 does next varied:
     * in six runs its keeper, having neither monitor nor standby once node2 stopped following, shut
     * PostgreSQL down after network_partition_timeout (3 s), before node2 took writes; in one CI run under
     * load it stayed primary until the heal, writable by its own say, 11.5 s beside node2. Either way
     * synchronous replication (no standby left to confirm) holds its commits: node1 acknowledges no
     * write after node2 takes writes, and the split-brain check counts what each side acknowledged.
     * After the heal the monitor has it demoted and it rejoins as node2's standby.
     */
    const { result, events } = await drill(
      fastScenario(
        "pgaf-cut-primary-from-monitor",
        [{ at: "4s", for: "20s", fault: partition({ between: ["primary", "monitor"] }) }],
        "35s",
      ),
    );
    expect(result.verdict).toBe("pass");
    expectMonitorFailover(events, result, true);
    expectMonitorOrder(result.metrics);
    const { monitor, roles, splitBrain } = result.metrics;
    // The same clock as a dead node: checks every 1 s, node_considered_unhealthy_timeout 2 s.
    expect(monitor.unhealthyAfterMs!).toBeLessThan(6000);
    const node2Writable = roles.changes.find(
      (change) => change.node === "node2" && change.role === "primary" && change.readOnly === undefined,
    );
    expect(node2Writable).toBeDefined();
    expect(acknowledgedBy(events, "node1", node2Writable!.t)).toBe(0);
    expect(acknowledgedBy(events, "node2", node2Writable!.t)).toBeGreaterThan(0);
    if (splitBrain.detected) {
      expect(splitBrain.acknowledgedInOverlap.node1).toBe(0);
      expect(splitBrain.acknowledgedInOverlap.node2).toBeGreaterThan(0);
    }
    // Its first report after the heal: demote_timeout if it put itself there while cut off, else the demotion the monitor asks.
    const healAt = events.find((event) => event.kind === "fault" && event.phase === "heal")!.t;
    const node1Reports = reportedBy(events, "node1", healAt);
    expect(["demote_timeout", "demoted"]).toContain(node1Reports[0]);
    expect(inOrder(node1Reports, "demoted", "secondary")).toBe(true);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("node-maintenance on the standby: the monitor takes node2 out of the quorum (node1 writes alone) and back, with no failover", async () => {
    const { result, events } = await drill(
      fastScenario(
        "pgaf-maintenance-standby",
        [
          { at: "4s", action: { kind: "node-maintenance", node: "replica", mode: "enable" } },
          { at: "14s", action: { kind: "node-maintenance", node: "replica", mode: "disable" } },
        ],
        "30s",
      ),
    );
    expect(result.verdict).toBe("pass");
    const ends = events.filter((event) => event.kind === "action" && event.action === "node-maintenance" && event.phase === "end");
    expect(ends.map((event) => event.kind === "action" && event.ok)).toEqual([true, true]);
    const since = firstDisruptionAt(events);
    const node2 = reportedBy(events, "node2", since);
    expect(inOrder(node2, "maintenance", "secondary")).toBe(true);
    // With its only standby away, node1 stops waiting for a synchronous standby (wait_primary), then is primary again.
    expect(inOrder(reportedBy(events, "node1", since), "wait_primary", "primary")).toBe(true);
    const { failover, monitor, writes, splitBrain } = result.metrics;
    expect(failover.happened).not.toBe(true);
    expect(monitor.newPrimary).toBeNull();
    expect(monitor.why).toBeNull();
    expect(writes.lostAcknowledged).toBe(0);
    expect(splitBrain.overlapMs).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("kill-process postgres on the primary: the keeper restarts PostgreSQL, but if it reported it down first the monitor fails over at once", async () => {
    const { result, events } = await drill(
      fastScenario("pgaf-kill-postgres", [{ at: "4s", fault: killProcess("primary", "postgres") }], "30s"),
    );
    expect(result.verdict).toBe("pass");
    const { failover, recovery, monitor, writes, splitBrain } = result.metrics;
    const faultAt = firstDisruptionAt(events);
    /*
     * The keeper restarts PostgreSQL within about a second, and reports to the monitor every second.
     * The monitor holds a node whose keeper reports PostgreSQL not running as unhealthy at once (its
     * IsUnhealthy), without waiting for health checks: whichever comes first decides. Reported down:
     * node2 is promoted within a couple of seconds. Restarted first: node1 serves again, no failover.
     */
    const reportedDown = monitorSaid(events, faultAt).some((event) => event.node === "node1" && event.pgRunning === false);
    if (reportedDown) {
      expect(monitor.decision).toEqual({ node: "node2", goalState: "prepare_promotion" });
      expect(monitor.decidedAfterMs!).toBeLessThan(3000);
      expect(failover).toMatchObject({ happened: true, originalPrimary: "node1", newPrimary: "node2" });
      expect(result.metrics.anatomy.mechanism).toBe("ha-manager");
    } else {
      expect(failover.happened).toBe(false);
      expect(recovery.node).toBe("node1");
      expect(monitor.newPrimary).toBeNull();
      expect(assigned(events, "node2", "prepare_promotion", faultAt)).toBe(false);
    }
    expect(promotedByPgdrill(events)).toBe(false);
    expect(recovery.latencyMs!).toBeLessThan(10_000);
    expect(writes.lostAcknowledged).toBe(0);
    expect(splitBrain.overlapMs).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });
});
