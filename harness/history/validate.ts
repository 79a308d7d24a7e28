/**
 * What a History event must look like, checked where the History is read back (reader.ts), so a
 * hand-edited, merged or foreign `history.jsonl` is refused with the field that is wrong instead of
 * misleading a checker. One shape per event kind, in a mapped type over the kind (zx's log.ts
 * pattern): the compiler demands a shape for every kind and a guard for every field, typed exactly
 * as events.ts declares it, so a field added there cannot go unchecked here.
 *
 * Cheap on purpose: a History has millions of lines, and this runs on each after JSON.parse. A
 * check is a few `typeof`s per field, and the two kinds that fill a History (invoke, complete)
 * first get a quick yes from a hand-unrolled check (QUICK) that the tests hold to its shape; a
 * "no" falls through to the shape, which says what is wrong. (Measured per event against
 * JSON.parse's ~0.7 µs: zod ~0.2 µs, the shape walk ~0.18 µs, the quick checks ~0.04 µs.) Fields a
 * shape does not name are let through: a newer pgdrill may add some, and every reader ignores them.
 *
 * The kinds every target shares are checked by the shapes here; a target's own observation kinds
 * (Kubernetes watches, an HA manager's polls) by the shapes its plugin declares with the guards
 * exported here, which the reader is handed (`ObservationShapes`), so this module names no target.
 */
import type {
  AlertingRuleRecord,
  CoreKind,
  EventOf,
  Observations,
  OpType,
  Outcome,
  Phase,
  ProbeRecord,
  RoleValue,
  SaidEvent,
} from "./events.ts";

/** A type guard that can say what it expects ("a number", "one of ok, fail, info"). */
export interface Guard<T> {
  (value: unknown): value is T;
  readonly expected: string;
  /**
   * Never set: it makes Guard invariant in T, so a field's guard must match its type exactly (no `string` for an enum, no optional guard
   * for a required field).
   */
  readonly exactly?: (value: T) => T;
}

function guard<T>(expected: string, test: (value: unknown) => boolean): Guard<T> {
  return Object.assign(test as (value: unknown) => value is T, { expected });
}

export const string = guard<string>("a string", (value) => typeof value === "string");
export const number = guard<number>("a number", (value) => typeof value === "number");
export const boolean = guard<boolean>("true or false", (value) => typeof value === "boolean");

export function optional<T>(inner: Guard<T>): Guard<T | undefined> {
  return guard(`${inner.expected}, or absent`, (value) => value === undefined || inner(value));
}

export function nullable<T>(inner: Guard<T>): Guard<T | null> {
  return guard(`${inner.expected} or null`, (value) => value === null || inner(value));
}

export function either<A, B>(a: Guard<A>, b: Guard<B>): Guard<A | B> {
  return guard(`${a.expected} or ${b.expected}`, (value) => a(value) || b(value));
}

/** One of a union of string literals, listed as a record so the compiler demands every member. */
export function oneOf<T extends string>(members: Record<T, true>): Guard<T> {
  const allowed = new Set<unknown>(Object.keys(members));
  return guard(`one of ${[...allowed].join(", ")}`, (value) => allowed.has(value));
}

export function arrayOf<T>(item: Guard<T>, items: string): Guard<T[]> {
  return guard(`an array of ${items}`, (value) => {
    if (!Array.isArray(value)) return false;
    for (const element of value) if (!item(element)) return false;
    return true;
  });
}

function pairOf<T>(item: Guard<T>): Guard<[T, T]> {
  return guard(
    `[${item.expected}, ${item.expected}]`,
    (value) => Array.isArray(value) && value.length === 2 && item(value[0]) && item(value[1]),
  );
}

/** The fields of T a shape checks: all but the kind and t, which every event has and which are checked first. */
export type Shape<T> = { [F in Exclude<keyof T, "kind" | "t">]: Guard<T[F]> };

/** A shape, flattened into parallel lists for the hot path. */
interface Compiled {
  keys: string[];
  guards: Array<Guard<unknown>>;
  /** A quick yes for the event (see QUICK); absent for kinds that are few. */
  quick?: (event: Record<string, unknown>) => boolean;
}

function compile<T>(shape: Shape<T>, quick?: (event: Record<string, unknown>) => boolean): Compiled {
  const entries = Object.entries(shape) as Array<[string, Guard<unknown>]>;
  return { keys: entries.map(([key]) => key), guards: entries.map(([, check]) => check), ...(quick ? { quick } : {}) };
}

/** The first field of `record` that does not pass, or null. */
function firstBadField(compiled: Compiled, record: Record<string, unknown>): number {
  const { keys, guards } = compiled;
  for (let index = 0; index < keys.length; index += 1) if (!guards[index]!(record[keys[index]!])) return index;
  return -1;
}

function object<T>(expected: string, shape: Shape<T>): Guard<T> {
  const compiled = compile(shape);
  return guard(expected, (value) => isRecord(value) && firstBadField(compiled, value) === -1);
}

/** A command's `pgdrill-event:` line on a fault event (Shape leaves out `t`, which this one has). */
const saidEvent = guard<SaidEvent>(
  "{ t: number, text: string }",
  (value) => isRecord(value) && typeof value.t === "number" && typeof value.text === "string",
);

const outcome = oneOf<Outcome>({ ok: true, fail: true, info: true });
const opType = oneOf<OpType>({ select1: true, write: true, role: true });
const phase = oneOf<Phase>({
  starting: true,
  "steady-state": true,
  drill: true,
  healing: true,
  "final-read": true,
  teardown: true,
  analysis: true,
});
const roleValue = object<RoleValue>('a role value ({"primary": true or false, "timeline": a number or null, …})', {
  primary: boolean,
  timeline: nullable(number),
  server: optional(string),
  systemId: optional(string),
  writable: optional(boolean),
});
const probeRecord = object<ProbeRecord>(
  'a probe record ({"name": a string, "type": one of select1, write, role, "everyMs", "timeoutMs": numbers, "sloMs": a ' +
    'number or absent, "endpoint": a string or absent, "connection": one of fresh, held, pool or absent})',
  {
    name: string,
    type: opType,
    everyMs: number,
    timeoutMs: number,
    sloMs: optional(number),
    endpoint: optional(string),
    connection: optional(oneOf<"fresh" | "held" | "pool">({ fresh: true, held: true, pool: true })),
    driver: optional(string),
  },
);

const stringRecord = guard<Record<string, string>>(
  "an object of strings",
  (value) => isRecord(value) && Object.values(value).every((item) => typeof item === "string"),
);
const numberRecord = guard<Record<string, number>>(
  "an object of numbers",
  (value) => isRecord(value) && Object.values(value).every((item) => typeof item === "number"),
);
const alertingRule = object<AlertingRuleRecord>("an alerting rule record", {
  alert: string,
  group: string,
  expr: string,
  forMs: number,
  labels: stringRecord,
  metrics: arrayOf(string, "strings"),
  missingMetrics: arrayOf(string, "strings"),
  earliestMs: number,
  latestMs: nullable(number),
});
const expectedAlert = object<{ alert: string; withinMs: number; labels?: Record<string, string> }>("an { alert, withinMs } object", {
  alert: string,
  withinMs: number,
  labels: optional(stringRecord),
});

/** Every kind of event, and what each field of it must be. */
const SHAPES: { [K in CoreKind]: Shape<EventOf<K>> } = {
  "run-start": {
    wallClock: string,
    runId: string,
    scenario: string,
    target: string,
    nodes: arrayOf(string, "strings"),
    primary: string,
    durationMs: number,
    steadyStateMs: number,
    version: string,
    probes: optional(arrayOf(probeRecord, "probe records")),
  },
  phase: { phase },
  invoke: { probe: string, type: opType, worker: number, op: number, node: optional(string), value: optional(number) },
  complete: {
    probe: string,
    type: opType,
    worker: number,
    op: number,
    outcome,
    node: optional(string),
    server: optional(string),
    latencyMs: number,
    value: optional(either(number, roleValue)),
    error: optional(string),
    sqlstate: optional(string),
    timedOut: optional(boolean),
    dialed: optional(string),
    skipped: optional(arrayOf(string, "strings")),
  },
  fault: {
    phase: oneOf({ inject: true, heal: true }),
    id: string,
    fault: string,
    label: string,
    nodes: arrayOf(string, "strings"),
    ok: boolean,
    error: optional(string),
    output: optional(string),
    instant: optional(boolean),
    happenedT: optional(number),
    said: optional(arrayOf(saidEvent, "{ t: number, text: string } objects")),
  },
  action: {
    phase: oneOf({ start: true, end: true }),
    id: string,
    action: string,
    label: string,
    node: optional(string),
    afterMs: optional(number),
    handsOver: optional(boolean),
    ok: optional(boolean),
    error: optional(string),
  },
  endpoint: { endpoint: oneOf({ rw: true, ro: true }), node: string },
  "steady-state": { ok: boolean, availability: nullable(number), required: number, message: string },
  "final-read": {
    probe: string,
    node: string,
    ok: boolean,
    ranges: arrayOf(pairOf(number), "[from, to] pairs of numbers"),
    count: number,
    error: optional(string),
  },
  log: { level: oneOf({ info: true, warn: true, error: true }), message: string },
  mark: { note: string, by: oneOf({ keyboard: true, command: true }) },
  alerting: {
    subject: oneOf({ setup: true, alert: true, sample: true, reachable: true }),
    source: optional(oneOf({ started: true, existing: true })),
    prometheus: optional(string),
    alertmanager: optional(nullable(string)),
    scrapeIntervalMs: optional(nullable(number)),
    evaluationIntervalMs: optional(nullable(number)),
    groupWaitMs: optional(nullable(number)),
    rules: optional(arrayOf(alertingRule, "alerting rule records")),
    expect: optional(arrayOf(expectedAlert, "{ alert, withinMs } objects")),
    mustNotFire: optional(arrayOf(string, "strings")),
    alert: optional(string),
    labels: optional(stringRecord),
    state: optional(oneOf({ pending: true, firing: true, resolved: true })),
    from: optional(oneOf({ prometheus: true, alertmanager: true })),
    activeAt: optional(string),
    exprSeries: optional(number),
    selectorSeries: optional(numberRecord),
    reachable: optional(boolean),
    error: optional(string),
  },
  "run-end": { status: oneOf({ completed: true, aborted: true, errored: true }), error: optional(string) },
};

const optionalString = (value: unknown) => value === undefined || typeof value === "string";

/**
 * The shapes of invoke and complete, unrolled into direct property reads (several times faster
 * than walking the shape). Each may say yes only to what its shape accepts: validate.test.ts
 * mutates every field its shape names and checks that the two agree.
 */
/** The fields an operation's invoke and complete both carry. */
const operationFields = (event: Record<string, unknown>) =>
  typeof event.probe === "string" && opType(event.type) && typeof event.worker === "number" && typeof event.op === "number";

const QUICK: { [K in "invoke" | "complete"]: (event: Record<string, unknown>) => boolean } = {
  invoke: (event) => operationFields(event) && optionalString(event.node) && (event.value === undefined || typeof event.value === "number"),
  complete: (event) =>
    operationFields(event) &&
    outcome(event.outcome) &&
    optionalString(event.node) &&
    optionalString(event.server) &&
    typeof event.latencyMs === "number" &&
    (event.value === undefined || typeof event.value === "number" || roleValue(event.value)) &&
    optionalString(event.error) &&
    optionalString(event.sqlstate) &&
    (event.timedOut === undefined || typeof event.timedOut === "boolean") &&
    optionalString(event.dialed) &&
    (event.skipped === undefined || (Array.isArray(event.skipped) && event.skipped.every((item) => typeof item === "string"))),
};

const COMPILED = new Map<string, Compiled>(
  Object.entries(SHAPES).map(([kind, shape]) => [
    kind,
    compile(shape as Shape<unknown>, (QUICK as Record<string, Compiled["quick"]>)[kind]),
  ]),
);
/** The kinds every target shares. */
export const CORE_KINDS = Object.keys(SHAPES) as CoreKind[];

/**
 * The shapes of the targets' own observation kinds, one per kind declared in `Observations`: the
 * registry merges them from the plugins, and the compiler demands one for every declared kind.
 */
export type ObservationShapes = { readonly [K in keyof Observations]: Shape<Observations[K]> };

/** Core and observation shapes together, compiled once per set of observation shapes. */
const withObservations = new WeakMap<object, Map<string, Compiled>>();
function compiledFor(observations: ObservationShapes): Map<string, Compiled> {
  let compiled = withObservations.get(observations);
  if (!compiled) {
    compiled = new Map(COMPILED);
    for (const [kind, shape] of Object.entries(observations) as Array<[string, Shape<unknown>]>) {
      // A target may not redefine a kind every target shares.
      if (!compiled.has(kind)) compiled.set(kind, compile(shape));
    }
    withObservations.set(observations, compiled);
  }
  return compiled;
}

/**
 * What is wrong with `value` as a History event, in a few words ('no number "t"', 'a complete
 * event\'s "latencyMs" must be a number, got "12"'), or null when it is one. `observations` are
 * the targets' own kinds (the registry's TARGET_OBSERVATIONS).
 */
export function eventProblem(value: unknown, observations: ObservationShapes): string | null {
  return checkEvent(value, compiledFor(observations), true);
}

/**
 * The same for the kinds every target shares only: what a probe process (the cnpg runner, a driver
 * agent) may write, checked where its lines enter (runner/protocol.ts).
 */
export function coreEventProblem(value: unknown): string | null {
  return checkEvent(value, COMPILED, true);
}

/** The same without the quick checks: what the shapes alone say (the tests compare the two). */
export function shapeProblem(value: unknown, observations: ObservationShapes): string | null {
  return checkEvent(value, compiledFor(observations), false);
}

function checkEvent(value: unknown, shapes: Map<string, Compiled>, quick: boolean): string | null {
  if (!isRecord(value)) return "not a JSON object";
  const kind = value.kind;
  if (typeof kind !== "string") return 'no string "kind"';
  if (typeof value.t !== "number") return 'no number "t"';
  const compiled = shapes.get(kind);
  if (!compiled) return `unknown kind ${show(kind)}: a History event is one of ${[...shapes.keys()].join(", ")}`;
  if (quick && compiled.quick?.(value)) return null;
  const bad = firstBadField(compiled, value);
  if (bad === -1) return null;
  const key = compiled.keys[bad]!;
  return (
    `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} event's "${key}" must be ${compiled.guards[bad]!.expected}, got ` + `${show(value[key])}`
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as it was written, cut short: the error quotes it. */
function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
