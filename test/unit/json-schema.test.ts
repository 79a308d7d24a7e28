/**
 * The JSON Schema editors use is generated from the zod schema: the committed file must be the
 * generated one, every shipped scenario must pass it, and what the runtime refuses for its shape
 * it refuses too. Checked with a real JSON Schema validator (Ajv, draft 2020-12).
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { DURATION_PATTERN, parseDuration, POSITIVE_DURATION_PATTERN } from "../../harness/duration.ts";
import { GATE_METRIC_NAMES, GATE_METRICS } from "../../harness/gate/metrics.ts";
import { scenarioJsonSchema, scenarioJsonSchemaText } from "../../harness/scenario/json-schema.ts";
import { listScenarios } from "../../harness/scenario/load.ts";
import { main } from "../../harness/cli/main.ts";

const SCHEMA_FILE = new URL("../../schema/scenario.schema.json", import.meta.url);
const schema = scenarioJsonSchema();
// Strict about the schema itself, except strictRequired: `required` inside oneOf (isolate or between) names properties declared beside it,
// and union types: a driverSettings value is `"type": ["string", "number", "boolean"]`, plain JSON Schema.
const ajv = new Ajv2020({ allErrors: true, strictSchema: true, strictTypes: true, strictTuples: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

const base = { name: "x", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "10s" };
const errorsOf = (data: unknown) => (validate(data) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`));

describe("schema/scenario.schema.json", () => {
  it("is what `pgdrill schema` prints, byte for byte (its examples' user:password@host is not masked as a secret)", async () => {
    let printed = "";
    const io = { out: (text: string) => void (printed += text), err: () => undefined, color: false, live: process.stdout };
    expect(await main(["schema"], io)).toBe(0);
    expect(printed).toBe(readFileSync(SCHEMA_FILE, "utf8"));
  });

  it("is the schema generated from the zod schema", () => {
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    expect(committed === scenarioJsonSchemaText(), "schema/scenario.schema.json is stale: run `bash fixtures/with-node.sh node fixtures/write-schema.ts` and commit it").toBe(true);
  });

  it("names its draft and describes itself, with no $id (pgdrill owns no domain to host it at)", () => {
    expect(schema).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema", title: "pgdrill scenario", type: "object", additionalProperties: false });
    expect(schema).not.toHaveProperty("$id");
    expect(schema["description"]).toMatch(/drill/);
  });

  it("carries descriptions, defaults and enums for editors, and each gate metric with its meaning", () => {
    const properties = schema["properties"] as Record<string, Record<string, unknown>>;
    expect(properties["duration"]).toMatchObject({ $ref: "#/$defs/Duration", description: expect.stringMatching(/steady-state window included/) });
    expect(properties["steadyState"]).toMatchObject({ default: { window: "2s", minAvailability: 1 } });
    const gate = properties["gate"] as { propertyNames: { anyOf: [{ enum: string[] }, unknown] }; properties: Record<string, { description: string }>; additionalProperties: unknown };
    expect(gate.propertyNames.anyOf[0].enum).toEqual(GATE_METRIC_NAMES);
    expect(gate.additionalProperties).toBe(false);
    for (const metric of GATE_METRIC_NAMES) expect(gate.properties[metric]?.description).toBe(GATE_METRICS[metric]);
    const text = JSON.stringify(schema);
    expect(text).toContain('"enum":["async","sync"]');
    expect(text).toContain('"default":"100ms"');
  });

  it("accepts every shipped scenario, YAML as written and TypeScript as its default export", async () => {
    const listings = await listScenarios();
    expect(listings.length).toBeGreaterThan(5);
    for (const listing of listings) {
      const data = [".yaml", ".yml"].includes(extname(listing.file))
        ? YAML.parse(await readFile(listing.file, "utf8"))
        : ((await import(pathToFileURL(listing.file).href)) as { default: unknown }).default;
      expect(errorsOf(data), listing.name).toEqual([]);
    }
  });

  it("refuses what the runtime refuses for its shape: an unknown top-level key, a misspelt metric, a bare-number duration, a `for` of 0", () => {
    expect(errorsOf(base)).toEqual([]);
    const { probes, ...withoutProbes } = base;
    expect(errorsOf({ ...withoutProbes, probe: probes })).toEqual(expect.arrayContaining([" must have required property 'probes'", " must NOT have additional properties"]));
    expect(errorsOf({ ...base, gate: { "failover.latency": "< 3000" } })).toContain("/gate must be equal to one of the allowed values");
    expect(errorsOf({ ...base, duration: 8000 })).not.toEqual([]);
    expect(errorsOf({ ...base, probes: [{ kind: "select1", every: "100 msec" }] })).not.toEqual([]);
    expect(errorsOf({ ...base, gate: { "failover.latencyMs": "about 3s" } })).not.toEqual([]);
    const pause = { kind: "pause", node: "primary" };
    expect(errorsOf({ ...base, schedule: [{ at: "3s", for: "0s", fault: pause }] })).not.toEqual([]);
    expect(errorsOf({ ...base, schedule: [{ at: "3s", for: 0, fault: pause }] })).not.toEqual([]);
    expect(errorsOf({ ...base, schedule: [{ at: "3s", for: "1m30s", fault: pause }, { at: 0, action: { kind: "heal" } }] })).toEqual([]);
    expect(errorsOf({ ...base, schedule: [{ at: "3s", fault: { kind: "partition", isolate: "primary", between: ["primary", "standby"] } }] })).not.toEqual([]);
  });
});

describe("the duration pattern in the JSON Schema", () => {
  // Strings from the alphabet durations are made of, so that most are near misses.
  const text = fc.string({ unit: fc.constantFrom("0", "1", "5", "9", ".", "h", "m", "s", " ", "-"), maxLength: 10 });
  // And strings made of duration parts, in any order, some with decimals: mostly valid, some not.
  const part = fc.tuple(fc.nat(120), fc.option(fc.nat(99), { nil: undefined }), fc.constantFrom("h", "m", "s", "ms"));
  const parts = fc.array(part, { minLength: 1, maxLength: 4 }).map((list) => list.map(([whole, decimal, unit]) => `${whole}${decimal === undefined ? "" : `.${decimal}`}${unit}`).join(""));

  it("accepts exactly the strings parseDuration accepts", () => {
    fc.assert(
      fc.property(fc.oneof(text, parts), (value) => {
        expect(DURATION_PATTERN.test(value), value).toBe(parseDuration(value).ok);
        const parsed = parseDuration(value);
        expect(POSITIVE_DURATION_PATTERN.test(value), value).toBe(parsed.ok && parsed.ms > 0);
      }),
      { numRuns: 5000 },
    );
  });

  it("is the pattern the schema carries, for durations and for a fault's `for`", () => {
    const defs = schema["$defs"] as Record<string, { anyOf: Array<{ pattern?: string }> }>;
    expect(defs["Duration"]?.anyOf).toEqual([{ type: "string", pattern: DURATION_PATTERN.source }, { const: 0 }]);
    expect(defs["PositiveDuration"]?.anyOf).toEqual([{ type: "string", pattern: POSITIVE_DURATION_PATTERN.source }]);
  });
});
