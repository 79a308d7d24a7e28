/**
 * What option names the scenario schema knows, read from the schema itself so "did you mean" can
 * never drift from it: every key anywhere (knownKeys), and the keys of the one object a value at a
 * path is checked against (keysAt), which is what a suggestion should come from ("probe" at the
 * top is "probes", not a key of some probe).
 */
import type { z } from "zod";
import { editDistance } from "../suggest.ts";

type Schema = z.core.$ZodType;
type Path = ReadonlyArray<PropertyKey>;

/** The def fields this module reads; zod's own def types are a union too wide to switch on. */
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  getter?: () => Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  items?: Schema[];
  rest?: Schema | null;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
}

const def = (schema: Schema): Def => schema._zod.def as unknown as Def;

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "readonly", "catch"]);

/** The schema under optional/default/pipe/lazy wrappers. */
function unwrap(schema: Schema): Schema {
  for (let current = schema; ;) {
    const d = def(current);
    if (WRAPPERS.has(d.type) && d.innerType) current = d.innerType;
    else if (d.type === "pipe" && d.in) current = d.in;
    else if (d.type === "lazy" && d.getter) current = d.getter();
    else return current;
  }
}

/** Every object key the schema has anywhere, in the order met. */
export function knownKeys(root: Schema): string[] {
  const keys = new Set<string>();
  const seen = new Set<Schema>();
  const visit = (schema: Schema) => {
    const inner = unwrap(schema);
    if (seen.has(inner)) return;
    seen.add(inner);
    const d = def(inner);
    if (d.type === "object" && d.shape) {
      for (const [key, child] of Object.entries(d.shape)) {
        keys.add(key);
        visit(child);
      }
    }
    for (const child of [d.element, d.valueType, d.rest, ...(d.items ?? []), ...(d.options ?? [])]) if (child) visit(child);
  };
  visit(root);
  return [...keys];
}

/**
 * The keys of the object schema that the value at `path` of `input` is checked against, or null
 * when the path leads nowhere the schema describes as an object. Unions are resolved the way the
 * user meant them: by the discriminator, else by the option whose keys fit the value best.
 */
export function keysAt(root: Schema, input: unknown, path: Path): string[] | null {
  const at = schemaAt(root, input, path);
  return at ? objectKeys(resolve(at.schema, at.value)) : null;
}

/** The options of the plain union (no discriminator) at `path`, or null if there is none there. */
export function unionOptionsAt(root: Schema, input: unknown, path: Path): Schema[] | null {
  const at = schemaAt(root, input, path);
  if (!at) return null;
  const d = def(unwrap(at.schema));
  return d.type === "union" && d.discriminator === undefined && d.options ? [...d.options] : null;
}

/** Walks `path` through the schema and the input side by side: the schema there and the value it checks. */
function schemaAt(root: Schema, input: unknown, path: Path): { schema: Schema; value: unknown } | null {
  let schema: Schema | undefined = root;
  let value = input;
  for (const key of path) {
    schema = childSchema(resolve(schema, value), key);
    if (!schema) return null;
    value = isRecord(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return { schema, value };
}

/** The option of a plain union (no discriminator) whose keys fit `value` best, or -1 on a tie. */
export function bestOption(options: readonly Schema[], value: unknown): number {
  if (!isRecord(value)) return -1;
  const scores = options.map((option) => {
    const keys = objectKeys(unwrap(option)) ?? [];
    // A key written exactly counts double a misspelt one (within two edits of a known key).
    return Object.keys(value).reduce(
      (score, key) => score + (keys.includes(key) ? 2 : keys.some((known) => editDistance(key, known) <= 2) ? 1 : 0),
      0,
    );
  });
  const best = Math.max(...scores);
  return scores.filter((score) => score === best).length === 1 ? scores.indexOf(best) : -1;
}

function resolve(schema: Schema, value: unknown): Schema {
  const inner = unwrap(schema);
  const d = def(inner);
  if (d.type !== "union" || !d.options) return inner;
  if (d.discriminator !== undefined) {
    const tag = isRecord(value) ? value[d.discriminator] : undefined;
    const match = d.options.find((option) => {
      const literal = def(unwrap(option)).shape?.[d.discriminator!];
      return literal !== undefined && (def(literal).values ?? []).includes(tag);
    });
    return match ? resolve(match, value) : inner;
  }
  const index = bestOption(d.options, value);
  return index >= 0 ? resolve(d.options[index]!, value) : inner;
}

function childSchema(schema: Schema, key: PropertyKey): Schema | undefined {
  const d = def(schema);
  switch (d.type) {
    case "object":
      return typeof key === "string" ? d.shape?.[key] : undefined;
    case "array":
      return d.element;
    case "record":
      return d.valueType;
    case "tuple":
      return typeof key === "number" ? (d.items?.[key] ?? d.rest ?? undefined) : undefined;
    default:
      return undefined;
  }
}

function objectKeys(schema: Schema): string[] | null {
  const d = def(schema);
  return d.type === "object" && d.shape ? Object.keys(d.shape) : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
