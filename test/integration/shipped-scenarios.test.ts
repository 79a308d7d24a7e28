/**
 * The shipped container-pair scenarios, run for real: a real primary and streaming standby in
 * containers, real faults, real probes. Each asserts what its drill must show.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import type { RunResult } from "../../harness/result.ts";
import { runDrill, type DrillOutcome } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

async function drill(name: string): Promise<DrillOutcome> {
  const { scenario, source } = await loadScenario(name);
  return runDrill(scenario, { source, outDir: tempRunDir(name) });
}

describe("shipped container-pair scenarios", { timeout: 180_000 }, () => {
  it("pair-kill-primary: measures failover latency, loses at most the writes of the crash instant, passes and leaves nothing", async () => {
    const { runDir, result } = await drill("pair-kill-primary");
    for (const file of ["history.jsonl", "result.json", "report.md", "junit.xml", "report.html", "scenario.json"]) {
      expect(existsSync(join(runDir, file)), file).toBe(true);
    }
    const { failover, writes, availability } = result.metrics;
    expect(result.complete).toBe(true);
    expect(failover.faultLabel).toMatch(/kill primary/);
    // Promotion waits 1 s of detection delay after the kill, so the outage is at least that long.
    expect(failover.latencyMs).toBeGreaterThan(1000);
    expect(failover.latencyMs).toBeLessThan(30_000);
    expect(failover.newPrimary).toBe("standby");
    // A failover: the primary changed, and the recovery is the failover's.
    expect(failover).toMatchObject({ happened: true, evidence: "node primary → standby", latencyUpperMs: failover.latencyMs });
    expect(result.metrics.recovery).toMatchObject({ latencyMs: failover.latencyMs, node: "standby" });
    // Writes every 50 ms: the bounds are about an interval and a fresh connection wide.
    expect(failover.latencyLowerMs).toBeGreaterThan(1000);
    expect(failover.latencyMs! - failover.latencyLowerMs!).toBeLessThan(500);
    // The anatomy: pgdrill is this target's HA manager, acting after the scenario's 1 s detection delay;
    // the promotion is seen (the role probe, or pg_promote returning); each probe's clients come back after it.
    const anatomy = result.metrics.anatomy;
    expect(anatomy).toMatchObject({ observed: true, mechanism: "pgdrill", newPrimary: "standby" });
    expect(anatomy.promotedBy).toMatch(/^(the role probe saw standby out of recovery|pgdrill's "promote standby" returned)$/);
    // Both are due at the same time: the promote starts its wait, then the kill is recorded as pgdrill sends it, a moment later
    // (CI: 0.2 ms), so detection is its 1 s wait less that moment.
    expect(anatomy.detectedAfterMs).toBeGreaterThan(1000 - 50);
    expect(anatomy.detectedAfterMs).toBeLessThan(1100);
    expect(anatomy.promotionMs).toBeGreaterThan(0);
    expect(anatomy.promotionMs).toBeLessThan(3000);
    expect(anatomy.clients.map((client) => [client.probe, client.via])).toEqual([
      ["select1", "rw, fresh connections"],
      ["writes", "rw, a held connection"],
    ]);
    for (const client of anatomy.clients)
      expect(client.recoveredAfterMs).toBeGreaterThan(anatomy.promotedLowerMs ?? anatomy.detectedAfterMs!);
    expect(anatomy.clientsRecoveredAfterMs).toBe(Math.max(...anatomy.clients.map((client) => client.recoveredAfterMs!)));
    expect(readFileSync(join(runDir, "report.md"), "utf8")).toMatch(
      /\| failover \| [\d.]+ s \+0\/−[\d.]+ m?s after "kill primary \(SIGKILL\)" at [\d.]+ s: primary → standby \|/,
    );
    expect(writes.acknowledged).toBeGreaterThan(50);
    // Async replication: a write acknowledged while the SIGKILL takes effect may never reach the
    // standby. Any loss must be confined to that instant, never earlier writes.
    const events = readEvents(runDir);
    const killAt = events.find((e) => e.kind === "fault" && e.fault === "kill")!.t;
    const ackAt = new Map(
      events.flatMap((e) => (e.kind === "complete" && e.type === "write" && e.outcome === "ok" ? [[e.value as number, e.t]] : [])),
    );
    expect(writes.lostAcknowledged).not.toBeNull();
    for (const id of writes.lostIds) expect(ackAt.get(id)! - killAt).toBeGreaterThan(-250);
    expect(writes.lostAcknowledged!).toBeLessThanOrEqual(5);
    // A share of time (about 1.2 s down in 12 s here), agreeing with the downtime windows.
    expect(availability.ratio).toBeGreaterThan(0.7);
    expect(availability.ratio).toBeLessThan(1);
    expect(availability.ratio).toBe(1 - result.metrics.downtime.totalMs / availability.observedMs);
    expect(availability.operationRatio).toBeGreaterThan(0.7);
    expect(result.metrics.downtime.windows.length).toBeGreaterThan(0);
    expect(result.verdict).toBe("pass");
    // The role probe saw the standby become primary on a new timeline.
    expect(result.metrics.roles.changes.some((change) => change.node === "standby" && change.role === "primary")).toBe(true);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pair-kill-primary-via-pgbouncer: pooled clients go through PgBouncer and see its outage beside the direct clients", async () => {
    const { runDir, result } = await drill("pair-kill-primary-via-pgbouncer");
    const { availability, downtime, failover, writes } = result.metrics;
    expect(result.verdict).toBe("pass");
    expect(Object.keys(availability.byProbe)).toEqual(["direct", "pooled", "writes"]);
    // Both kinds of client lost the primary; the direct one is back once the standby is promoted.
    expect(downtime.byProbe.direct!.totalMs).toBeGreaterThan(900);
    expect(downtime.byProbe.pooled!.totalMs).toBeGreaterThan(900);
    expect(downtime.byProbe.direct!.longestMs).toBeLessThan(10_000);
    // PgBouncer's own behaviour is in the evidence: with its default server_login_retry (15 s) it
    // refuses pooled clients for a while after the failed logins to the dead primary.
    const events = readEvents(runDir);
    const pooledErrors = events.flatMap((e) =>
      e.kind === "complete" && e.probe === "pooled" && e.outcome !== "ok" && e.error ? [e.error] : [],
    );
    expect(pooledErrors.some((error) => /server_login_retry|server conn crashed/.test(error))).toBe(true);
    expect(downtime.byProbe.pooled!.longestMs).toBeGreaterThan(downtime.byProbe.direct!.longestMs);
    // Counted in time, the pooled clients' long refusal weighs what it lasted; counted in
    // operations it weighs less, since each refused attempt waits out its timeout.
    const pooled = availability.byProbe.pooled!;
    expect(pooled.ratio).toBe(1 - downtime.byProbe.pooled!.totalMs / pooled.observedMs);
    expect(pooled.ratio!).toBeLessThan(pooled.operationRatio!);
    expect(availability.probe).toBe("direct");
    // The pooler was repointed: writes through it land on the promoted standby, and are tracked.
    expect(failover.newPrimary).toBe("standby");
    // The anatomy's client recovery, per path: the pooled clients come back last, after PgBouncer's retry.
    const clients = new Map(result.metrics.anatomy.clients.map((client) => [client.probe, client]));
    expect(clients.get("pooled")!.via).toMatch(/^pooler, /);
    expect(clients.get("pooled")!.recoveredAfterMs!).toBeGreaterThan(clients.get("direct")!.recoveredAfterMs!);
    expect(result.metrics.anatomy.clientsRecoveredAfterMs).toBe(
      Math.max(...[...clients.values()].map((client) => client.recoveredAfterMs!)),
    );
    expect(result.gates.find((gate) => gate.metric === "anatomy.clientRecoveryMs")).toMatchObject({ pass: true });
    expect(writes.acknowledged).toBeGreaterThan(50);
    expect(writes.lostAcknowledged).not.toBeNull();
    expect(readFileSync(join(runDir, "report.md"), "utf8")).toMatch(/### Clients compared[\s\S]*\| pooled \|/);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pair-partition-then-kill (async): finds the acknowledged writes the promoted standby never received, and exits 1", async () => {
    // Through the command line, so the exit code of a breached gate is what CI would see.
    const runDir = tempRunDir("pair-partition-then-kill");
    let stdout = "";
    const code = await main(["run", "pair-partition-then-kill", "--out", runDir, "--quiet"], {
      out: (text) => (stdout += text),
      err: () => undefined,
      color: false,
      live: { write: () => true, isTTY: false },
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^DEVIATED pair-partition-then-kill/);
    const result = JSON.parse(readFileSync(join(runDir, "result.json"), "utf8")) as RunResult;
    const { writes } = result.metrics;
    expect(writes.lostAcknowledged).toBeGreaterThan(0);
    expect(writes.lostIds.length).toBe(writes.lostAcknowledged);
    // Every lost id was acknowledged by the old primary during the partition.
    const events = readEvents(runDir);
    const partitionAt = events.find((e) => e.kind === "fault" && e.fault === "partition" && e.phase === "inject")!.t;
    const acked = new Map(
      events.flatMap((e) => (e.kind === "complete" && e.type === "write" && e.outcome === "ok" ? [[e.value as number, e]] : [])),
    );
    for (const id of writes.lostIds) {
      expect(acked.get(id)?.node).toBe("primary");
      expect(acked.get(id)!.t).toBeGreaterThan(partitionAt);
    }
    expect(result.verdict).toBe("deviated");
    expect(result.gates.find((gate) => gate.metric === "writes.lostAcknowledged")?.pass).toBe(false);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pair-partition-then-kill-sync: synchronous replication loses no acknowledged write", async () => {
    const { result } = await drill("pair-partition-then-kill-sync");
    const { writes } = result.metrics;
    expect(writes.acknowledged).toBeGreaterThan(0);
    expect(writes.lostAcknowledged).toBe(0);
    // Writes during the partition blocked waiting for the standby: they are unknown, not acknowledged.
    expect(writes.unknown).toBeGreaterThan(0);
    expect(result.metrics.failover).toMatchObject({ happened: true, newPrimary: "standby" });
    expect(result.verdict).toBe("pass");
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("pair-pause-primary: clients see an outage as long as the freeze, and recover on the same primary: no failover", async () => {
    const { result, runDir } = await drill("pair-pause-primary");
    const { downtime, failover, recovery, writes } = result.metrics;
    expect(downtime.longestMs).toBeGreaterThan(2000);
    expect(downtime.longestMs).toBeLessThan(6000);
    // Availability is a share of time: the 3 s freeze in about 10 s of probing leaves about 0.7,
    // while the count of operations stays high (a frozen client attempts once per timeout, not
    // once per interval). The ratio and the downtime come from the same windows.
    const { availability } = result.metrics;
    expect(availability.observedMs).toBeGreaterThan(9500);
    expect(availability.observedMs).toBeLessThan(11_000);
    expect(availability.ratio).toBeGreaterThan(0.6);
    expect(availability.ratio).toBeLessThan(0.75);
    expect(availability.ratio).toBe(1 - downtime.totalMs / availability.observedMs);
    expect(availability.operationRatio).toBeGreaterThan(0.9);
    expect(availability.sloMs).toBe(250);
    expect(result.gates.find((gate) => gate.metric === "availability.ratio")).toMatchObject({ expected: ">= 0.6", pass: true });
    // Each edge is known to within the cadence: the range holds the measured outage and is narrow.
    expect(downtime.totalLowerMs).toBeLessThanOrEqual(downtime.totalMs);
    expect(downtime.totalUpperMs).toBeGreaterThanOrEqual(downtime.totalMs);
    expect(downtime.totalUpperMs - downtime.totalLowerMs).toBeLessThan(1500);
    expect(readFileSync(join(runDir, "report.md"), "utf8")).toMatch(
      /\| downtime \| [\d.]+ s (±[\d.]+ m?s|\+(0|[\d.]+ m?s)\/−(0|[\d.]+ m?s)) total, longest [\d.]+ s \|/,
    );
    expect(failover.newPrimary).toBe("primary");
    // Nothing failed over: the freeze's outage is a recovery, and the role probe saw the same primary on the same timeline.
    expect(failover).toMatchObject({
      happened: false,
      latencyMs: null,
      latencyLowerMs: null,
      stableAfterMs: null,
      faultLabel: expect.stringMatching(/pause primary/),
    });
    expect(failover.evidence).toMatch(/^the same node \(primary\), .*timeline 1 before and after$/);
    expect(result.checks.failover?.reason).toMatch(/^no failover: recovered on the same primary \(primary\)/);
    expect(recovery.node).toBe("primary");
    expect(recovery.latencyMs).toBeGreaterThan(2900);
    expect(recovery.latencyMs).toBeLessThan(6000);
    expect(recovery.latencyLowerMs).toBeLessThanOrEqual(recovery.latencyMs!);
    // Writes time out after 1 s in the freeze: the last refused one was sent at least 1 s into it, within 1 s of the thaw.
    expect(recovery.latencyLowerMs).toBeGreaterThan(1000);
    expect(recovery.latencyMs! - recovery.latencyLowerMs!).toBeLessThan(2200);
    expect(result.gates.find((gate) => gate.metric === "recovery.latencyMs")?.pass).toBe(true);
    expect(result.verdict).toBe("pass");
    const report = readFileSync(join(runDir, "report.md"), "utf8");
    expect(report).toMatch(/\| failover \| none: recovered on the same primary \(primary\) in [\d.]+ s \|/);
    // Writes hung in the freeze until their timeout: the last one refused was sent up to a timeout before the thaw.
    expect(report).toMatch(/\| recovery \| [\d.]+ s \+0\/−[\d.]+ m?s after "pause primary[^"]*" at [\d.]+ s, on primary \|/);
    // The claims table does not put a pause beside a failover claim.
    expect(report).toMatch(
      /\| Manual streaming replication \| manual \| varies \| — \(no failover: recovered on the same primary in [\d.]+ s\) \|/,
    );
    expect(writes.lostAcknowledged).toBe(0);
    expect(await leftovers(result.runId)).toEqual([]);
  });
});
