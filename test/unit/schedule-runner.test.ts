/**
 * The Schedule runner against a fake started target on a virtual clock (no Docker, no waiting):
 * steps start at their time and side by side, `for` heals come after their injection, whatever
 * is still active is healed by healAll exactly once, and an abort stops what has not started.
 */
import { afterEach, describe, expect, it } from "vitest";
import { closeRunnerHistories, runnerOnFakePair } from "../fakes/schedule-runner.ts";

afterEach(closeRunnerHistories);
const setUp = runnerOnFakePair;

describe("ScheduleRunner", () => {
  it("starts each step at its time, side by side: a promote's detection delay does not hold back the next fault", async () => {
    const { clock, topology, runner, plan, steps } = setUp(
      [
        { at: "2s", fault: { kind: "kill", node: "primary" } },
        { at: "2s", action: { kind: "promote", node: "standby", after: "3s" } },
        { at: "3s", fault: { kind: "partition", isolate: "standby" }, for: "1s" },
      ],
      { takes: { promote: 400 } },
    );
    await clock.drive(runner.run(plan));
    expect(topology.log).toEqual([
      "kill primary@2000",
      "cut standby@3000",
      "healCuts standby@4000",
      "promote standby@5000",
      "repoint standby@5400",
    ]);
    // At 2 s both start; the kill is recorded once its node is resolved, after the promote's start.
    expect(steps()).toEqual(["promote start@2000", "kill inject@2000", "partition inject@3000", "partition heal@4000", "promote end@5400"]);
    expect(topology.rwNode).toBe("standby");
    expect(runner.errors).toEqual([]);
  });

  it("records a fault when pgdrill acts on the node, not when it began finding which node a role names", async () => {
    // Finding "primary" asks the HA system first; writes that reach the old primary meanwhile are no recovery.
    const { clock, topology, runner, plan, steps } = setUp([{ at: "2s", fault: { kind: "kill", node: "primary" } }], { resolveTakes: 40 });
    await clock.drive(runner.run(plan));
    expect(topology.log).toEqual(["kill primary@2040"]);
    expect(steps()).toEqual(["kill inject@2040"]);
  });

  it("a `for` heal due while its injection is still running waits for it, so the fault does not stay", async () => {
    // docker pause can take longer than a short `for`: the unpause must come after the pause.
    const { clock, topology, runner, plan, steps } = setUp([{ at: "1s", fault: { kind: "pause", node: "primary" }, for: "300ms" }], {
      takes: { pause: 800 },
    });
    await clock.drive(runner.run(plan));
    expect(topology.calls.map((call) => `${call.method} ${call.phase}@${call.t}`)).toEqual([
      "pause start@1000",
      "pause end@1800",
      "unpause start@1800",
      "unpause end@1800",
    ]);
    expect(topology.paused.size).toBe(0);
    expect(steps()).toEqual(["pause inject@1000", "pause heal@1800"]);
    await clock.drive(runner.healAll());
    expect(topology.log).toEqual(["pause primary@1000", "unpause primary@1800"]);
  });

  it("healAll heals every fault still active once, records it, and is idempotent", async () => {
    const { clock, topology, runner, plan, steps } = setUp([
      { at: "1s", fault: { kind: "pause", node: "standby" } },
      { at: "2s", fault: { kind: "partition", isolate: "primary" } },
      { at: "3s", fault: { kind: "kill", node: "primary" } },
    ]);
    await clock.drive(runner.run(plan));
    expect(topology.paused).toEqual(new Set(["standby"]));
    await clock.drive(runner.healAll());
    await clock.drive(runner.healAll());
    expect(topology.paused.size).toBe(0);
    expect(topology.cutOff.size).toBe(0);
    // A kill has nothing to heal; the pause and the partition are healed once each.
    expect(steps()).toEqual(["pause inject@1000", "partition inject@2000", "kill inject@3000", "pause heal@3000", "partition heal@3000"]);
  });

  it("a heal action heals what is active, and a later fault on the same node is injected afresh", async () => {
    const { clock, topology, runner, plan, steps } = setUp([
      { at: "1s", fault: { kind: "pause", node: "primary" } },
      { at: "2s", action: { kind: "heal" } },
      { at: "3s", fault: { kind: "pause", node: "primary" }, for: "1s" },
    ]);
    await clock.drive(runner.run(plan));
    expect(steps()).toEqual([
      "pause inject@1000",
      "heal start@2000",
      "pause heal@2000",
      "heal end@2000",
      "pause inject@3000",
      "pause heal@4000",
    ]);
    expect(topology.paused.size).toBe(0);
  });

  it("records a failed injection as not ok, reports it, and does not try to heal it", async () => {
    const { clock, topology, runner, plan, events } = setUp([{ at: "1s", fault: { kind: "pause", node: "primary" }, for: "1s" }], {
      fails: { pause: "runc: unable to freeze" },
    });
    await clock.drive(runner.run(plan));
    await clock.drive(runner.healAll());
    const fault = events.find((event) => event.kind === "fault");
    expect(fault).toMatchObject({ phase: "inject", ok: false, error: "runc: unable to freeze", t: 1000 });
    expect(runner.errors).toEqual(["pause primary: runc: unable to freeze"]);
    // The heal is still attempted: unpausing a node that never froze is harmless, leaving one frozen is not.
    expect(topology.log).toEqual(["pause primary@1000", "unpause primary@2000"]);
  });

  it("an abort stops the steps not yet started; healAll then heals what had been injected", async () => {
    const abort = new AbortController();
    const { clock, topology, runner, plan, steps } = setUp(
      [
        { at: "1s", fault: { kind: "pause", node: "primary" } },
        { at: "5s", fault: { kind: "kill", node: "standby" } },
      ],
      {},
      abort,
    );
    const running = runner.run(plan);
    await clock.advanceTo(2000);
    abort.abort();
    await clock.drive(running);
    await clock.drive(runner.healAll());
    expect(topology.log).toEqual(["pause primary@1000", "unpause primary@2000"]);
    expect(steps()).toEqual(["pause inject@1000", "pause heal@2000"]);
  });

  it("an aborted promote with a detection delay ends as a failed action, not a promotion", async () => {
    const abort = new AbortController();
    const { clock, topology, runner, plan, events } = setUp(
      [{ at: "1s", action: { kind: "promote", node: "standby", after: "10s" } }],
      {},
      abort,
    );
    const running = runner.run(plan);
    await clock.advanceTo(3000);
    abort.abort();
    await clock.drive(running);
    expect(topology.log).toEqual([]);
    expect(events.filter((event) => event.kind === "action").at(-1)).toMatchObject({
      phase: "end",
      ok: false,
      error: "aborted before promotion",
      t: 3000,
    });
  });
});
