/**
 * The Schedule runner with netem faults, against a fake pair on a virtual clock: the node is shaped
 * at the fault's time through the shaping control and unshaped when its `for` ends, by a heal
 * action, or by healAll at the end of the drill; the History keeps how it was shaped.
 */
import { afterEach, describe, expect, it } from "vitest";
import { closeRunnerHistories, runnerOnFakePair } from "../fakes/schedule-runner.ts";

afterEach(closeRunnerHistories);
const setUp = runnerOnFakePair;

const netem = { kind: "netem", node: "standby", delay: "100ms", jitter: "10ms", loss: 5, rate: "10mbit" };
const label = "netem standby (delay 100 ms ± 10 ms, loss 5%, rate 10mbit)";

describe("ScheduleRunner with netem", () => {
  it("shapes the node at its time and unshapes it when `for` ends", async () => {
    const { clock, topology, runner, plan, steps } = setUp([{ at: "2s", fault: netem, for: "3s" }]);
    const running = runner.run(plan);
    await clock.advanceTo(2500);
    expect(topology.shaped).toEqual(new Set(["standby"]));
    await clock.drive(running);
    expect(topology.calls.map((call) => `${call.method} ${call.node} ${call.phase}@${call.t}`)).toEqual([
      "shape standby start@2000",
      "shape standby end@2000",
      "unshape standby start@5000",
      "unshape standby end@5000",
    ]);
    expect(topology.shaped.size).toBe(0);
    expect(steps()).toEqual(["netem inject@2000", "netem heal@5000"]);
    // Healed already: the end of the drill has nothing left to undo.
    await clock.drive(runner.healAll());
    expect(topology.log).toEqual(["shape standby@2000", "unshape standby@5000"]);
    expect(runner.errors).toEqual([]);
  });

  it("a `for` shorter than the shaping takes unshapes after the shape is done, not before", async () => {
    const { clock, topology, runner, plan } = setUp([{ at: "1s", fault: netem, for: "200ms" }], { takes: { shape: 700 } });
    await clock.drive(runner.run(plan));
    expect(topology.calls.map((call) => `${call.method} ${call.phase}@${call.t}`)).toEqual(["shape start@1000", "shape end@1700", "unshape start@1700", "unshape end@1700"]);
    expect(topology.shaped.size).toBe(0);
  });

  it("a netem without `for` stays until healAll unshapes it, once", async () => {
    const { clock, topology, runner, plan, steps } = setUp([{ at: "2s", fault: netem }]);
    await clock.drive(runner.run(plan));
    expect(topology.shaped).toEqual(new Set(["standby"]));
    expect(topology.log).toEqual(["shape standby@2000"]);
    await clock.advanceTo(9000);
    await clock.drive(runner.healAll());
    await clock.drive(runner.healAll());
    expect(topology.shaped.size).toBe(0);
    expect(topology.log).toEqual(["shape standby@2000", "unshape standby@9000"]);
    expect(steps()).toEqual(["netem inject@2000", "netem heal@9000"]);
  });

  it("records the inject with how it was shaped, and the heal, in the History", async () => {
    const { clock, runner, plan, faults } = setUp([{ at: "2s", fault: netem, for: "3s" }]);
    await clock.drive(runner.run(plan));
    const [inject, heal, ...rest] = faults();
    expect(rest).toEqual([]);
    expect(inject).toMatchObject({ kind: "fault", phase: "inject", id: "f1", fault: "netem", label, nodes: ["standby"], t: 2000, ok: true, output: "fake shaping" });
    expect(heal).toMatchObject({ kind: "fault", phase: "heal", id: "f1", fault: "netem", label, nodes: ["standby"], t: 5000, ok: true });
    // Unshaping says nothing worth keeping.
    expect(heal).not.toHaveProperty("output");
  });

  it("a heal action unshapes an active netem; a later netem on the node is shaped afresh", async () => {
    const { clock, topology, runner, plan, steps } = setUp([
      { at: "1s", fault: netem },
      { at: "3s", action: { kind: "heal" } },
      { at: "4s", fault: { kind: "netem", node: "standby", loss: 20 }, for: "1s" },
    ]);
    await clock.drive(runner.run(plan));
    expect(topology.log).toEqual(["shape standby@1000", "unshape standby@3000", "shape standby@4000", "unshape standby@5000"]);
    expect(steps()).toEqual(["netem inject@1000", "heal start@3000", "netem heal@3000", "heal end@3000", "netem inject@4000", "netem heal@5000"]);
    expect(topology.shaped.size).toBe(0);
    await clock.drive(runner.healAll());
    expect(topology.log).toHaveLength(4);
  });

  it("a failed shaping is recorded as not ok and reported; the heal still unshapes", async () => {
    const { clock, topology, runner, plan, faults } = setUp([{ at: "1s", fault: netem, for: "1s" }], { fails: { shape: "tc: RTNETLINK answers: Operation not permitted" } });
    await clock.drive(runner.run(plan));
    expect(faults()[0]).toMatchObject({ phase: "inject", ok: false, error: "tc: RTNETLINK answers: Operation not permitted", t: 1000 });
    expect(faults()[0]).not.toHaveProperty("output");
    expect(runner.errors).toEqual([`${label}: tc: RTNETLINK answers: Operation not permitted`]);
    expect(topology.log).toEqual(["shape standby@1000", "unshape standby@2000"]);
  });
});
