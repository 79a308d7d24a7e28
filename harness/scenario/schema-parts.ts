/**
 * The pieces every part of the scenario schema is built from: durations, the kind-tagged union
 * with its "unknown kind" message, node names, and how a refinement's fix travels with its issue.
 * A module of its own so a target's options schema (in the target's folder) can use them without
 * importing the scenario schema that unites the targets.
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration, POSITIVE_DURATION_PATTERN, type Duration, type DurationText } from "../duration.ts";
import { closest } from "../suggest.ts";

// ---- Durations ------------------------------------------------------------------------------

const DURATION_DESCRIPTION =
  'A duration: "500ms", "3s", "1.5m", or compound like "1m30s" or "1h15m" (units h, m, s, ms, largest first, each once). A ' +
  "bare number is refused, except 0.";

function durationSchema() {
  // Reached only for neither string nor number, which parseDuration refuses with its message.
  const error = (issue: { input?: unknown }) => {
    const parsed = parseDuration(issue.input);
    return parsed.ok ? undefined : parsed.message;
  };
  return z.union([z.string(), z.number()], { error }).superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message, params: { fix: parsed.fix } });
  });
}

/**
 * A duration: text with units, or 0. TypeScript sees the template literal types of DurationText
 * (zod would say `string | number`); what comes out is the value as written.
 */
export const duration = durationSchema().meta({
  id: "Duration",
  description: DURATION_DESCRIPTION,
  anyOf: [{ type: "string", pattern: DURATION_PATTERN.source }, { const: 0 }],
}) as unknown as z.ZodType<Duration, DurationText>;

/**
 * A fault's `for`. 0 is refused by name: the heal would be scheduled at the instant of the inject
 * and run before the inject has finished, so the fault would stay until the drill ends.
 */
export const faultFor = durationSchema()
  .superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed.ok && parsed.ms === 0) {
      ctx.addIssue({
        code: "custom",
        message: `must be longer than 0, got ${JSON.stringify(value)}`,
        params: { fix: 'Omit "for" to keep the fault until the drill ends (or a heal action), or give a positive duration like "5s".' },
      });
    }
  })
  .meta({
    id: "PositiveDuration",
    description: `${DURATION_DESCRIPTION.replace(/ A bare number is refused, except 0\.$/, "")} Longer than 0.`,
    anyOf: [{ type: "string", pattern: POSITIVE_DURATION_PATTERN.source }],
  }) as unknown as z.ZodType<Duration, Exclude<DurationText, 0>>;

/**
 * A union told apart by `kind`, whose "unknown kind" message lists the kinds it holds: written
 * from the options themselves, so adding one cannot leave the message behind.
 */
export function byKind<const Options extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]]>(
  noun: string,
  options: Options,
) {
  const kinds = options.flatMap((option) => [...(option._zod.propValues?.kind ?? [])]).map(String);
  const list = kinds.map((kind) => `"${kind}"`).join(", ");
  return z.discriminatedUnion("kind", options, {
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      // The union sees the whole object; its kind is what was misspelt.
      const given: unknown =
        typeof issue.input === "object" && issue.input !== null ? (issue.input as { kind?: unknown }).kind : issue.input;
      const meant = typeof given === "string" ? closest(given, kinds) : null;
      return `unknown ${noun} kind: ${meant ? `did you mean "${meant}"? Use` : "use"} one of ${list}`;
    },
  });
}

/**
 * The fix a refinement of this schema attached to its issue (`params: { fix }`), or undefined:
 * how validation and a saved run's gate say what to write instead.
 */
export function issueFix(issue: z.core.$ZodIssue | undefined): string | undefined {
  const fix = issue?.code === "custom" ? issue.params?.["fix"] : undefined;
  return typeof fix === "string" ? fix : undefined;
}

export const nodeName = z.string().min(1, { message: 'must name a node of the target, e.g. "primary"' });
