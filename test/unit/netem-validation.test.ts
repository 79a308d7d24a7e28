/**
 * The netem fault as a scenario writes it: its own rules (jitter within the delay, something to
 * do, loss a percentage, a rate with a unit), which targets can do it, where it may be aimed, and
 * one netem per node at a time.
 */
import { describe, expect, it } from "vitest";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { refusedOnce } from "../fixtures/refused.ts";

const pair = { kind: "container-pair" };
const cnpg = { kind: "cnpg" };
const endpoint = { kind: "endpoint" };

function scenario(target: object, schedule: unknown[]) {
  return { name: "x", target, probes: [{ kind: "select1" }], duration: "30s", schedule };
}

const netemOn = (node: string, fields: Record<string, unknown> = { delay: "100ms" }) => ({ kind: "netem", node, ...fields });

const refused = refusedOnce;

describe("the netem fault's own rules", () => {
  it("accepts a netem on the pair and fills in jitter 0 and loss 0", () => {
    const parsed = validateScenario(scenario(pair, [{ at: "5s", fault: netemOn("standby", { delay: "100ms" }), for: "5s" }]), "s");
    expect(parsed.schedule[0]).toEqual({ at: "5s", fault: { kind: "netem", node: "standby", delay: "100ms", jitter: 0, loss: 0 }, for: "5s" });
  });

  it("keeps everything it was given", () => {
    const fault = netemOn("primary", { delay: "100ms", jitter: "100ms", loss: 100, rate: "1gbit" });
    const parsed = validateScenario(scenario(pair, [{ at: "5s", fault }]), "s");
    expect(parsed.schedule[0]).toMatchObject({ fault });
  });

  it("refuses a jitter larger than the delay, at the jitter, with its fix", () => {
    const error = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { delay: "10ms", jitter: "20ms" }) }]));
    expect(error.field).toBe("s: schedule[0].fault.jitter");
    expect(error.message).toContain('must be at most the delay ("10ms"), got "20ms"');
    expect(error.fix).toBe("Lower jitter, or raise delay: a packet cannot leave before it was sent.");
  });

  it("refuses a delay past a minute and a rate past 100gbit before the drill, as the shaping code would mid-drill", () => {
    const delay = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { delay: "2m" }) }]));
    expect(delay.field).toBe("s: schedule[0].fault.delay");
    expect(delay.message).toContain('must be at most 1m, got "2m"');
    expect(delay.fix).toContain("use a partition fault");
    const rate = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { rate: "200gbit" }) }]));
    expect(rate.field).toBe("s: schedule[0].fault.rate");
    expect(rate.message).toContain('must be at most 100gbit, got "200gbit"');
    expect(() => validateScenario(scenario(pair, [{ at: "5s", fault: netemOn("standby", { delay: "1m", rate: "100gbit" }) }]), "s")).not.toThrow();
  });

  it("says what a netem on a killed pair node would do", () => {
    const error = refused(scenario(pair, [{ at: "2s", fault: { kind: "kill", node: "standby" } }, { at: "5s", fault: netemOn("standby") }]));
    expect(error.message).toContain('cannot slow down "standby" at 5.00 s');
  });

  it("refuses a jitter without any delay", () => {
    const error = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { jitter: "5ms", loss: 1 }) }]));
    expect(error.field).toBe("s: schedule[0].fault.jitter");
    expect(error.message).toContain('must be at most the delay (0), got "5ms"');
  });

  it("refuses a netem that sets nothing", () => {
    const error = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", {}) }]));
    expect(error.field).toBe("s: schedule[0].fault");
    expect(error.message).toContain("slows nothing down: give a delay, a loss or a rate");
    expect(error.fix).toBe('Add e.g. delay: "100ms", loss: 5 or rate: "1mbit".');
    // A zero delay written out is still nothing.
    expect(refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { delay: 0, loss: 0 }) }])).message).toContain("slows nothing down");
  });

  it("refuses a loss over 100 percent, or below 0", () => {
    const over = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { loss: 150 }) }]));
    expect(over.field).toBe("s: schedule[0].fault.loss");
    expect(over.message).toMatch(/100/);
    expect(over.message).toContain("150");
    const under = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { loss: -1 }) }]));
    expect(under.field).toBe("s: schedule[0].fault.loss");
  });

  it.each(["10mb", "10 mbit", "0mbit", "1.5mbit", "10Mbit"])("refuses the rate %j, naming the accepted form", (rate) => {
    const error = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { rate }) }]));
    expect(error.field).toBe("s: schedule[0].fault.rate");
    expect(error.message).toContain('must be a bandwidth like "500kbit", "10mbit" or "1gbit"');
    expect(error.message).toContain(JSON.stringify(rate));
  });

  it("refuses a delay that is not a duration", () => {
    const error = refused(scenario(pair, [{ at: "5s", fault: netemOn("standby", { delay: 100 }) }]));
    expect(error.field).toBe("s: schedule[0].fault.delay");
    expect(error.message).toMatch(/bare number/);
  });
});

describe("where a netem may go", () => {
  it("the endpoint target cannot do it, and says what it can", () => {
    const error = refused({ ...scenario(endpoint, [{ at: "5s", fault: netemOn("primary") }]) });
    expect(error.field).toBe("s: schedule[0].fault.kind");
    expect(error.message).toContain('the endpoint target cannot do "netem"');
    expect(error.fix).toBe("Use one of command.");
  });

  it("cnpg refuses to slow the operator down", () => {
    const error = refused(scenario(cnpg, [{ at: "5s", fault: netemOn("operator") }]));
    expect(error.field).toBe("s: schedule[0].fault.node");
    expect(error.message).toContain("cannot slow down the network of the operator");
    expect(error.fix).toMatch(/Aim at an instance, "primary" or "replica"/);
  });

  it.each(["primary", "replica", "pgdrill-2"])("cnpg accepts a netem on %s", (node) => {
    const parsed = validateScenario(scenario(cnpg, [{ at: "5s", fault: netemOn(node, { loss: 10 }), for: "5s" }]), "s");
    expect(parsed.schedule[0]).toMatchObject({ fault: { kind: "netem", node, loss: 10 } });
  });

  it("cnpg refuses an instance it does not have, listing its roles and instances", () => {
    const error = refused(scenario(cnpg, [{ at: "5s", fault: netemOn("pgdrill-4") }]));
    expect(error.field).toBe("s: schedule[0].fault.node");
    expect(error.message).toContain('unknown node "pgdrill-4"');
    expect(error.fix).toBe("The cnpg target's nodes are primary, replica, operator, pgdrill-1, pgdrill-2, pgdrill-3.");
  });

  it("the pair refuses an unknown node the way it does for every fault", () => {
    const error = refused(scenario(pair, [{ at: "5s", fault: netemOn("stanby") }]));
    expect(error.field).toBe("s: schedule[0].fault.node");
    expect(error.message).toContain('unknown node "stanby"');
    expect(error.fix).toContain("nodes are primary, standby");
  });
});

describe("one netem per node at a time", () => {
  it("refuses a second netem on the standby while the first still holds it", () => {
    const error = refused(
      scenario(pair, [
        { at: "5s", fault: netemOn("standby"), for: "10s" },
        { at: "8s", fault: netemOn("standby", { loss: 5 }) },
      ]),
    );
    expect(error.field).toBe("s: schedule[1].fault.node");
    expect(error.message).toContain(`"standby"'s network is already slowed by schedule[0] until 15.00 s`);
    expect(error.message).toContain("healing one heals both");
    expect(error.fix).toContain("at 15.00 s or later");
  });

  it("says to give the first a `for` when it holds the node to the end", () => {
    const error = refused(
      scenario(pair, [
        { at: "5s", fault: netemOn("standby") },
        { at: "20s", fault: netemOn("standby", { loss: 5 }), for: "2s" },
      ]),
    );
    expect(error.field).toBe("s: schedule[1].fault.node");
    expect(error.message).toContain("already slowed by schedule[0];");
    expect(error.fix).toContain('give schedule[0] a "for"');
  });

  it("accepts one after the other: the first healed by its `for` before (or as) the second starts", () => {
    const ok = (schedule: unknown[]) => expect(() => validateScenario(scenario(pair, schedule), "s")).not.toThrow();
    ok([
      { at: "5s", fault: netemOn("standby"), for: "2s" },
      { at: "8s", fault: netemOn("standby", { loss: 5 }) },
    ]);
    // Heals come first at the same moment.
    ok([
      { at: "5s", fault: netemOn("standby"), for: "3s" },
      { at: "8s", fault: netemOn("standby", { loss: 5 }) },
    ]);
    // A heal action in between frees the node too.
    ok([
      { at: "5s", fault: netemOn("standby") },
      { at: "6s", action: { kind: "heal" } },
      { at: "8s", fault: netemOn("standby", { loss: 5 }) },
    ]);
  });

  it("accepts netems on two different nodes at once, and a netem beside a partition of the same node", () => {
    expect(() =>
      validateScenario(
        scenario(pair, [
          { at: "5s", fault: netemOn("standby") },
          { at: "6s", fault: netemOn("primary") },
          { at: "7s", fault: { kind: "partition", isolate: "standby" }, for: "1s" },
        ]),
        "s",
      ),
    ).not.toThrow();
  });

  it("refuses a netem on a node the pair killed earlier: nothing restarts it", () => {
    const error = refused(
      scenario(pair, [
        { at: "5s", fault: { kind: "kill", node: "standby" } },
        { at: "8s", fault: netemOn("standby") },
      ]),
    );
    expect(error.field).toBe("s: schedule[1].fault.node");
    expect(error.message).toContain("schedule[0] killed it and nothing restarts it");
  });

  it("cnpg: two netems on the same instance overlap and are refused", () => {
    const error = refused(
      scenario(cnpg, [
        { at: "5s", fault: netemOn("pgdrill-2"), for: "10s" },
        { at: "8s", fault: netemOn("pgdrill-2", { loss: 5 }) },
      ]),
    );
    expect(error.field).toBe("s: schedule[1].fault.node");
    expect(error.message).toContain(`"pgdrill-2"'s network is already slowed by schedule[0]`);
  });
});
