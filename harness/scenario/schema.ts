/**
 * A scenario is plain data (Jepsen: a test is a map), so the same schema serves TypeScript,
 * YAML and JSON. Objects are strict: an unknown key is refused by name (xk6-disruptor), because a
 * misspelt option that is silently ignored makes a drill measure something else.
 *
 * Three things are derived from this one schema: the runtime check (validate.ts adds the checks a
 * schema cannot express), the TypeScript input type (`ScenarioInput`), and the JSON Schema editors
 * use (json-schema.ts; `.describe()` texts become its descriptions). Where zod cannot see what a
 * refinement checks, the schema says it twice: a type cast for TypeScript, a `.meta()` for JSON
 * Schema, both next to the refinement that decides at run time, and tests keep them in step.
 */
import { z } from "zod";
import { GATE_EXPRESSION } from "../gate/expression.ts";
import {
  ALERT_GATE_DESCRIPTION,
  ALERT_GATE_METRIC,
  GATE_METRIC_NAMES,
  GATE_METRICS,
  isGateMetric,
  unknownMetricFix,
  type GateInput,
  type GateMetric,
} from "../gate/metrics.ts";
import { TARGET_OPTIONS } from "../targets/registry.ts";
import { byKind, duration } from "./schema-parts.ts";
import { probe } from "./probes.ts";
import { abortIf } from "./abort.ts";
import { step } from "./steps.ts";
import { monitoring } from "./monitoring.ts";

export { duration, faultFor, issueFix } from "./schema-parts.ts";
export * from "./probes.ts";
export * from "./steps.ts";
export { abortIf, type AbortIf } from "./abort.ts";
export * from "./monitoring.ts";
export { containerPairTarget, type ContainerPairTarget } from "../targets/container-pair/plugin.ts";
export { cnpgTarget, CNPG_DEFAULT_VERSION, type CnpgTarget } from "../targets/cnpg/plugin.ts";
export { endpointTarget, type EndpointTarget } from "../targets/endpoint/plugin.ts";
export { patroniTarget, type PatroniTarget } from "../targets/patroni/plugin.ts";
export { pgAutoFailoverTarget, type PgAutoFailoverTarget } from "../targets/pg-auto-failover/plugin.ts";

// ---- Target ---------------------------------------------------------------------------------

// Each target's options live in its own folder; the union is the registry's.
export const target = byKind("target", TARGET_OPTIONS).describe(
  "What is drilled: `kind` names the target, and each kind's options say what it is.",
);

// ---- Scenario -------------------------------------------------------------------------------

const gateExpression = z.string().regex(GATE_EXPRESSION, {
  message: 'must be a comparison like ">= 0.99", "< 30000" or "== 0"',
});

// A record, not an object, so the gates keep the order they were written in (reports list them
// so); JSON Schema gets each metric as a property with its meaning, and the alerts' family as a pattern.
export const gate = z
  .record(z.string(), gateExpression)
  .superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (!isGateMetric(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `unknown metric "${key}"`, params: { fix: unknownMetricFix(key) } });
      }
    }
  })
  .meta({
    propertyNames: { anyOf: [{ enum: GATE_METRIC_NAMES }, { pattern: ALERT_GATE_METRIC.source }] },
    properties: Object.fromEntries(
      GATE_METRIC_NAMES.map((metric) => [metric, { type: "string", pattern: GATE_EXPRESSION.source, description: GATE_METRICS[metric] }]),
    ),
    patternProperties: {
      [ALERT_GATE_METRIC.source]: { type: "string", pattern: GATE_EXPRESSION.source, description: ALERT_GATE_DESCRIPTION },
    },
    additionalProperties: false,
  })
  .describe(
    'Thresholds that decide the verdict: metric → comparison, e.g. { "failover.latencyMs": "< 30000" }. A metric that could ' +
      "not be measured never passes.",
  ) as unknown as z.ZodType<{ [M in GateMetric]?: string }, GateInput>;

export const scenario = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, {
      message: "must be lower-case letters, digits, '.', '_' or '-' (it names the report folder)",
    })
    .describe("The scenario's name; it names the report folder."),
  description: z.string().optional().describe("What the drill shows, for `pgdrill list` and the reports."),
  target,
  probes: z
    .array(probe)
    .min(1, { message: "needs at least one probe, e.g. select1" })
    .describe("Client operations run through the whole drill."),
  steadyState: z
    .strictObject({
      window: duration.default("2s").describe("How long the probes run before the first fault."),
      minAvailability: z
        .number()
        .min(0)
        .max(1)
        .default(1)
        .describe(
          "The share of the window's time each probe (role probes excepted) must have been served (0..1): " +
            "availability.ratio's share of time, 1 − its downtime / its observed span, over the window's operations; else the " +
            "drill aborts as errored.",
        ),
    })
    .default({ window: "2s", minAvailability: 1 })
    .describe("Checked before the first fault; a bad baseline aborts the drill as errored."),
  schedule: z.array(step).default([]).describe("Faults and actions at times from the start of the drill."),
  duration: duration.describe("Total length of the probing, steady-state window included."),
  gate: gate.default({}),
  abortIf,
  monitoring: monitoring
    .optional()
    .describe(
      "Did the alerts fire? pgdrill starts Prometheus and Alertmanager beside a container target, or reads yours, records every " +
        "alert's pending, firing and resolved in the History, and checks the alerts expected to fire and those that must not.",
    ),
});

export type ScenarioInput = z.input<typeof scenario>;
export type Scenario = z.output<typeof scenario>;
export type Target = z.output<typeof target>;
