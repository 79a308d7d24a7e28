import { describe, expect, it } from "vitest";
import { failoverChecker, recoveryChecker } from "../../harness/checker/failover.ts";
import { analyzeHistory } from "../../harness/analyze.ts";
import { formatSummary } from "../../harness/report/summary.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

/** Writes every 100 ms acknowledged by the primary up to t = 900 (ids 1..10). */
function healthyUntil900(): HistoryBuilder {
  const builder = history().start();
  for (let id = 1; id <= 10; id += 1) builder.write(id, (id - 1) * 100, "ok");
  return builder;
}

/** A role sample that also names the server behind the node, as the role probe records it on an endpoint. */
function serverSample(builder: HistoryBuilder, at: number, node: string, server: string, timeline = 1): HistoryBuilder {
  return builder.op("role", "role", at, at + 2, "ok", { node, worker: 0, value: { primary: true, timeline, server } });
}

describe("failover checker", () => {
  it("measures kill → failing writes → promote → first acknowledged write, with bounds", () => {
    const events = healthyUntil900()
      .fault(950, "kill primary")
      .write(11, 1000, "info", 500) // cut mid-commit by the kill
      .write(12, 1500, "fail", 10)
      .write(13, 1600, "fail", 10)
      .write(14, 1700, "ok", 20, "standby") // promoted: completes at 1720
      .write(15, 1800, "ok", 5, "standby")
      .end(2000).events;
    const { valid, metrics } = failoverChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toEqual({
      faultAtMs: 950,
      faultLabel: "kill primary",
      happened: true,
      evidence: "node primary → standby",
      latencyMs: 770,
      // The last refused write was sent at 1600: writes became possible between then and 1720.
      latencyLowerMs: 650,
      latencyUpperMs: 770,
      stableAfterMs: 770,
      originalPrimary: "primary",
      newPrimary: "standby",
    });
    expect(recoveryChecker.check(events).metrics).toEqual({
      latencyMs: 770,
      latencyLowerMs: 650,
      latencyUpperMs: 770,
      stableAfterMs: 770,
      node: "standby",
    });
  });

  it("blames the latest fault injected before the outage, not the first fault", () => {
    const events = healthyUntil900()
      .fault(300, "partition primary standby", "inject", "f1")
      .fault(950, "kill primary", "inject", "f2")
      .write(11, 1000, "fail")
      .write(12, 1100, "ok", 10, "standby")
      .end(2000).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({
      faultAtMs: 950,
      faultLabel: "kill primary",
      latencyMs: 160,
      latencyLowerMs: 50,
      happened: true,
    });
  });

  it("is stable only after the last failed write: a relapse pushes stableAfterMs out", () => {
    const events = healthyUntil900()
      .fault(950)
      .write(11, 1000, "fail")
      .write(12, 1100, "ok", 10, "standby") // first recovery: 1110
      .write(13, 1200, "fail")
      .write(14, 1300, "ok", 7, "standby") // stable from here: 1307
      .end(2000).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({ latencyMs: 160, stableAfterMs: 357 });
    expect(recoveryChecker.check(events).metrics).toMatchObject({ latencyMs: 160, stableAfterMs: 357 });
  });

  it("reports null latency, an unknown failover, and is invalid when writes never recovered", () => {
    const events = healthyUntil900().fault(950).write(11, 1000, "fail").write(12, 1100, "info").end(2000).events;
    const { valid, metrics, reason } = failoverChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({
      faultAtMs: 950,
      happened: null,
      latencyMs: null,
      latencyLowerMs: null,
      stableAfterMs: null,
      newPrimary: null,
    });
    expect(reason).toMatch(/never recovered/);
    expect(recoveryChecker.check(events)).toMatchObject({
      valid: false,
      metrics: { latencyMs: null, latencyLowerMs: null, latencyUpperMs: null, node: null },
    });
  });

  it("has a null stableAfterMs when writes were failing again at the end", () => {
    const events = healthyUntil900()
      .fault(950)
      .write(11, 1000, "fail")
      .write(12, 1100, "ok", 5, "standby")
      .write(13, 1200, "fail")
      .end(2000).events;
    const { valid, metrics } = failoverChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics).toMatchObject({ latencyMs: 155, stableAfterMs: null });
  });

  it("reports no failover and a 0 ms recovery when the fault did not interrupt writes", () => {
    const events = healthyUntil900().fault(450, "kill standby").end(2000).events;
    const { valid, metrics, reason } = failoverChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({
      faultAtMs: 450,
      faultLabel: "kill standby",
      happened: false,
      latencyMs: null,
      stableAfterMs: null,
      newPrimary: "primary",
    });
    expect(reason).toMatch(/^no failover: no outage observed/);
    expect(recoveryChecker.check(events)).toMatchObject({
      valid: true,
      metrics: { latencyMs: 0, latencyLowerMs: 0, latencyUpperMs: 0, stableAfterMs: 0, node: "primary" },
    });
  });

  it("counts a switchover no write noticed as a failover of 0 ms", () => {
    const events = healthyUntil900().fault(450, "switchover").write(11, 1000, "ok", 5, "standby").end(2000).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({
      happened: true,
      evidence: "node primary → standby",
      latencyMs: 0,
      latencyUpperMs: 0,
    });
  });

  it("reports no failover, with no fault time, when no fault was injected, even if a write failed", () => {
    const events = healthyUntil900().write(11, 1000, "fail").end(2000).events;
    const { metrics, reason } = failoverChecker.check(events);
    expect(metrics).toMatchObject({ faultAtMs: null, faultLabel: null, happened: false, latencyMs: null });
    expect(reason).toMatch(/no fault injected: no outage observed/);
    expect(recoveryChecker.check(events).metrics).toMatchObject({ latencyMs: 0 });
  });

  it("falls back to the headline select1 probe when there is no writes probe", () => {
    const events = history().start().select1(0, "ok").fault(50).select1(100, "fail").select1(200, "ok", 3, "standby").end(300).events;
    expect(failoverChecker.check(events).metrics).toMatchObject({
      latencyMs: 153,
      latencyLowerMs: 50,
      newPrimary: "standby",
      happened: true,
    });
  });

  describe("the same primary coming back is a recovery, not a failover", () => {
    /** A 3 s freeze of the primary at 950: writes hang, then the same node answers again. */
    function pause(): HistoryBuilder {
      const builder = healthyUntil900().role(500, "primary", "primary").role(510, "standby", "standby");
      return builder
        .fault(950, "pause primary")
        .write(11, 1000, "info", 500) // hung in the freeze, timed out
        .role(1100, "primary", "down")
        .write(12, 3500, "info", 500)
        .write(13, 4020, "ok", 10) // thawed at ~4000: back on the primary, completes at 4030
        .role(4100, "primary", "primary")
        .write(14, 4100, "ok");
    }

    it("measures the recovery and says no failover happened", () => {
      const events = pause().end(5000).events;
      const failover = failoverChecker.check(events);
      expect(failover.valid).toBe(true);
      expect(failover.metrics).toMatchObject({
        faultAtMs: 950,
        faultLabel: "pause primary",
        happened: false,
        evidence: "the same node (primary), timeline 1 before and after",
        latencyMs: null,
        latencyLowerMs: null,
        latencyUpperMs: null,
        stableAfterMs: null,
        originalPrimary: "primary",
        newPrimary: "primary",
      });
      expect(failover.reason).toMatch(/^no failover: recovered on the same primary \(primary\)/);
      expect(recoveryChecker.check(events)).toEqual({
        valid: true,
        metrics: { latencyMs: 3080, latencyLowerMs: 2550, latencyUpperMs: 3080, stableAfterMs: 3080, node: "primary" },
      });
    });

    it("fails a failover gate with the reason, and passes a recovery gate", () => {
      const result = analyzeHistory(pause().end(5000).events, {
        gate: { "failover.latencyMs": "< 30000", "recovery.latencyMs": "< 5000" },
      });
      expect(result.gates).toMatchObject([
        {
          metric: "failover.latencyMs",
          actual: null,
          pass: false,
          note: "no failover: recovered on the same primary (primary); gate recovery.* instead",
        },
        { metric: "recovery.latencyMs", actual: 3080, pass: true },
      ]);
      expect(result.gates[1]).not.toHaveProperty("note");
      expect(result.reason).toBe(
        "1 gate failed: failover.latencyMs < 30000 (actual not measured: no failover: recovered on the same primary (primary); gate recovery.* instead)",
      );
    });

    it("judges by name when the role probe did not sample the node before and after", () => {
      const events = healthyUntil900().fault(950, "restart primary").write(11, 1000, "fail").write(12, 2000, "ok").end(3000).events;
      const { metrics, reason } = failoverChecker.check(events);
      expect(metrics).toMatchObject({ happened: false, latencyMs: null, newPrimary: "primary" });
      expect(reason).toMatch(/no role samples of it before and after/);
      expect(recoveryChecker.check(events).metrics).toMatchObject({ latencyMs: 1055, latencyLowerMs: 50 });
    });
  });

  describe("a failover behind one name (a managed endpoint)", () => {
    it("is seen in the server the role probe found behind the name", () => {
      const builder = healthyUntil900();
      serverSample(builder, 500, "primary", "10.0.0.5:5432");
      builder.fault(950, "command: failover").write(11, 1000, "fail").write(12, 1100, "fail").write(13, 1200, "ok", 30);
      serverSample(builder, 1300, "primary", "10.0.0.6:5432", 2);
      const { metrics } = failoverChecker.check(builder.end(2000).events);
      expect(metrics).toMatchObject({
        happened: true,
        evidence: "server 10.0.0.5:5432 → 10.0.0.6:5432 behind primary",
        latencyMs: 280,
        latencyLowerMs: 150,
        newPrimary: "primary",
      });
    });

    it("names the new primary's server in result.json and the summary, not only the node label (issue 25)", () => {
      const builder = healthyUntil900();
      serverSample(builder, 500, "primary", "10.0.0.5:6002");
      builder.fault(950, "command: failover").write(11, 1000, "fail").write(12, 1200, "ok", 30);
      serverSample(builder, 1300, "primary", "10.0.0.6:6001", 2);
      const result = analyzeHistory(builder.end(2000).events, { gate: {} });
      expect(result.metrics.failover).toMatchObject({
        newPrimary: "primary",
        originalPrimaryServer: "10.0.0.5:6002",
        newPrimaryServer: "10.0.0.6:6001",
      });
      expect(formatSummary(result, { color: false })).toContain("failover 280.0 ms → primary (server 10.0.0.5:6002 → 10.0.0.6:6001)");
    });

    it("does not add servers where the node label already says who took over", () => {
      const events = healthyUntil900()
        .fault(950, "kill primary")
        .write(11, 1000, "fail")
        .write(12, 1200, "ok", 30, "standby")
        .end(2000).events;
      const metrics = failoverChecker.check(events).metrics;
      expect(metrics).toMatchObject({ happened: true, newPrimary: "standby" });
      expect(metrics.newPrimaryServer ?? null).toBeNull();
    });

    it("is seen in a new timeline when the server cannot be named", () => {
      const events = healthyUntil900()
        .role(500, "primary", "primary", 1)
        .fault(950, "command: failover")
        .write(11, 1000, "fail")
        .write(12, 1200, "ok", 30)
        .role(1300, "primary", "primary", 2)
        .end(2000).events;
      expect(failoverChecker.check(events).metrics).toMatchObject({
        happened: true,
        evidence: "timeline 1 → 2 on primary",
        latencyMs: 280,
      });
    });

    it("is not a failover when the same server answers before and after", () => {
      const builder = healthyUntil900();
      serverSample(builder, 500, "primary", "10.0.0.5:5432");
      builder.fault(950, "command: reboot").write(11, 1000, "fail").write(12, 1200, "ok", 30);
      serverSample(builder, 1300, "primary", "10.0.0.5:5432");
      const { metrics } = failoverChecker.check(builder.end(2000).events);
      expect(metrics).toMatchObject({
        happened: false,
        evidence: "the same node (primary), server 10.0.0.5:5432, timeline 1 before and after",
        latencyMs: null,
      });
    });
  });

  it("is not a failover when the same server comes back on a new timeline: it was promoted again", () => {
    // Patroni demotes a leader that lost its DCS and promotes it again when the DCS is back.
    const builder = healthyUntil900();
    serverSample(builder, 500, "primary", "10.0.0.5:5432");
    builder.fault(950, "DCS down").write(11, 1000, "fail").write(12, 1200, "ok", 30);
    serverSample(builder, 1300, "primary", "10.0.0.5:5432", 2);
    const { metrics } = failoverChecker.check(builder.end(2000).events);
    expect(metrics).toMatchObject({
      happened: false,
      evidence: "the same node (primary), server 10.0.0.5:5432, promoted again: timeline 1 → 2",
      latencyMs: null,
    });
    expect(recoveryChecker.check(builder.events).metrics).toMatchObject({ latencyMs: 280, node: "primary" });
  });

  it("bounds contain the moment writes became possible, however the probe's cadence falls", () => {
    // Writes every `every` ms from t = 0, each refused fast (2 ms) until `possibleAt`, then acked in 3 ms.
    for (const every of [10, 20, 50, 100]) {
      for (const possibleAt of [1003, 1050.5, 1234, 1999]) {
        const faultAt = 800;
        const builder = history().start().fault(faultAt);
        for (let id = 1, at = 0; at < 3000; id += 1, at += every) {
          if (at < faultAt || at >= possibleAt) builder.write(id, at, "ok", 3);
          else builder.write(id, at, "fail", 2);
        }
        const { metrics } = recoveryChecker.check(builder.end(3000).events);
        const truth = possibleAt - faultAt;
        expect(metrics.latencyLowerMs!, `every ${every}, possible at ${possibleAt}`).toBeLessThanOrEqual(truth);
        expect(metrics.latencyUpperMs!, `every ${every}, possible at ${possibleAt}`).toBeGreaterThanOrEqual(truth);
        // No wider than one interval and the first acknowledgement's latency.
        expect(metrics.latencyUpperMs! - metrics.latencyLowerMs!).toBeLessThanOrEqual(every + 3);
      }
    }
  });

  it("keeps a failover gate on a fault-free run from passing silently", () => {
    const { gates } = analyzeHistory(healthyUntil900().end(2000).events, {
      gate: { "failover.latencyMs": "< 30000", "recovery.latencyMs": "< 30000" },
    });
    const [failover, recovery] = gates;
    expect(failover).toMatchObject({ pass: false, actual: null, note: "no failover: no fault injected" });
    expect(recovery).toMatchObject({ pass: true, actual: 0 });
  });

  it("calls a primary rebuilt by a restore from a backup a restore, not a failover, though its server changed", () => {
    const restored = (restoring: boolean) => {
      const builder = serverSample(healthyUntil900(), 850, "primary", "172.18.0.2:5432", 1).fault(950, "destroy every node's data");
      if (restoring)
        builder.events.push({ kind: "backup", t: 1100, subject: "restore", phase: "started", node: "primary", target: { type: "latest" } });
      builder.write(11, 1000, "fail").write(12, 1200, "fail").write(13, 1400, "ok", 10);
      return serverSample(builder, 1500, "primary", "172.18.0.4:5432", 2).end(2000).events;
    };
    // The same name, another server on a new timeline: without a restore, that is how a managed endpoint fails over.
    expect(failoverChecker.check(restored(false)).metrics).toMatchObject({
      happened: true,
      evidence: "server 172.18.0.2:5432 → 172.18.0.4:5432 behind primary",
    });
    const { valid, metrics, reason } = failoverChecker.check(restored(true));
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({
      happened: false,
      latencyMs: null,
      evidence: "restored from a backup during the outage: a restore, not a failover",
    });
    expect(reason).toBe(
      "no failover: recovered on the same primary (primary); restored from a backup during the outage: a restore, not a failover",
    );
    expect(recoveryChecker.check(restored(true)).metrics).toMatchObject({ latencyMs: 460, node: "primary" });
  });
});
