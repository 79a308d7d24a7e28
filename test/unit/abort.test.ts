/**
 * The kill switch: `abortIf`'s schema and messages, its live judgement over hand-made Histories
 * (the downtime checker's windows, the availability checker's share of time), and a whole drill on
 * a fake target that a breach and `pgdrill stop` end, healed and aborted.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HistoryEvent, RunStartEvent } from "../../harness/history/events.ts";
import { breachReason, findRunDir, KillSwitch, requestStop, runEndOf, STOP_FILE, type Breach } from "../../harness/run/abort.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

const base = { name: "abort", target: { kind: "container-pair" }, probes: [{ kind: "select1" }, { kind: "writes" }, { kind: "role" }], duration: "10s" };
const refusal = (abortIf: unknown) => {
  try {
    validateScenario({ ...base, abortIf }, "drill.yaml");
  } catch (error) {
    return (error as Error).message;
  }
  return "accepted";
};

describe("abortIf in a scenario", () => {
  it("accepts a downtime limit, an availability floor, or both, and leaves it out by default", () => {
    expect(validateScenario(base, "drill.yaml").abortIf).toBeUndefined();
    expect(validateScenario({ ...base, abortIf: { downtimeLongerThan: "60s" } }, "drill.yaml").abortIf).toEqual({ downtimeLongerThan: "60s" });
    expect(validateScenario({ ...base, abortIf: { downtimeLongerThan: "1m", availabilityBelow: { probe: "writes", ratio: 0.5, over: "10s" } } }, "drill.yaml").abortIf).toEqual({
      downtimeLongerThan: "1m",
      availabilityBelow: { probe: "writes", ratio: 0.5, over: "10s" },
    });
  });

  it("refuses what cannot be meant, naming the field and the fix", () => {
    expect(refusal({})).toBe('drill.yaml: abortIf: names no condition. Give downtimeLongerThan (e.g. "60s") and/or availabilityBelow ({ ratio: 0.5, over: "10s" }), or remove abortIf.');
    expect(refusal({ downtimeLongerThan: "0s" })).toBe('drill.yaml: abortIf.downtimeLongerThan: must be longer than 0, got "0s". Give a duration like "10s".');
    expect(refusal({ downtimeLongerThan: 60 })).toMatch(/^drill\.yaml: abortIf\.downtimeLongerThan: must be a duration with a unit/);
    expect(refusal({ availabilityBelow: { ratio: 1.5, over: "10s" } })).toMatch(/abortIf\.availabilityBelow\.ratio: must be at most 1 \(a share of time served, 0\.\.1\)/);
    expect(refusal({ availabilityBelow: { ratio: 0, over: "10s" } })).toMatch(/abortIf\.availabilityBelow\.ratio: must be above 0/);
    expect(refusal({ availabilityBelow: { ratio: 0.5 } })).toMatch(/abortIf\.availabilityBelow\.over: must be a duration/);
    expect(refusal({ availabilityBelow: { ratio: 0.5, over: "0ms" } })).toMatch(/abortIf\.availabilityBelow\.over: must be longer than 0/);
    expect(refusal({ availabilityBelow: { ratio: 0.5, over: "5s", prob: "writes" } })).toMatch(/abortIf\.availabilityBelow: unknown key "prob"\. Did you mean "probe"\?/);
    expect(refusal({ downtimeLongerthan: "5s" })).toMatch(/abortIf: unknown key "downtimeLongerthan"\. Did you mean "downtimeLongerThan"\?/);
  });

  it("refuses, before anything starts, a floor on a probe the scenario does not have or on a role probe", async () => {
    const scenario = (probe: string) => validateScenario({ ...base, abortIf: { availabilityBelow: { probe, ratio: 0.5, over: "5s" } } }, "drill.yaml");
    const outDir = mkdtempSync(join(tmpdir(), "pgdrill-abort-"));
    const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: () => Promise.reject(new Error("must not start")) };
    await expect(runDrill(scenario("write"), { source: "t", outDir, topology })).rejects.toThrow('abortIf.availabilityBelow.probe: names no probe of the scenario ("write"). Use one of "select1", "writes".');
    await expect(runDrill(scenario("role"), { source: "t", outDir, topology })).rejects.toThrow(/"role" is a role probe/);
  });
});

// ---- the live judgement ---------------------------------------------------------------------

const runStart: RunStartEvent = {
  kind: "run-start", t: 0, wallClock: "2026-12-01T00:00:00.000Z", runId: "r", scenario: "s", target: "container-pair", nodes: ["primary", "standby"], primary: "primary", durationMs: 600_000, steadyStateMs: 1000, version: "test",
  probes: [{ name: "select1", type: "select1", everyMs: 100, timeoutMs: 500 }, { name: "writes", type: "write", everyMs: 100, timeoutMs: 500, sloMs: 200 }],
};
let op = 0;
const complete = (probe: string, invokeT: number, latencyMs: number, outcome: "ok" | "fail" | "info"): HistoryEvent => ({
  kind: "complete", t: invokeT + latencyMs, probe, type: probe === "writes" ? "write" : "select1", worker: 0, op: (op += 1), outcome, latencyMs,
});

/** Feeds run-start, the drill phase at 1 s, then `probe`'s operations every 100 ms: ok except in [downFrom, downTo). */
function feed(abortIf: ConstructorParameters<typeof KillSwitch>[0], ops: { probe?: string; untilMs: number; down: (t: number) => boolean; latencyMs?: number }) {
  const breaches: Breach[] = [];
  const killSwitch = new KillSwitch(abortIf, (breach) => breaches.push(breach));
  killSwitch.add(runStart);
  killSwitch.add({ kind: "phase", t: 0, phase: "steady-state" });
  for (let t = 0; t < ops.untilMs; t += 100) {
    if (t === 1000) killSwitch.add({ kind: "phase", t, phase: "drill" });
    killSwitch.add(complete(ops.probe ?? "select1", t, ops.latencyMs ?? 5, ops.down(t) ? "fail" : "ok"));
  }
  return { breaches, killSwitch };
}

describe("KillSwitch, judged live from the operations", () => {
  it("fires once when a probe's outage grows past downtimeLongerThan, while it is still open", () => {
    const { breaches } = feed({ downtimeLongerThan: "2s" }, { untilMs: 20_000, down: (t) => t >= 3000 && t < 9000 });
    expect(breaches).toHaveLength(1);
    // The window opens at the first failed invoke (3000) and is measured to the last completion seen.
    expect(breaches[0]!.condition).toBe("downtimeLongerThan");
    expect(breaches[0]!.t).toBeGreaterThan(5000);
    expect(breaches[0]!.t).toBeLessThan(5200);
    expect(breaches[0]!.message).toMatch(/^probe "select1" was down 2\.\d+ s and still is \(since 3\.00 s into the run\), longer than abortIf\.downtimeLongerThan 2\.00 s$/);
    expect(breachReason(breaches[0]!)).toMatch(/^kill switch \(abortIf\): probe "select1" was down/);
  });

  it("does not fire for an outage shorter than the limit, nor in the steady state", () => {
    expect(feed({ downtimeLongerThan: "2s" }, { untilMs: 20_000, down: (t) => t >= 3000 && t < 4500 }).breaches).toEqual([]);
    // Down from the start, but back before the drill phase plus the limit: the steady state judges it, not the kill switch.
    expect(feed({ downtimeLongerThan: "2s" }, { untilMs: 20_000, down: (t) => t < 900 }).breaches).toEqual([]);
  });

  it("counts an outage that began in the steady state from its start", () => {
    const { breaches } = feed({ downtimeLongerThan: "1500ms" }, { untilMs: 5000, down: (t) => t >= 500 });
    expect(breaches).toHaveLength(1);
    expect(breaches[0]!.message).toMatch(/since 0\.50 s into the run/);
  });

  it("counts stalls past a probe's slo as down, as the downtime checker does", () => {
    // writes has slo 200 ms: 400 ms answers are ok but count as down past 200 ms, back to back.
    const { breaches } = feed({ downtimeLongerThan: "2s" }, { probe: "writes", untilMs: 20_000, down: () => false, latencyMs: 5 });
    expect(breaches).toEqual([]);
    const stalled = new KillSwitch({ downtimeLongerThan: "1s" }, () => undefined);
    const seen: Breach[] = [];
    const slow = new KillSwitch({ downtimeLongerThan: "1s" }, (breach) => seen.push(breach));
    for (const killSwitch of [stalled, slow]) {
      killSwitch.add(runStart);
      killSwitch.add({ kind: "phase", t: 0, phase: "drill" });
    }
    // One client waits 3 s for an ok answer: down from invoke + slo to its completion.
    slow.add(complete("writes", 0, 5, "ok"));
    slow.add(complete("writes", 100, 3000, "ok"));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.message).toMatch(/probe "writes" was down 2\.\d+ s \(since 0\.30 s into the run\)/);
  });

  it("fires when the share of time served over the trailing window falls below the floor, judged only once the window is observed", () => {
    // Down 40% of every second from 4 s on: below 0.7 over 5 s once enough of it is in the window.
    const flapping = (t: number) => t >= 4000 && t % 1000 < 400;
    const { breaches } = feed({ availabilityBelow: { ratio: 0.7, over: "5s" } }, { untilMs: 20_000, down: flapping });
    expect(breaches).toHaveLength(1);
    expect(breaches[0]!.condition).toBe("availabilityBelow");
    expect(breaches[0]!.message).toMatch(/^probe "select1" was served 6\d\.\d% of the last 5\.00 s, below abortIf\.availabilityBelow 70\.0%$/);
    // The same floor over 5 s is never judged on a probe that has observed less than that: 3 s all down.
    expect(feed({ availabilityBelow: { ratio: 0.7, over: "5s" } }, { untilMs: 4000, down: (t) => t >= 1000 }).breaches).toEqual([]);
    // A floor on another probe than the headline ignores the headline's outage.
    expect(feed({ availabilityBelow: { ratio: 0.7, over: "5s", probe: "writes" } }, { untilMs: 20_000, down: flapping }).breaches).toEqual([]);
  });

  it("keeps only the horizon's operations, however long the drill", () => {
    const { killSwitch, breaches } = feed({ downtimeLongerThan: "2s", availabilityBelow: { ratio: 0.1, over: "3s" } }, { untilMs: 600_000, down: (t) => t % 10_000 < 1000 });
    expect(breaches).toEqual([]);
    // 3 s + 1 s of slack at one operation per 100 ms, and the one before it.
    expect(killSwitch.held).toBeLessThanOrEqual(42);
  });

  it("trips by hand (pgdrill stop) once, and never after a breach", () => {
    const { killSwitch, breaches } = feed({ downtimeLongerThan: "1s" }, { untilMs: 5000, down: (t) => t >= 2000 });
    expect(breaches).toHaveLength(1);
    killSwitch.trip({ condition: "stop", t: 6000, message: "stopped by `pgdrill stop`" });
    expect(breaches).toHaveLength(1);
    const unarmed = new KillSwitch(undefined, (breach) => breaches.push(breach));
    expect(unarmed.armed).toBe(false);
    unarmed.trip({ condition: "stop", t: 1, message: "stopped by `pgdrill stop`" });
    expect(breaches.at(-1)!.message).toBe("stopped by `pgdrill stop`");
  });
});

// ---- a whole drill --------------------------------------------------------------------------

function fakeDrill(abortIf: unknown) {
  const scenario = validateScenario(
    {
      name: "fake-abort",
      target: { kind: "container-pair" },
      probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
      steadyState: { window: "1s", minAvailability: 0 },
      schedule: [{ at: "1s", fault: { kind: "pause", node: "primary" }, for: "6s" }],
      duration: "10s",
      ...(abortIf === undefined ? {} : { abortIf }),
    },
    "fake",
  );
  const clock = new VirtualClock();
  const started = new FakeTarget({ clock });
  const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: async () => started };
  const outDir = mkdtempSync(join(tmpdir(), "pgdrill-fake-abort-"));
  const events = () => readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
  return { scenario, clock, started, topology, outDir, events };
}

describe("runDrill with a kill switch (fake target, virtual clock)", { timeout: 30_000 }, () => {
  it("a breach heals at once, stops the schedule, records why and ends aborted with the reason, writing every report", async () => {
    // Nothing listens on the fake's port: every operation fails, so the outage passes 1 s soon after the pause at 1 s.
    const { scenario, clock, started, topology, outDir, events } = fakeDrill({ downtimeLongerThan: "1s" });
    const outcome = await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock }), { realMsPerJump: 2 });
    expect(started.log[0]).toBe("pause primary@1000");
    // Unpaused at the breach (~1.5 s), not at the planned 7 s.
    const unpause = started.log.find((entry) => entry.startsWith("unpause"));
    expect(Number(unpause!.split("@")[1])).toBeLessThan(3000);
    const log = events().find((event) => event.kind === "log");
    expect(log).toMatchObject({ level: "error", message: expect.stringMatching(/^kill switch \(abortIf\): probe "select1" was down 1\.\d+ s and still is \(since 0\.00 s into the run\), longer than abortIf\.downtimeLongerThan 1\.00 s$/) });
    expect(events().at(-1)).toMatchObject({ kind: "run-end", status: "aborted", error: log?.kind === "log" ? log.message : "" });
    expect(events().filter((event) => event.kind === "fault").map((event) => event.kind === "fault" && event.phase)).toEqual(["inject", "heal"]);
    expect(outcome.result.verdict).toBe("errored");
    expect(outcome.result.reason).toMatch(/^the run aborted: kill switch \(abortIf\): probe "select1" was down/);
    expect(started.tornDown).toBe(1);
    for (const file of ["result.json", "report.md", "report.html", "junit.xml"]) expect(readFileSync(join(outDir, file), "utf8").length).toBeGreaterThan(0);
    expect(readFileSync(join(outDir, "report.md"), "utf8")).toContain("kill switch (abortIf)");
  });

  it("a stop file (pgdrill stop) does the same, with its reason; the run is found by its directory", async () => {
    const { scenario, clock, started, topology, outDir, events } = fakeDrill(undefined);
    const running = runDrill(scenario, { source: "fake", outDir, topology, clock });
    // Once the pause is in, ask it to stop as `pgdrill stop` would.
    const stopWhenPaused = (async () => {
      while (!started.log.some((entry) => entry.startsWith("pause"))) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(findRunDir(outDir)).toBe(outDir);
      // By its run id too, from any directory: a running drill registers itself.
      while (!readFileSync(join(outDir, "history.jsonl"), "utf8").includes("\n")) await new Promise((resolve) => setTimeout(resolve, 5));
      const runId = (JSON.parse(readFileSync(join(outDir, "history.jsonl"), "utf8").split("\n")[0]!) as { runId: string }).runId;
      expect(findRunDir(runId, tmpdir())).toBe(outDir);
      expect(runEndOf(outDir)).toBeNull();
      requestStop(outDir, "the on-call asked");
    })();
    const outcome = await clock.drive(running, { realMsPerJump: 20 });
    await stopWhenPaused;
    expect(started.log.some((entry) => entry.startsWith("unpause"))).toBe(true);
    expect(events().at(-1)).toMatchObject({ kind: "run-end", status: "aborted", error: expect.stringMatching(/^stopped by `pgdrill stop` \(pid \d+\): the on-call asked$/) });
    expect(outcome.result.verdict).toBe("errored");
    expect(outcome.result.reason).toMatch(/^the run aborted: stopped by `pgdrill stop`/);
    expect(runEndOf(outDir)).toMatchObject({ status: "aborted" });
    // Unregistered once it ended.
    const runId = (events()[0] as { runId: string }).runId;
    expect(() => findRunDir(runId, tmpdir())).toThrow(/is neither a run directory/);
  });

  it("a stop file left from before the run is not a request", async () => {
    const { scenario, clock, topology, outDir } = fakeDrill(undefined);
    writeFileSync(join(outDir, STOP_FILE), "{}\n");
    const outcome = await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock }), { realMsPerJump: 2 });
    expect(outcome.result.reason ?? "").not.toMatch(/pgdrill stop/);
  });
});
