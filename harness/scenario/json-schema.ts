/**
 * The scenario format as JSON Schema, for editors (YAML files name it in a
 * `# yaml-language-server: $schema=...` line) and for other tools. Generated from the zod schema,
 * the same one that validates at run time, so the two cannot drift; the runtime check stays the
 * source of truth and has the friendlier messages. `fixtures/write-schema.ts` writes it to
 * schema/scenario.schema.json, and a test fails when that file is stale.
 */
import { z } from "zod";
import { scenario } from "./schema.ts";

export const SCENARIO_SCHEMA_TITLE = "pgdrill scenario";

/** The JSON Schema (draft 2020-12) of what a scenario file may hold, as a plain object. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(scenario, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  // No $id: pgdrill owns no domain to host it at; files refer to it by path.
  return {
    $schema,
    title: SCENARIO_SCHEMA_TITLE,
    description:
      "A pgdrill chaos/failover drill: the target, the probes, the schedule of faults and actions, the duration, and the " +
      "gates that decide the verdict. Checked again, with more checks (nodes that exist, times inside the drill), when " +
      "pgdrill loads it.",
    ...generated,
  };
}

/** The schema as the committed file holds it: two-space JSON and a final newline. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
