/**
 * A new target is its folder plus one line in the registry (issue 24). This copies harness/ (and
 * the fake-target harness of test/fakes/) to a temp dir, writes a small target there — its plugin,
 * ONE observation event kind of its own and a check that reads it — adds it to the copy's registry,
 * and shows from that copy, in a Node process of its own (so the copy's modules are the ones
 * loaded): its scenarios validate, with a bad field named; it is in the JSON Schema; the registry
 * lists it; and a drill on the fake target records its event, which is validated on reading and
 * measured by its check in the analysis.
 *
 * The target also owns one fault ("dim"), with a control only it hands out: validated with its
 * fields named, refused by a target without that control, in the JSON Schema, and drilled (inject
 * and heal in the History). Not covered: its runtime line in targets/index.ts (the drill below is
 * handed its topology, as test/unit/run-drill.test.ts's drills are).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const FILES: Record<string, string> = {
  "harness/targets/lamp/plugin.ts": `
import { z } from "zod";
import { duration } from "../../scenario/schema-parts.ts";
import { definePlugin } from "../plugin.ts";
import { lampCheck } from "./check.ts";
import { lampEventShape } from "./events.ts";
import { dimFault } from "./faults/dim.ts";

export const lampPlugin = definePlugin({
  faults: [dimFault],
  actions: [],
  kind: "lamp",
  // The drill bounds every start by target.startupTimeout, so a target has one.
  options: z
    .strictObject({ kind: z.literal("lamp"), lamps: z.number().int().min(1).default(2), startupTimeout: duration.default("10s") })
    .describe("A toy target: two lamps."),
  nodes: () => ["primary", "standby"],
  roles: [],
  capabilities: ["lamps"],
  probeEndpoints: () => ["rw"],
  restartsNodes: false,
  onDocker: false,
  strategy: null,
  observations: { lamp: lampEventShape },
  checks: { lamp: lampCheck },
});
`,
  // Its own fault, needing a control only it hands out (declared here, not in the core's Controls).
  "harness/targets/lamp/faults/dim.ts": `
import { z } from "zod";
import { defineFault } from "../../../fault/define.ts";
import { nodeName } from "../../../scenario/schema-parts.ts";

declare module "../../controls.ts" {
  interface Controls { lamps: { dim(node: string, percent: number): Promise<void>; brighten(node: string): Promise<void> } }
}

export const dimFault = defineFault({
  schema: z
    .strictObject({ kind: z.literal("dim"), node: nodeName.describe("The lamp to dim."), percent: z.number().int().min(1).max(99).default(50) })
    .describe("lamp: dim a lamp until healed."),
  label: (spec) => \`dim \${spec.node} to \${spec.percent}%\`,
  color: "#ffcc00",
  requires: "lamps",
  nodes: ["node"],
  inject: (spec, { control }) => control.dim(spec.node, spec.percent),
  heal: (spec, { control }) => control.brighten(spec.node),
});
`,
  "harness/targets/lamp/events.ts": `
import type { Shape } from "../../history/validate.ts";
import { number, oneOf } from "../../history/validate.ts";

export interface LampEvent { kind: "lamp"; t: number; lit: "on" | "off"; watts: number }

declare module "../../history/events.ts" {
  interface Observations { lamp: LampEvent }
}

export const lampEventShape: Shape<LampEvent> = { lit: oneOf({ on: true, off: true }), watts: number };
`,
  "harness/targets/lamp/check.ts": `
import { contextOnly, defineChecker } from "../../checker/checker.ts";
import type { LampEvent } from "./events.ts";

export interface LampMetrics { switchedOn: number; watts: number | null }

declare module "../../result.ts" {
  interface Metrics { lamp: LampMetrics }
}

export const lampCheck = defineChecker({
  empty: (): LampMetrics => ({ switchedOn: 0, watts: null }),
  start: (context) =>
    contextOnly(() => {
      const lamps = context.events.filter((event): event is LampEvent => event.kind === "lamp");
      const on = lamps.filter((event) => event.lit === "on");
      return { valid: on.length > 0, metrics: { switchedOn: on.length, watts: on.at(-1)?.watts ?? null } };
    }),
  // Its gate metrics: "lamp.switchedOn" may be gated; "lamp.watts" is measured but not declared, so not.
  gate: { switchedOn: "lamp: times a lamp was switched on" },
});
`,
  // Run from the copy: prints what each part of the harness makes of the lamp target.
  "probe.ts": `
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readHistory } from "./harness/history/reader.ts";
import { runDrill } from "./harness/run/drill.ts";
import { scenarioJsonSchemaText } from "./harness/scenario/json-schema.ts";
import { validateScenario } from "./harness/scenario/validate.ts";
import { TARGET_OBSERVATIONS, TARGET_PLUGINS, targetPlugin } from "./harness/targets/registry.ts";
import { FakeTarget } from "./test/fakes/fake-target.ts";
import { VirtualClock } from "./test/fakes/virtual-clock.ts";

const input = (target, schedule = []) => ({
  name: "lamp-drill",
  target,
  probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
  steadyState: { window: "1s", minAvailability: 0 },
  schedule,
  duration: "3s",
});
const dim = (fields = {}) => [{ at: "1500ms", fault: { kind: "dim", node: "standby", percent: 30, ...fields }, for: "500ms" }];
const scenario = validateScenario({ ...input({ kind: "lamp" }, dim()), gate: { "lamp.switchedOn": ">= 1" } }, "lamp");
const refusedBy = (target, schedule) => {
  try {
    validateScenario(input(target, schedule), "lamp");
    return null;
  } catch (error) {
    return error.message;
  }
};
// Its fault is its own: bad fields are named, and a target without its control refuses it.
const dimRefused = refusedBy({ kind: "lamp" }, dim({ percent: 100 }));
const pairRefused = refusedBy({ kind: "container-pair" }, dim());
// Its gate metrics are the ones its check declares: another field of its section is refused.
let wattsRefused = null;
try {
  validateScenario({ ...input({ kind: "lamp" }), gate: { "lamp.watts": ">= 1" } }, "lamp");
} catch (error) {
  wattsRefused = error.message;
}
let refused = null;
try {
  validateScenario(input({ kind: "lamp", lamps: 0 }), "lamp");
} catch (error) {
  refused = error.message;
}
const clock = new VirtualClock();
const started = new FakeTarget({ clock });
const lampCalls = [];
started.controls = {
  ...started.controls,
  lamps: {
    dim: async (node, percent) => void lampCalls.push(\`dim \${node} \${percent}\`),
    brighten: async (node) => void lampCalls.push(\`brighten \${node}\`),
  },
};
const topology = {
  kind: "lamp",
  nodes: ["primary", "standby"],
  initialPrimary: "primary",
  async start(options) {
    options.record?.({ kind: "lamp", lit: "on", watts: 60 });
    return started;
  },
};
const outDir = mkdtempSync(join(tmpdir(), "pgdrill-lamp-drill-"));
const outcome = await clock.drive(runDrill(scenario, { source: "lamp", outDir, topology, clock }), { realMsPerJump: 2 });
const events = readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\\n").map((line) => JSON.parse(line));
// Its events are checked where a History is read: a lamp event with a bad field is refused by name.
const bad = join(outDir, "bad.jsonl");
writeFileSync(bad, ['{"kind":"lamp","t":1,"lit":"dim","watts":60}', '{"kind":"run-end","t":2,"status":"completed"}', ""].join("\\n"));
const badRead = await readHistory(bad, TARGET_OBSERVATIONS).then(() => null, (error) => error.message);
console.log(JSON.stringify({
  lamps: scenario.target.lamps,
  refused,
  inSchema: JSON.parse(scenarioJsonSchemaText()),
  listed: TARGET_PLUGINS.map((plugin) => plugin.kind),
  found: targetPlugin("lamp")?.kind ?? null,
  recorded: events.filter((event) => event.kind === "lamp").map(({ t, ...event }) => event),
  metrics: outcome.result.metrics.lamp,
  check: outcome.result.checks.lamp,
  badRead,
  dimRefused,
  pairRefused,
  lampCalls,
  gates: outcome.result.gates,
  verdict: outcome.result.verdict,
  wattsRefused,
  faults: events.filter((event) => event.kind === "fault").map(({ kind, phase, fault, label }) => ({ kind, phase, fault, label })),
}));
`,
};

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** harness/ and test/fakes/ copied, node_modules linked, the lamp target written and registered. */
function copyWithLamp(): string {
  const root = mkdtempSync(join(tmpdir(), "pgdrill-throwaway-target-"));
  tempDirs.push(root);
  cpSync(resolve("harness"), join(root, "harness"), { recursive: true });
  cpSync(resolve("test/fakes"), join(root, "test/fakes"), { recursive: true });
  cpSync(resolve("package.json"), join(root, "package.json"));
  symlinkSync(resolve("node_modules"), join(root, "node_modules"), "dir");
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text.trimStart());
  }
  // The one registry line (the import it needs and its place in the list).
  const registry = join(root, "harness/targets/registry.ts");
  const before = readFileSync(registry, "utf8");
  const after = before
    .replace(/^(import type \{ TargetPlugin \} from "\.\/plugin\.ts";)$/m, '$1\nimport { lampPlugin } from "./lamp/plugin.ts";')
    .replace(/export const TARGET_PLUGINS = \[(.*)\] as const;/, "export const TARGET_PLUGINS = [$1, lampPlugin] as const;");
  expect(after).not.toBe(before);
  writeFileSync(registry, after);
  return root;
}

interface Seen {
  lamps: number;
  refused: string | null;
  inSchema: unknown;
  listed: string[];
  found: string | null;
  recorded: unknown[];
  metrics: unknown;
  check: unknown;
  badRead: string | null;
  dimRefused: string | null;
  pairRefused: string | null;
  lampCalls: string[];
  gates: unknown[];
  verdict: string;
  wattsRefused: string | null;
  faults: unknown[];
}

describe("a new target is its folder and one registry line", { timeout: 120_000 }, () => {
  it("validates, is in the JSON Schema, is listed, and its event, check and gate metric run in a drill", () => {
    const root = copyWithLamp();
    const run = spawnSync(process.execPath, ["probe.ts"], { cwd: root, encoding: "utf8", timeout: 100_000 });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Seen;

    expect(seen.lamps).toBe(2);
    expect(seen.refused).toMatch(/target\.lamps: .*(>=|at least) ?1/);
    expect(JSON.stringify(seen.inSchema)).toContain('"const":"lamp"');
    expect(seen.listed).toContain("lamp");
    expect(seen.found).toBe("lamp");
    // Recorded by the target, read back through its own shape, measured by its own check.
    expect(seen.recorded).toEqual([{ kind: "lamp", lit: "on", watts: 60 }]);
    expect(seen.metrics).toEqual({ switchedOn: 1, watts: 60 });
    expect(seen.check).toEqual({ valid: true });
    // Its own fault: validated by name, refused where no target hands out its control, drilled.
    expect(seen.dimRefused).toMatch(/schedule\[0\]\.fault\.percent/);
    expect(seen.pairRefused).toMatch(/schedule\[0\]\.fault.*container-pair.*(cannot|dim)/s);
    expect(seen.lampCalls).toEqual(["dim standby 30", "brighten standby"]);
    expect(seen.faults).toEqual([
      { kind: "fault", phase: "inject", fault: "dim", label: "dim standby to 30%" },
      { kind: "fault", phase: "heal", fault: "dim", label: "dim standby to 30%" },
    ]);
    expect(JSON.stringify(seen.inSchema)).toContain('"const":"dim"');
    // Its check's gate metric: in the schema's gate, validated, judged.
    expect(JSON.stringify(seen.inSchema)).toContain('"lamp.switchedOn":{"type":"string"');
    expect(JSON.stringify(seen.inSchema)).toContain("lamp: times a lamp was switched on");
    expect(seen.gates).toEqual([{ metric: "lamp.switchedOn", operator: ">=", threshold: 1, expected: ">= 1", actual: 1, pass: true }]);
    expect(seen.verdict).toBe("pass");
    expect(seen.wattsRefused).toMatch(
      /gate\["lamp\.watts"\]: unknown metric "lamp\.watts".*operator\.multipleRwEndpointsMs, monitor\.unhealthyAfterMs, .*monitor\.unreachableMs, lamp\.switchedOn, or alerts\.<Alert>\./s,
    );
    expect(seen.badRead).toMatch(/bad\.jsonl:1: is not a History event \(a lamp event's "lit" must be one of on, off, got "dim"\)/);
  });
});
