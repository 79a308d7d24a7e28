/**
 * A new fault touches only its module and the fault registry. The harness is copied to a temp
 * folder; a fault nobody ships ("throwaway": freeze a node, with a level) is written there as one
 * module, and the registry gets its import and one list entry. From that copy, and from nothing
 * else edited, the fault is validated (with errors naming its fields), is in the JSON Schema and
 * the catalog, is held by feasibility, and is drilled end to end on the fake target. An action
 * ("nudge") is added the same way, to its own registry.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Catalog from "../../harness/fault/catalog.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import type * as Drill from "../../harness/run/drill.ts";
import type * as JsonSchema from "../../harness/scenario/json-schema.ts";
import type * as Validate from "../../harness/scenario/validate.ts";
import { validateScenario as validateHere } from "../../harness/scenario/validate.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

const THROWAWAY_MODULE = `import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineFault } from "../define.ts";

export const throwawayFault = defineFault({
  schema: z
    .strictObject({
      kind: z.literal("throwaway"),
      node: nodeName.describe("The node to freeze."),
      level: z.number().int().min(1, { message: "must be 1, 2 or 3" }).max(3, { message: "must be 1, 2 or 3" }).default(1).describe("How hard."),
    })
    .describe("A fault for this test only."),
  label: (spec) => \`throwaway \${spec.node} (level \${spec.level})\`,
  color: "#123456",
  requires: "freeze",
  nodes: ["node"],
  feasibility: { holds: { kind: "pause" } },
  inject: (spec, { control }) => control.pause(spec.node),
  heal: (spec, { control }) => control.unpause(spec.node),
});
`;

const CORE_LIST = "const CORE_FAULTS = [";

// An action the same way: "nudge" freezes a node for an instant.
const NUDGE_MODULE = `import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineAction } from "../define.ts";

export const nudgeAction = defineAction({
  schema: z.strictObject({ kind: z.literal("nudge"), node: nodeName.describe("The node to nudge.") }).describe("An action for this test only."),
  label: (spec) => \`nudge \${spec.node}\`,
  requires: "freeze",
  node: "node",
  async run(spec, use) {
    await use.bounded(use.control.pause(spec.node));
    await use.bounded(use.control.unpause(spec.node));
    return "nudged";
  },
});
`;
const CORE_ACTION_LIST = "const CORE_ACTIONS = [";

let root: string;
let copy: { validate: typeof Validate; jsonSchema: typeof JsonSchema; catalog: typeof Catalog; drill: typeof Drill };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pgdrill-throwaway-fault-"));
  cpSync(resolve("harness"), join(root, "harness"), { recursive: true });
  cpSync(resolve("package.json"), join(root, "package.json"));
  symlinkSync(resolve("node_modules"), join(root, "node_modules"), "dir");
  // The whole change: the module, and two lines of the registry (its import, its entry).
  writeFileSync(join(root, "harness/fault/kinds/throwaway.ts"), THROWAWAY_MODULE);
  const registryPath = join(root, "harness/fault/registry.ts");
  const registry = readFileSync(registryPath, "utf8");
  expect(registry).toContain(CORE_LIST);
  const edited = registry
    .replace('import { stopFault } from "./kinds/stop.ts";\n', '$&import { throwawayFault } from "./kinds/throwaway.ts";\n')
    .replace(CORE_LIST, `${CORE_LIST}throwawayFault, `);
  expect(edited.split("\n").length - registry.split("\n").length).toBe(1);
  writeFileSync(registryPath, edited);
  writeFileSync(join(root, "harness/action/kinds/nudge.ts"), NUDGE_MODULE);
  const actionsPath = join(root, "harness/action/registry.ts");
  const actions = readFileSync(actionsPath, "utf8");
  expect(actions).toContain(CORE_ACTION_LIST);
  const editedActions = actions
    .replace('import { healAction } from "./kinds/heal.ts";\n', '$&import { nudgeAction } from "./kinds/nudge.ts";\n')
    .replace(CORE_ACTION_LIST, `${CORE_ACTION_LIST}nudgeAction, `);
  expect(editedActions.split("\n").length - actions.split("\n").length).toBe(1);
  writeFileSync(actionsPath, editedActions);
  const load = async <T>(path: string) => (await import(pathToFileURL(join(root, "harness", path)).href)) as T;
  copy = {
    validate: await load<typeof Validate>("scenario/validate.ts"),
    jsonSchema: await load<typeof JsonSchema>("scenario/json-schema.ts"),
    catalog: await load<typeof Catalog>("fault/catalog.ts"),
    drill: await load<typeof Drill>("run/drill.ts"),
  };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const scenario = (schedule: unknown[], target: Record<string, unknown> = { kind: "container-pair" }) => ({
  name: "throwaway",
  target,
  probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
  steadyState: { window: "1s", minAvailability: 0 },
  schedule,
  duration: "10s",
});
const throwaway = (fields: Record<string, unknown> = {}) => ({ at: "2s", fault: { kind: "throwaway", node: "standby", level: 2, ...fields }, for: "1500ms" });

describe("a new fault is its module plus one registry line", { timeout: 60_000 }, () => {
  it("is unknown to the harness as shipped (the copy, not this test, makes it known)", () => {
    expect(() => validateHere(scenario([throwaway()]), "here")).toThrow(/unknown fault kind.*"kill"/);
  });

  it("is accepted by validation, defaults filled in", () => {
    const valid = copy.validate.validateScenario(scenario([throwaway({ level: undefined })]), "copy");
    expect(valid.schedule[0]).toEqual({ at: "2s", fault: { kind: "throwaway", node: "standby", level: 1 }, for: "1500ms" });
  });

  it("is refused with errors that name its fields: a bad option, an unknown node, a target without the capability", () => {
    expect(() => copy.validate.validateScenario(scenario([throwaway({ level: 7 })]), "copy")).toThrow(/schedule\[0\]\.fault\.level: must be 1, 2 or 3/);
    expect(() => copy.validate.validateScenario(scenario([throwaway({ node: "nowhere" })]), "copy")).toThrow(/schedule\[0\]\.fault\.node: .*"nowhere"/);
    const endpoint = scenario([throwaway()], { kind: "endpoint", url: "postgres://x@localhost/db" });
    expect(() => copy.validate.validateScenario(endpoint, "copy")).toThrow(/schedule\[0\]\.fault\.kind: the endpoint target cannot do "throwaway"/);
  });

  it("is held by feasibility as what it declares (a pause on a target that restarts nothing)", () => {
    const twice = scenario([throwaway(), { at: "3s", fault: { kind: "kill", node: "standby" } }]);
    // A kill still reaches a frozen node; a second freeze does not.
    expect(() => copy.validate.validateScenario(twice, "copy")).not.toThrow();
    const again = scenario([throwaway(), { at: "3s", fault: { kind: "throwaway", node: "standby" } }]);
    expect(() => copy.validate.validateScenario(again, "copy")).toThrow(/schedule\[1\]\.fault\.node: cannot throwaway "standby" at 3.00 s: schedule\[0\] paused it until 3.50 s/);
  });

  it("is in the generated JSON Schema, with its options", () => {
    const faults = findFaultUnion(copy.jsonSchema.scenarioJsonSchema());
    const entry = faults.find((option) => option.properties?.kind?.const === "throwaway");
    expect(entry?.properties).toHaveProperty("level");
    expect(entry?.description).toBe("A fault for this test only.");
    expect(faults.length).toBe(findFaultUnion(JSON.parse(readFileSync(resolve("schema/scenario.schema.json"), "utf8")) as Record<string, unknown>).length + 1);
  });

  it("is listed in the catalog the reports read, with its label, colour and heal", () => {
    const entry = copy.catalog.faultDisplay("throwaway");
    expect(entry).toMatchObject({ kind: "throwaway", color: "#123456", heals: true, requires: "freeze", nodes: ["node"] });
    expect(entry?.label({ kind: "throwaway", node: "pg1", level: 3 } as { kind: string })).toBe("throwaway pg1 (level 3)");
  });

  it("is drilled end to end on the fake target: inject and heal in the History, through the freeze control", async () => {
    const valid = copy.validate.validateScenario(scenario([throwaway()]), "copy");
    const clock = new VirtualClock();
    const started = new FakeTarget({ clock });
    const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: async () => started };
    const outDir = join(root, "run");
    await clock.drive(copy.drill.runDrill(valid, { source: "copy", outDir, topology, clock }), { realMsPerJump: 2 });
    const history = readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
    const faults = history.filter((event) => event.kind === "fault");
    expect(faults).toMatchObject([
      { phase: "inject", id: "f1", fault: "throwaway", label: "throwaway standby (level 2)", nodes: ["standby"], t: 2000, ok: true },
      { phase: "heal", id: "f1", fault: "throwaway", nodes: ["standby"], t: 3500, ok: true },
    ]);
    expect(started.log).toEqual(["pause standby@2000", "unpause standby@3500"]);
  });
});

describe("a new action is its module plus one registry line", { timeout: 60_000 }, () => {
  const nudge = (node = "standby") => ({ at: "2s", action: { kind: "nudge", node } });

  it("is accepted where the target provides what it requires, and refused naming the field otherwise", () => {
    expect(() => validateHere(scenario([nudge()]), "here")).toThrow(/unknown action kind/);
    expect(copy.validate.validateScenario(scenario([nudge()]), "copy").schedule[0]).toEqual(nudge());
    expect(() => copy.validate.validateScenario(scenario([nudge("nowhere")]), "copy")).toThrow(/schedule\[0\]\.action\.node: .*"nowhere"/);
    const endpoint = scenario([nudge()], { kind: "endpoint", url: "postgres://x@localhost/db" });
    expect(() => copy.validate.validateScenario(endpoint, "copy")).toThrow(/schedule\[0\]\.action\.kind: the endpoint target cannot do "nudge"/);
  });

  it("is drilled on the fake target: start and end in the History, through the freeze control", async () => {
    const valid = copy.validate.validateScenario(scenario([nudge()]), "copy");
    const clock = new VirtualClock();
    const started = new FakeTarget({ clock });
    const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: async () => started };
    const outDir = join(root, "run-nudge");
    await clock.drive(copy.drill.runDrill(valid, { source: "copy", outDir, topology, clock }), { realMsPerJump: 2 });
    const history = readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
    expect(history.filter((event) => event.kind === "action")).toMatchObject([
      { phase: "start", id: "a1", action: "nudge", label: "nudge standby", node: "standby", t: 2000 },
      { phase: "end", id: "a1", action: "nudge", node: "standby", ok: true },
    ]);
    expect(started.log).toEqual(["pause standby@2000", "unpause standby@2000"]);
  });
});

interface SchemaOption {
  description?: string;
  properties?: { kind?: { const?: unknown } } & Record<string, unknown>;
}

/** The `oneOf` that lists the faults (the one holding "kill"). */
function findFaultUnion(node: unknown): SchemaOption[] {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findFaultUnion(item);
      if (found.length > 0) return found;
    }
    return [];
  }
  if (typeof node !== "object" || node === null) return [];
  const record = node as Record<string, unknown>;
  const options = record["oneOf"];
  if (Array.isArray(options) && options.some((option: SchemaOption) => option.properties?.kind?.const === "kill")) return options as SchemaOption[];
  return findFaultUnion(Object.values(record));
}
