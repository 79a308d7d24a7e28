import { describe, expect, it } from "vitest";
import { anatomyChecker } from "../../harness/checker/anatomy.ts";
import { sharedPass } from "../../harness/checker/checker.ts";
import { runChecks } from "../../harness/checker/index.ts";
import { evaluateGate, parseGate } from "../../harness/gate/gate.ts";
import type { HistoryEvent, ProbeRecord } from "../../harness/history/events.ts";
import { splitHistory } from "../../harness/history/read-model.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

const PROBES: ProbeRecord[] = [
  { name: "writes", type: "write", everyMs: 100, timeoutMs: 1000, endpoint: "rw", connection: "held" },
  { name: "pooled", type: "select1", everyMs: 100, timeoutMs: 1000, endpoint: "pooler", connection: "fresh" },
];

/** Writes (and a pooled select1) every 100 ms on the primary up to t = 900, the standby sampled in recovery. */
function healthy(): HistoryBuilder {
  const builder = history().start({ probes: PROBES });
  for (let id = 1; id <= 10; id += 1) {
    builder.write(id, (id - 1) * 100, "ok");
    builder.op("pooled", "select1", (id - 1) * 100, (id - 1) * 100 + 3, "ok", { node: "primary" });
    builder.role((id - 1) * 100, "standby", "standby");
  }
  return builder;
}

function push(builder: HistoryBuilder, ...events: HistoryEvent[]): HistoryBuilder {
  builder.events.push(...events);
  return builder;
}

/** Writes fail from the fault until `backAt`, then succeed on the standby; the pooled probe fails until `pooledBackAt`. */
function outage(builder: HistoryBuilder, backAt: number, pooledBackAt: number): HistoryBuilder {
  let id = 100;
  for (let at = 1000; at < Math.max(backAt, pooledBackAt) + 200; at += 100) {
    builder.write(id++, at, at < backAt ? "fail" : "ok", 10, at < backAt ? "primary" : "standby");
    builder.op("pooled", "select1", at, at + 5, at < pooledBackAt ? "fail" : "ok", { node: at < pooledBackAt ? "primary" : "standby" });
  }
  return builder;
}

describe("failover anatomy", () => {
  it("splits a pair failover into detection (pgdrill's promote), promotion (the role probe) and each client's recovery", () => {
    const builder = healthy().fault(950, "kill primary");
    push(builder, {
      kind: "action",
      t: 950,
      phase: "start",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      afterMs: 1000,
    });
    builder.role(2000, "standby", "standby").role(2100, "standby", "primary", 2);
    push(builder, {
      kind: "action",
      t: 2110,
      phase: "end",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      ok: true,
    });
    const events = outage(builder, 2150, 2500).end(3000).events;

    const { valid, metrics } = anatomyChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({
      observed: true,
      faultAtMs: 950,
      mechanism: "pgdrill",
      detectedAfterMs: 1000,
      detectedBy: `pgdrill's "promote standby" acted after its 1.00 s delay`,
      // Seen out of recovery by the sample completing at 2102; the one invoked at 2000 still saw it in recovery.
      promotedAfterMs: 1152,
      promotedLowerMs: 1050,
      promotedBy: "the role probe saw standby out of recovery",
      newPrimary: "standby",
      detectionMs: 1000,
      promotionMs: 152,
    });
    expect(metrics.clients).toEqual([
      { probe: "writes", type: "write", via: "rw, a held connection", recoveredAfterMs: 2210 - 950, recoveryMs: 2210 - 950 - 1152 },
      { probe: "pooled", type: "select1", via: "pooler, fresh connections", recoveredAfterMs: 2505 - 950, recoveryMs: 2505 - 950 - 1152 },
    ]);
    // All clients were back when the slowest path was.
    expect(metrics.clientsRecoveredAfterMs).toBe(2505 - 950);
    expect(metrics.clientRecoveryMs).toBe(2505 - 2102);
  });

  it("tells promoted from writable when the role probe saw the new primary read-only, and times clients from writable", () => {
    const builder = healthy().fault(950, "kill primary");
    push(builder, {
      kind: "action",
      t: 950,
      phase: "start",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      afterMs: 1000,
    });
    // Out of recovery at 2102, still read-only at 2302, writable by 2402 (pg_auto_failover's demote timeout, shortened).
    builder.role(2000, "standby", "standby").role(2100, "standby", "read-only", 2).role(2300, "standby", "read-only", 2);
    builder.role(2400, "standby", "writable", 2);
    const events = outage(builder, 2450, 2150).end(3000).events;

    const { metrics } = anatomyChecker.check(events);
    expect(metrics).toMatchObject({ newPrimary: "standby", promotedAfterMs: 1152, writableAfterMs: 2402 - 950, readOnlyMs: 300 });
    // Writes came back at 2510, 108 ms after the writable sample; the pooled select1 was back while it was read-only: 0 after.
    expect(metrics.clients.map((client) => [client.probe, client.recoveryMs])).toEqual([
      ["writes", 2510 - 2402],
      ["pooled", 0],
    ]);
  });

  it("has no read-only phase when the new primary was writable as soon as it was seen promoted", () => {
    const builder = healthy().fault(950, "kill primary");
    push(builder, {
      kind: "action",
      t: 950,
      phase: "start",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      afterMs: 1000,
    });
    builder.role(2000, "standby", "standby").role(2100, "standby", "writable", 2);
    const { metrics } = anatomyChecker.check(outage(builder, 2150, 2150).end(3000).events);
    expect(metrics).toMatchObject({ promotedAfterMs: 1152, writableAfterMs: 1152, readOnlyMs: 0 });
  });

  it("counts from when a command said its fault really happened, and takes its word on what the HA system did (pgdrill-event lines)", () => {
    const builder = healthy();
    // The command started at 950, said the failover began at 1200 and that pg_autoctl promoted the standby at 1900.
    push(builder, {
      kind: "fault",
      t: 950,
      phase: "inject",
      id: "f1",
      fault: "command",
      label: "pg_autoctl perform failover",
      nodes: [],
      ok: true,
      instant: true,
      happenedT: 1200,
      said: [{ t: 1900, text: "pg_autoctl: node 2 promoted" }],
    });
    builder.role(2000, "standby", "standby").role(2100, "standby", "primary", 2);
    const events = outage(builder, 2150, 2500).end(3000).events;
    const { metrics } = anatomyChecker.check(events);
    expect(metrics).toMatchObject({
      observed: true,
      faultAtMs: 1200,
      mechanism: "ha-manager",
      detectedAfterMs: 700,
      detectedBy: 'the command said "pg_autoctl: node 2 promoted"',
      promotedAfterMs: 2102 - 1200,
    });
    expect(metrics.clients[0]).toMatchObject({ probe: "writes", recoveredAfterMs: 2210 - 1200 });
  });

  it("takes the mechanism's word for the promotion when it came before the role probe's next sample", () => {
    const builder = healthy().fault(950, "kill primary");
    push(builder, {
      kind: "action",
      t: 950,
      phase: "start",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      afterMs: 1000,
    });
    builder.role(2000, "standby", "standby");
    push(builder, {
      kind: "action",
      t: 2040,
      phase: "end",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      ok: true,
    });
    builder.role(2200, "standby", "primary", 2);
    const { metrics } = anatomyChecker.check(outage(builder, 2050, 2050).end(2600).events);
    // pg_promote returned at 2040; the role probe saw it only at 2202. The sample invoked at 2000 is still the lower bound.
    expect(metrics).toMatchObject({
      promotedAfterMs: 2040 - 950,
      promotedLowerMs: 2000 - 950,
      promotedBy: `pgdrill's "promote standby" returned`,
      promotionMs: 90,
    });
    expect(metrics.clients.map((client) => client.recoveryMs)).toEqual([2110 - 2040, 2105 - 2040]);
  });

  it("reads the operator's targetPrimary as detection and currentPrimary as promotion when no role probe ran", () => {
    const builder = history().start({ probes: PROBES });
    for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
    builder.fault(950, "delete primary pod");
    push(
      builder,
      { kind: "k8s", t: 960, subject: "cluster", name: "pg", targetPrimary: "primary", currentPrimary: "primary" },
      { kind: "k8s", t: 1200, subject: "cluster", name: "pg", targetPrimary: "pending" },
      { kind: "k8s", t: 1800, subject: "cluster", name: "pg", targetPrimary: "standby", currentPrimary: "standby" },
    );
    let id = 100;
    for (let at = 1000; at < 2300; at += 100) builder.write(id++, at, at < 1900 ? "fail" : "ok", 10, at < 1900 ? "primary" : "standby");
    const { metrics } = anatomyChecker.check(builder.end(2500).events);
    expect(metrics).toMatchObject({
      mechanism: "operator",
      detectedAfterMs: 250,
      detectedBy: "targetPrimary primary → pending",
      promotedAfterMs: 850,
      promotedLowerMs: null,
      promotedBy: "currentPrimary → standby",
      promotionMs: 600,
    });
    expect(metrics.clients[0]).toMatchObject({ probe: "writes", recoveredAfterMs: 1910 - 950, recoveryMs: 1910 - 1800 });
  });

  it('reads the operator\'s phase turning to "Failing over" as detection: CloudNativePG writes it before targetPrimary pending, as the first real run recorded', () => {
    const builder = history().start({ probes: PROBES });
    for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
    builder.fault(950, "delete primary pod");
    // As test/fixtures/cnpg/kind/kill-primary: the phase at +593 ms (targetPrimary unchanged), pending at +619 ms.
    push(
      builder,
      {
        kind: "k8s",
        t: 960,
        subject: "cluster",
        name: "pg",
        targetPrimary: "primary",
        currentPrimary: "primary",
        phase: "Cluster in healthy state",
      },
      {
        kind: "k8s",
        t: 950 + 593,
        subject: "cluster",
        name: "pg",
        targetPrimary: "primary",
        currentPrimary: "primary",
        phase: "Failing over",
      },
      {
        kind: "k8s",
        t: 950 + 619,
        subject: "cluster",
        name: "pg",
        targetPrimary: "pending",
        currentPrimary: "primary",
        phase: "Failing over",
      },
      { kind: "k8s", t: 1800, subject: "cluster", name: "pg", targetPrimary: "standby", currentPrimary: "standby", phase: "Failing over" },
    );
    let id = 100;
    for (let at = 1000; at < 2300; at += 100) builder.write(id++, at, at < 1900 ? "fail" : "ok", 10, at < 1900 ? "primary" : "standby");
    const { metrics } = anatomyChecker.check(builder.end(2500).events);
    expect(metrics).toMatchObject({
      mechanism: "operator",
      detectedAfterMs: 593,
      detectedBy: 'phase "Cluster in healthy state" → "Failing over"',
      promotedAfterMs: 850,
    });
  });

  it("reads an HA manager's leader key: lost is detection, moved to the new primary is promotion", () => {
    const builder = history().start({ probes: PROBES });
    for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
    builder.fault(950, "kill primary");
    push(
      builder,
      { kind: "ha", t: 500, manager: "patroni", subject: "leader", leader: "primary" },
      { kind: "ha", t: 1400, manager: "patroni", subject: "leader", leader: null },
      { kind: "ha", t: 1600, manager: "patroni", subject: "leader", leader: "standby" },
    );
    let id = 100;
    for (let at = 1000; at < 2000; at += 100) builder.write(id++, at, at < 1700 ? "fail" : "ok", 10, at < 1700 ? "primary" : "standby");
    const { metrics } = anatomyChecker.check(builder.end(2100).events);
    expect(metrics).toMatchObject({
      mechanism: "ha-manager",
      detectedAfterMs: 450,
      detectedBy: "patroni leader primary → none",
      promotedAfterMs: 650,
      promotedBy: "patroni leader → standby",
    });
    // Patroni takes the key, then promotes: its member reporting the primary role is the better word.
    push(builder, {
      kind: "ha",
      t: 1650,
      manager: "patroni",
      subject: "member",
      name: "standby",
      role: "primary",
      state: "running",
      timeline: 2,
    });
    builder.events.sort((a, b) => a.t - b.t);
    expect(anatomyChecker.check(builder.events).metrics).toMatchObject({
      promotedAfterMs: 700,
      promotedBy: "patroni reported standby as primary",
      promotionMs: 250,
    });
  });

  it("takes a promote due with the kill as the detection though it was recorded a moment before it (the kill once its node was resolved)", () => {
    const builder = healthy();
    push(builder, {
      kind: "action",
      t: 949.8,
      phase: "start",
      id: "a1",
      action: "promote",
      label: "promote standby",
      node: "standby",
      afterMs: 1000,
    });
    builder.fault(950, "kill primary");
    builder.role(2000, "standby", "standby").role(2100, "standby", "primary", 2);
    const { metrics } = anatomyChecker.check(outage(builder, 1000, 2200).end(2600).events);
    expect(metrics).toMatchObject({ mechanism: "pgdrill", detectedBy: `pgdrill's "promote standby" acted after its 1.00 s delay` });
    expect(metrics.detectedAfterMs).toBeCloseTo(999.8, 5);
  });

  it("has detection 0 for a switchover, the planned decision itself", () => {
    const builder = healthy();
    push(builder, {
      kind: "action",
      t: 950,
      phase: "start",
      id: "a1",
      action: "switchover",
      label: "switchover to standby",
      node: "standby",
    });
    builder.role(1000, "standby", "standby").role(1100, "standby", "primary", 2);
    const { metrics } = anatomyChecker.check(outage(builder, 1200, 1200).end(1600).events);
    expect(metrics).toMatchObject({
      mechanism: "switchover",
      detectedAfterMs: 0,
      detectedBy: 'switchover "switchover to standby" began',
      promotedAfterMs: 1102 - 950,
    });
  });

  it("takes any action that hands the primary over (a target's own: pg_autoctl perform, Patroni's failover) as a switchover", () => {
    const builder = healthy();
    push(builder, {
      kind: "action",
      t: 950,
      phase: "start",
      id: "a1",
      action: "perform",
      label: "pg_autoctl perform switchover",
      handsOver: true,
    });
    builder.role(1000, "standby", "standby").role(1100, "standby", "primary", 2);
    const { metrics } = anatomyChecker.check(outage(builder, 1200, 1200).end(1600).events);
    expect(metrics).toMatchObject({ mechanism: "switchover", detectedAfterMs: 0, faultAtMs: 950, promotedAfterMs: 1102 - 950 });
    // Without the mark an action is no hand-over: node-maintenance on a standby changes no primary.
    const plain = healthy();
    push(plain, { kind: "action", t: 950, phase: "start", id: "a1", action: "node-maintenance", label: "maintenance enable on standby" });
    expect(anatomyChecker.check(plain.end(1600).events).metrics.observed).toBe(false);
  });

  it("says when a failover happened but no HA decision was recorded (a managed endpoint decides unseen)", () => {
    const builder = history().start({ probes: PROBES });
    for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
    builder.fault(950, "provider reboot with failover");
    let id = 100;
    for (let at = 1000; at < 2000; at += 100) builder.write(id++, at, at < 1500 ? "fail" : "ok", 10, at < 1500 ? "primary" : "standby");
    const { valid, metrics, reason } = anatomyChecker.check(builder.end(2100).events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({
      observed: true,
      mechanism: null,
      detectedAfterMs: null,
      promotedAfterMs: null,
      clientsRecoveredAfterMs: 1510 - 950,
      clientRecoveryMs: null,
    });
    expect(reason).toContain("no HA decision was recorded");
    const [gate] = evaluateGate(parseGate({ "anatomy.detectedAfterMs": "< 5000" }), runChecks(builder.events).metrics);
    expect(gate).toMatchObject({ actual: null, pass: false });
    expect(gate!.note).toContain("phase's edge was not recorded");
  });

  it("has no anatomy when the same primary came back, and a gate on it fails with the failover's note", () => {
    const builder = history().start({ probes: PROBES });
    for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
    builder.fault(950, "pause primary");
    let id = 100;
    for (let at = 1000; at < 2000; at += 100) builder.write(id++, at, at < 1500 ? "fail" : "ok", 10, "primary");
    const { valid, metrics, reason } = anatomyChecker.check(builder.end(2100).events);
    expect(valid).toBe(true);
    expect(metrics).toEqual(anatomyChecker.empty());
    expect(reason).toBe("no failover: no anatomy to read");
    const [gate] = evaluateGate(parseGate({ "anatomy.promotedAfterMs": "< 5000" }), runChecks(builder.events).metrics);
    expect(gate).toMatchObject({ actual: null, pass: false });
    expect(gate!.note).toContain("no failover: recovered on the same primary");
  });

  it("names the path as not recorded for histories older than the probe records", () => {
    const builder = history().start();
    for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
    builder.fault(950, "kill primary");
    let id = 100;
    for (let at = 1000; at < 2000; at += 100) builder.write(id++, at, at < 1500 ? "fail" : "ok", 10, at < 1500 ? "primary" : "standby");
    expect(anatomyChecker.check(builder.end(2100).events).metrics.clients).toEqual([
      { probe: "writes", type: "write", via: "path not recorded", recoveredAfterMs: 560, recoveryMs: null },
    ]);
  });
});

describe("a shared pass", () => {
  it("is fed once however many checkers read it, and each reads the same result", () => {
    const { context, operations } = splitHistory(healthy().end(1000).events);
    let fed = 0;
    let finished = 0;
    const key = {};
    const create = () => ({ operation: () => void (fed += 1), finish: () => ({ finished: ++finished }) });
    const first = sharedPass(context, key, create);
    const second = sharedPass(context, key, create);
    for (const operation of operations) {
      first.operation(operation);
      second.operation(operation);
    }
    expect(fed).toBe(operations.length);
    expect(second.result()).toBe(first.result());
    expect(finished).toBe(1);
  });

  it("fails every reader when it threw, so none reads half a fold", () => {
    const { context, operations } = splitHistory(healthy().end(1000).events);
    const key = {};
    const create = () => ({
      operation: () => {
        throw new Error("broken fold");
      },
      finish: () => 1,
    });
    const first = sharedPass(context, key, create);
    const second = sharedPass(context, key, create);
    expect(() => first.operation(operations[0]!)).toThrow("broken fold");
    expect(() => second.result()).toThrow("broken fold");
  });

  it("gives the session's failover, recovery and anatomy the same figures as each checker alone", () => {
    const builder = healthy().fault(950, "kill primary");
    builder.role(2100, "standby", "primary", 2);
    const events = outage(builder, 2150, 2500).end(3000).events;
    const together = runChecks(events);
    expect(together.metrics.anatomy).toEqual(anatomyChecker.check(events).metrics);
    expect(together.crashed).toEqual([]);
  });
});
