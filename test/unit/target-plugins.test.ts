/**
 * Targets as plugins: the registry, what each plugin can do (read from the capabilities faults and
 * actions declare), the control a fault is handed, and the netem fault's conversion and label.
 */
import { describe, expect, it } from "vitest";
import { FAULT_CATALOG, faultDisplay } from "../../harness/fault/catalog.ts";
import { netemSchema, shapingOf } from "../../harness/fault/kinds/netem.ts";
import { ACTIONS } from "../../harness/action/registry.ts";
import { target as targetSchema } from "../../harness/scenario/schema.ts";
import { targetAbilities, validateScenario } from "../../harness/scenario/validate.ts";
import { FAULTS } from "../../harness/fault/registry.ts";
import type { Capability } from "../../harness/targets/controls.ts";
import { TARGET_PLUGINS, targetPlugin } from "../../harness/targets/registry.ts";
import { control, type StartedTopology } from "../../harness/targets/types.ts";
import { InputError } from "../../harness/errors.ts";

const kinds = TARGET_PLUGINS.map((plugin) => plugin.kind);

describe("the target registry", () => {
  it("names each plugin by its options schema's kind literal", () => {
    for (const plugin of TARGET_PLUGINS) {
      const literal = plugin.options.shape.kind;
      expect([...literal.values]).toEqual([plugin.kind]);
      // The schema accepts its own kind (the rest defaulted) and nothing else's.
      expect(plugin.options.safeParse({ kind: plugin.kind }).success).toBe(true);
      for (const other of kinds.filter((kind) => kind !== plugin.kind)) expect(plugin.options.safeParse({ kind: other }).success).toBe(false);
    }
  });

  it("has each kind once, and finds each plugin by its kind", () => {
    expect(kinds).toEqual(["container-pair", "cnpg", "endpoint", "patroni", "pg-auto-failover"]);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const plugin of TARGET_PLUGINS) expect(targetPlugin(plugin.kind)).toBe(plugin);
    expect(targetPlugin("pear")).toBeUndefined();
  });

  it("the scenario's target union says exactly the registry's kinds, in its order, for an unknown kind", () => {
    let error: unknown;
    try {
      validateScenario({ name: "x", target: { kind: "pear" }, probes: [{ kind: "select1" }], duration: "10s" }, "s");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    const refusal = error as InputError;
    expect(refusal.field).toBe("s: target.kind");
    const listed = /use one of (.*) \(got "pear"\)/.exec(refusal.message)?.[1];
    expect(listed).toBe(kinds.map((kind) => `"${kind}"`).join(", "));
    // A near miss is named as the kind probably meant.
    expect(() => validateScenario({ name: "x", target: { kind: "cnpgg" }, probes: [{ kind: "select1" }], duration: "10s" }, "s")).toThrow(/did you mean "cnpg"\?/);
  });
});

describe("what each target can do", () => {
  const abilities = (kind: string) => targetAbilities(targetSchema.parse({ kind }));

  it.each([
    ["container-pair", ["kill", "stop", "pause", "partition", "netem", "destroy-data", "drop-table", "truncate-table", "corrupt-file", "command"], ["backup", "restore", "promote", "heal"]],
    ["cnpg", ["kill", "partition", "netem", "delete-pod", "fence", "node-down", "command"], ["switchover", "heal"]],
    ["endpoint", ["command"], ["heal"]],
    ["patroni", ["kill", "stop", "pause", "partition", "netem", "kill-process", "pause-process", "destroy-data", "drop-table", "truncate-table", "corrupt-file", "dcs-outage", "dcs-partition", "command"], ["switchover", "backup", "restore", "failover", "maintenance", "heal"]],
    ["pg-auto-failover", ["kill", "stop", "pause", "partition", "netem", "kill-process", "pause-process", "monitor-outage", "command"], ["switchover", "perform", "node-maintenance", "heal"]],
  ])("%s: faults %j, actions %j", (kind, faults, actions) => {
    expect(abilities(kind)).toEqual({ faults, actions });
  });

  it("a fault or action is offered exactly when its target provides what it requires", () => {
    for (const plugin of TARGET_PLUGINS) {
      const { faults, actions } = abilities(plugin.kind);
      const provides = (requires: Capability | null) => requires === null || (plugin.capabilities as readonly Capability[]).includes(requires);
      expect(faults).toEqual(Object.entries(FAULT_CATALOG).filter(([, entry]) => provides(entry.requires)).map(([kind]) => kind));
      expect(actions).toEqual(ACTIONS.filter((action) => provides(action.requires)).map((action) => action.kind));
    }
  });
});

describe("capabilities", () => {
  const required = new Set<Capability | null>([...Object.values(FAULT_CATALOG).map((entry) => entry.requires), ...ACTIONS.map((action) => action.requires)]);
  const provided = new Set(TARGET_PLUGINS.flatMap((plugin) => plugin.capabilities as readonly Capability[]));

  it("each fault kind requires nothing or a capability some target provides", () => {
    for (const [kind, entry] of Object.entries(FAULT_CATALOG)) {
      expect(entry.requires === null || provided.has(entry.requires), `${kind} requires ${entry.requires}`).toBe(true);
    }
    // Only the user's own command needs nothing of the target.
    expect(Object.entries(FAULT_CATALOG).filter(([, entry]) => entry.requires === null).map(([kind]) => kind)).toEqual(["command"]);
    expect(FAULT_CATALOG.netem.requires).toBe("shaping");
  });

  it("no plugin lists a capability that no fault or action requires", () => {
    for (const plugin of TARGET_PLUGINS) {
      for (const capability of plugin.capabilities) expect(required.has(capability), `${plugin.kind}: ${capability}`).toBe(true);
      expect(new Set(plugin.capabilities).size, `${plugin.kind} lists a capability twice`).toBe(plugin.capabilities.length);
    }
  });

  it("every capability is required by something and provided by some target", () => {
    for (const capability of [...required, ...provided]) {
      if (capability === null) continue;
      expect(required.has(capability), `nothing requires ${capability}`).toBe(true);
      expect(provided.has(capability), `no target provides ${capability}`).toBe(true);
    }
  });

  it("a target's own faults are in the registry, after the core's, and need only what their target provides", () => {
    const owned = TARGET_PLUGINS.flatMap((plugin) => plugin.faults.map((fault) => fault.kind));
    expect(owned).toEqual(["delete-pod", "fence", "node-down", "dcs-outage", "dcs-partition", "monitor-outage"]);
    // kill-process and pause-process are the core's: two HA managers (Patroni, pg_auto_failover) provide what they need.
    expect(FAULTS.map((fault) => fault.kind)).toEqual(["kill", "stop", "pause", "partition", "netem", "kill-process", "pause-process", "destroy-data", "drop-table", "truncate-table", "corrupt-file", ...owned, "command"]);
    for (const plugin of TARGET_PLUGINS) {
      for (const fault of plugin.faults) expect(fault.requires === null || (plugin.capabilities as readonly string[]).includes(fault.requires), `${plugin.kind}: ${fault.kind}`).toBe(true);
    }
  });

  it("so are its own actions: the pair's promote, patroni's failover and maintenance, pg_auto_failover's perform and node-maintenance", () => {
    const owned = TARGET_PLUGINS.flatMap((plugin) => plugin.actions.map((action) => action.kind));
    expect(owned).toEqual(["promote", "failover", "maintenance", "perform", "node-maintenance"]);
    expect(ACTIONS.map((action) => action.kind)).toEqual(["switchover", "backup", "restore", ...owned, "heal"]);
    for (const plugin of TARGET_PLUGINS) {
      for (const action of plugin.actions) expect(action.requires === null || (plugin.capabilities as readonly string[]).includes(action.requires), `${plugin.kind}: ${action.kind}`).toBe(true);
    }
  });
});

describe("control()", () => {
  it("refuses a missing control naming the target kind, what was asked and the control it lacks", () => {
    const topology = { kind: "endpoint", controls: {} } as unknown as StartedTopology;
    expect(() => control(topology, "shaping", "netem")).toThrow('the endpoint target cannot do "netem" (it has no shaping control)');
    expect(() => control(topology, "promotion", "promote")).toThrow(/^the endpoint target cannot do "promote" \(it has no promotion control\)$/);
  });

  it("returns the control itself when the target has it", () => {
    const shaping = { shape: async () => "shaped", unshape: async () => undefined };
    const topology = { kind: "container-pair", controls: { shaping } } as unknown as StartedTopology;
    expect(control(topology, "shaping", "netem")).toBe(shaping);
    // Another capability of the same target is still missing.
    expect(() => control(topology, "kill", "kill")).toThrow('the container-pair target cannot do "kill" (it has no kill control)');
  });
});

describe("the netem fault", () => {
  const netem = (fields: Record<string, unknown>) => netemSchema.parse({ kind: "netem", node: "standby", ...fields });

  it("shapingOf turns durations into ms and the rate into kbit/s", () => {
    expect(shapingOf(netem({ delay: "100ms", jitter: "10ms", loss: 5, rate: "10mbit" }))).toEqual({ delayMs: 100, jitterMs: 10, lossPercent: 5, rateKbit: 10_000 });
    expect(shapingOf(netem({ rate: "500kbit" })).rateKbit).toBe(500);
    expect(shapingOf(netem({ rate: "1gbit" })).rateKbit).toBe(1_000_000);
    expect(shapingOf(netem({ delay: "1.5s" }))).toEqual({ delayMs: 1500, jitterMs: 0, lossPercent: 0, rateKbit: undefined });
    expect(shapingOf(netem({ loss: 2.5 })).rateKbit).toBeUndefined();
    expect(shapingOf(netem({ loss: 2.5 })).lossPercent).toBe(2.5);
  });

  it("is labelled with only what it sets", () => {
    const label = (fields: Record<string, unknown>) => FAULT_CATALOG.netem.label(netem(fields));
    expect(label({ delay: "100ms", jitter: "10ms", loss: 5, rate: "10mbit" })).toBe("netem standby (delay 100 ms ± 10 ms, loss 5%, rate 10mbit)");
    expect(label({ loss: 5 })).toBe("netem standby (loss 5%)");
    expect(label({ delay: "100ms" })).toBe("netem standby (delay 100 ms)");
    expect(label({ rate: "500kbit" })).toBe("netem standby (rate 500kbit)");
    // The same on every target: a netem is not done differently by name.
    expect(faultDisplay("netem")!.label(netem({ loss: 5 }), "cnpg")).toBe("netem standby (loss 5%)");
  });

  it("heals and is drawn in a colour of its own", () => {
    expect(FAULT_CATALOG.netem.heals).toBe(true);
    const others = Object.entries(FAULT_CATALOG).filter(([kind]) => kind !== "netem" && kind !== "command").map(([, entry]) => entry.color);
    expect(others).not.toContain(FAULT_CATALOG.netem.color);
  });
});
