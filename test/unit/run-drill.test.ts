/**
 * A whole drill without Docker: runDrill against a fake target on a virtual clock. The flow STYLE.md
 * gives (start → steady state → probes and schedule → heal in `finally` → teardown → History closed →
 * analysis) holds on every path: a normal end, a fault left active, an interrupt, a deadline, and a
 * target that never starts. The probes reach a port nothing listens on, so their operations fail
 * fast and for real; the steady state asks for no availability.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { ProbeRunner, Topology } from "../../harness/targets/types.ts";
import { FakeTarget, type FakeTargetOptions } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

function drill(schedule: unknown[], target: Omit<FakeTargetOptions, "clock"> & { startHangs?: boolean } = {}) {
  const scenario = validateScenario(
    {
      name: "fake-drill",
      target: { kind: "container-pair" },
      probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
      steadyState: { window: "1s", minAvailability: 0 },
      schedule,
      duration: "10s",
    },
    "fake",
  );
  const clock = new VirtualClock();
  const started = new FakeTarget({ clock, ...target });
  const topology: Topology = {
    kind: "container-pair",
    nodes: ["primary", "standby"],
    initialPrimary: "primary",
    async start(options) {
      // A real target gives up when the drill is stopped while it starts; so does this one.
      if (target.startHangs) await new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(new Error("interrupted while starting")), { once: true }));
      return started;
    },
  };
  const outDir = mkdtempSync(join(tmpdir(), "pgdrill-fake-drill-"));
  const events = () => readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
  const steps = () => events().filter((event) => event.kind === "fault" || event.kind === "action" || event.kind === "phase" || event.kind === "steady-state" || event.kind === "run-end").map(describe_);
  return { scenario, clock, started, topology, outDir, events, steps };
}

function describe_(event: HistoryEvent): string {
  switch (event.kind) {
    case "fault":
      return `${event.fault} ${event.phase}@${event.t}`;
    case "action":
      return `${event.action} ${event.phase}@${event.t}`;
    case "phase":
      return `phase ${event.phase}`;
    case "steady-state":
      return `steady-state ${event.ok ? "ok" : "not ok"}`;
    case "run-end":
      return `run-end ${event.status}`;
    default:
      return event.kind;
  }
}

describe("runDrill with a fake target and a virtual clock", { timeout: 30_000 }, () => {
  it("runs the flow in order: steps at their times after the steady state, `for` heals, teardown, then the analysis", async () => {
    const { scenario, clock, started, topology, outDir, steps, events } = drill([{ at: "2s", fault: { kind: "pause", node: "primary" }, for: "1500ms" }]);
    const outcome = await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock }), { realMsPerJump: 2 });
    // Schedule times count from the start of probing (after the target started, at virtual 0 here).
    expect(steps()).toEqual(["phase starting", "phase steady-state", "steady-state ok", "phase drill", "pause inject@2000", "pause heal@3500", "phase healing", "phase final-read", "phase teardown", "run-end completed"]);
    expect(started.log).toEqual(["pause primary@2000", "unpause primary@3500"]);
    expect(started.tornDown).toBe(1);
    expect(outcome.removed).toEqual(["fake target"]);
    expect(outcome.result.verdict).toBe("pass");
    // The probes ran the whole 10 s every 500 ms, and every operation failed for real (nothing listens).
    const completes = events().filter((event) => event.kind === "complete");
    expect(completes.length).toBeGreaterThanOrEqual(18);
    expect(completes.every((event) => event.kind === "complete" && event.outcome === "fail")).toBe(true);
    expect(events().at(-1)).toMatchObject({ kind: "run-end", t: expect.any(Number) });
  });

  it("heals in `finally` a fault the schedule left active, before teardown", async () => {
    const { scenario, clock, started, topology, outDir, steps } = drill([{ at: "2s", fault: { kind: "partition", isolate: "standby" } }]);
    await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock }), { realMsPerJump: 2 });
    const order = steps();
    // Probing ends with the last operation that starts inside the 10 s (every 500 ms: at 9.5 s); then the heal.
    expect(order.slice(order.indexOf("phase healing"))).toEqual(["phase healing", "partition heal@9500", "phase final-read", "phase teardown", "run-end completed"]);
    expect(started.cutOff.size).toBe(0);
    expect(started.log).toEqual(["cut standby@2000", "healCuts standby@9500"]);
  });

  it("a probe that fails in the steady-state window (a driver agent that died) errors the run with its own message", async () => {
    const { scenario, clock, started, outDir, steps } = drill([{ at: "2s", fault: { kind: "pause", node: "primary" } }]);
    const died = 'the pgjdbc agent of probe "select1-pgjdbc" exited before its probe was done (exit code 2): setting "noSuchProperty" refused';
    let closed = 0;
    const probeRunner: ProbeRunner = {
      prepare: async () => undefined,
      run: async () => {
        throw new Error(died);
      },
      finalRead: async () => undefined,
      close: async () => void (closed += 1),
    };
    const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: async () => Object.assign(started, { probeRunner }) };
    const outcome = await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock }), { realMsPerJump: 2 });
    // Not "steady state not met" (the window had no operations because the probe had died), and no fault after it.
    expect(steps()).toEqual(["phase starting", "phase steady-state", "phase healing", "phase final-read", "phase teardown", "run-end errored"]);
    expect(outcome.result.reason).toBe(`the run errored: ${died}`);
    expect(started.log).toEqual([]);
    expect(closed).toBe(1);
    expect(started.tornDown).toBe(1);
  });

  it("an interrupt mid-drill stops the schedule, heals, tears down and ends aborted with the cause", async () => {
    const { scenario, clock, started, topology, outDir, steps } = drill([
      { at: "2s", fault: { kind: "pause", node: "primary" } },
      { at: "6s", fault: { kind: "kill", node: "standby" } },
    ]);
    const interrupt = new AbortController();
    const running = runDrill(scenario, { source: "fake", outDir, topology, clock, signal: interrupt.signal });
    await clock.advanceTo(100); // the target is up and probing has begun
    for (let t = 100; t < 4000; t += 500) await clock.advanceTo(t);
    interrupt.abort(new Error("interrupted: SIGINT"));
    const outcome = await clock.drive(running, { realMsPerJump: 2 });
    expect(started.log).toEqual(["pause primary@2000", "unpause primary@3600"]);
    expect(steps()).toContain("run-end aborted");
    expect(started.tornDown).toBe(1);
    expect(outcome.result.verdict).toBe("errored");
    expect(outcome.result.reason).toMatch(/interrupted during the drill \(SIGINT\)/);
  });

  it("a target that never starts is stopped by the overall deadline: errored, nothing left started, the history closed", async () => {
    const { scenario, clock, started, topology, outDir, steps } = drill([{ at: "2s", fault: { kind: "pause", node: "primary" } }], { startHangs: true });
    const outcome = await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock, deadlineMs: 300 }));
    expect(steps()).toEqual(["phase starting", "phase teardown", "run-end errored"]);
    expect(started.log).toEqual([]);
    expect(outcome.result.verdict).toBe("errored");
    expect(outcome.result.reason).toMatch(/passed its overall deadline of 0 s \(interrupted while starting\)/);
  });

  it("a failed injection errors the run after the schedule, and the target is still healed and torn down", async () => {
    const { scenario, clock, started, topology, outDir } = drill([{ at: "2s", fault: { kind: "pause", node: "primary" }, for: "1s" }], { fails: { pause: "runc: unable to freeze" } });
    const outcome = await clock.drive(runDrill(scenario, { source: "fake", outDir, topology, clock }), { realMsPerJump: 2 });
    expect(outcome.result.verdict).toBe("errored");
    expect(outcome.result.reason).toMatch(/the schedule did not run as planned: pause primary: runc: unable to freeze/);
    expect(started.tornDown).toBe(1);
  });
});
