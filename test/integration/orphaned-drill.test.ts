/**
 * A drill never goes on running orphaned. On a Node older than pgdrill needs, bin/pgdrill.js hands
 * the drill to a child on the provisioned Node, in a process group of its own. Killed with
 * SIGKILL, the launcher cannot pass anything on: the child sees the launcher's IPC channel close
 * and stops as on SIGTERM. Killed together, the child's remains (a zombie where PID 1 does not
 * reap orphans) count as gone, and `pgdrill reap` removes its containers.
 *
 * Runs the machine's own old Node (outside fixtures/with-node.sh), so the hand-over is the real one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunResult } from "../../harness/result.ts";
import { dockerClient, LABELS, removeLabelled } from "../../harness/targets/shared/docker.ts";
import { eventually, leftovers, oldSystemNode, pgdrill, processState, readEvents, runningWith, tempRunDir, type PgdrillProcess } from "./helpers.ts";

const SCENARIO = "test/fixtures/orphan-drill.yaml";
const node = oldSystemNode();

interface Started {
  launcher: PgdrillProcess;
  /** The drill's process: the launcher's child, named by its containers' owner label. */
  drillPid: number;
  runId: string;
  out: string;
}

/** Starts the drill under the old Node as its own process group and waits until the primary is frozen and both containers exist. */
async function startDrill(prefix: string): Promise<Started> {
  const out = tempRunDir(prefix);
  const launcher = pgdrill(["run", SCENARIO, "--out", out], { node: node!, detached: true });
  await launcher.waitFor(/fault f1: pause primary/);
  const runId = (readEvents(out)[0] as { runId: string }).runId;
  const docker = await dockerClient();
  const containers = async () => docker.listContainers({ filters: { label: [`${LABELS.managed}=true`, `${LABELS.run}=${runId}`] } });
  expect(await eventually(async () => (await containers()).length === 2, 10_000)).toBe(true);
  const drillPid = Number((await containers())[0]!.Labels[LABELS.pid]);
  // The hand-over happened: the containers belong to the launcher's child, not to the launcher.
  expect(drillPid).not.toBe(launcher.process.pid);
  expect(readFileSync(`/proc/${drillPid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]).toBe(String(launcher.process.pid));
  return { launcher, drillPid, runId, out };
}

/** Whatever a failed test left: both process groups, and the run's containers. */
async function cleanUp(started: Started | null): Promise<void> {
  if (!started) return;
  for (const pid of [started.launcher.process.pid!, started.drillPid]) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await removeLabelled(await dockerClient(), { runId: started.runId });
}

describe.runIf(node)(`a drill whose launcher is killed (launcher on ${node ?? "no old Node"})`, { timeout: 120_000 }, () => {
  it("SIGKILL of the launcher alone: the drill notices, heals, removes its containers, writes an errored result and exits", async () => {
    let started: Started | null = null;
    try {
      started = await startDrill("orphan-launcher");
      const { launcher, drillPid, runId, out } = started;
      const killedAt = Date.now();
      process.kill(-launcher.process.pid!, "SIGKILL");
      expect((await launcher.exit).signal).toBe("SIGKILL");

      // The drill stops by itself, with nobody to tell it: its containers go, then it exits.
      expect(await eventually(async () => (await leftovers(runId)).length === 0, 30_000)).toBe(true);
      const cleanedMs = Date.now() - killedAt;
      expect(await eventually(() => [null, "Z"].includes(processState(drillPid)), 30_000)).toBe(true);
      const exitedMs = Date.now() - killedAt;
      console.log(`launcher SIGKILLed: containers removed after ${cleanedMs} ms, drill exited after ${exitedMs} ms`);
      expect(exitedMs).toBeLessThan(30_000);
      expect(runningWith(out)).toEqual([]);

      expect(launcher.output()).toMatch(/pgdrill: the pgdrill launcher \(pid \d+\) is gone: stopping the drill, healing faults and removing containers/);
      const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
      expect(result.verdict).toBe("errored");
      expect(result.reason).toMatch(/aborted/);
      // It says why: the launcher went, not a Ctrl-C.
      expect(result.reason).toMatch(/the pgdrill launcher \(pid \d+\) is gone/);
      const events = readEvents(out);
      expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "aborted" });
      // The frozen primary was thawed before teardown, and no acknowledged write was lost.
      expect(events.some((e) => e.kind === "fault" && e.phase === "heal" && e.fault === "pause" && e.ok)).toBe(true);
      expect(result.metrics.writes.lostAcknowledged).toBe(0);
      started = null;
    } finally {
      await cleanUp(started);
    }
  });

  it("SIGKILL of the launcher and the drill together: the drill's remains count as gone and `pgdrill reap` removes its containers", async () => {
    let started: Started | null = null;
    try {
      started = await startDrill("orphan-both");
      const { launcher, drillPid, runId, out } = started;
      // The launcher first, then the drill: the drill dies an orphan, and nobody may reap it.
      process.kill(-launcher.process.pid!, "SIGKILL");
      process.kill(-drillPid, "SIGKILL");
      await launcher.exit;
      expect(await eventually(() => [null, "Z"].includes(processState(drillPid)), 10_000)).toBe(true);
      console.log(`drill process ${drillPid} after SIGKILL: ${processState(drillPid) === "Z" ? "a zombie (PID 1 does not reap)" : "reaped"}`);
      expect(runningWith(out)).toEqual([]);
      expect((await leftovers(runId)).length).toBeGreaterThan(0);

      // The real command, through the same hand-over.
      const reapedAt = Date.now();
      const reap = pgdrill(["reap"], { node: node! });
      expect((await reap.exit).code).toBe(0);
      const reapOutput = reap.output();
      console.log(`reap after SIGKILL of both took ${Date.now() - reapedAt} ms`);
      expect(reapOutput).toContain(`container pgdrill-${runId}-primary`);
      expect(reapOutput).toContain(`container pgdrill-${runId}-standby`);
      expect(reapOutput).toContain(`network pgdrill-${runId}`);
      expect(await leftovers(runId)).toEqual([]);
      started = null;
    } finally {
      await cleanUp(started);
    }
  });
});
