/**
 * What a History event must look like, checked where the History is read back (reader.ts), so a
 * hand-edited, merged or foreign `history.jsonl` is refused with the field that is wrong instead of
 * misleading a checker. One shape per event kind, in a mapped type over the kind (zx's log.ts
 * pattern): the compiler demands a shape for every kind and a guard for every field, typed exactly
 * as events.ts declares it, so a field added there cannot go unchecked here. A kind whose events
 * are a union told apart by `subject` (`backup`, backup-shapes.ts) has a shape per subject.
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
import { BACKUP_SHAPES } from "./backup-shapes.ts";
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

import {
  arrayOf,
  boolean,
  either,
  guard,
  isRecord,
  nullable,
  number,
  oneOf,
  optional,
  pairOf,
  string,
  type Guard,
  type Shape,
  type SubjectShapes,
} from "./guards.ts";

// The guards are guards.ts's; re-exported, as the targets' plugins build their shapes from them here.
export {
  arrayOf,
  boolean,
  either,
  nullable,
  number,
  oneOf,
  optional,
  string,
  type Guard,
  type Shape,
  type SubjectShapes,
} from "./guards.ts";

/** A shape, flattened into parallel lists for the hot path. */
interface Compiled {
  keys: string[];
  guards: Array<Guard<unknown>>;
  /** A quick yes for the event (see QUICK); absent for kinds that are few. */
  quick?: (event: Record<string, unknown>) => boolean;
  /** A kind told apart by `subject`: the shape of each, checked after `keys` (which hold the subject) passed. */
  subjects?: Map<string, Compiled>;
}

function compile<T>(shape: Shape<T>, quick?: (event: Record<string, unknown>) => boolean): Compiled {
  const entries = Object.entries(shape) as Array<[string, Guard<unknown>]>;
  return { keys: entries.map(([key]) => key), guards: entries.map(([, check]) => check), ...(quick ? { quick } : {}) };
}

function compileBySubject<T extends { subject: string }>(shapes: SubjectShapes<T>): Compiled {
  const subjects = new Map(Object.entries(shapes).map(([subject, shape]) => [subject, compile(shape as Shape<unknown>)]));
  const subject = oneOf(Object.fromEntries([...subjects.keys()].map((name) => [name, true])) as Record<string, true>);
  return { ...compile<{ subject: string }>({ subject }), subjects };
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

/** Kinds whose events are a union of interfaces told apart by `subject`: a shape per subject (SUBJECT_SHAPES). */
type BySubjectKind = "backup";

/** Every kind of event, and what each field of it must be. */
const SHAPES: { [K in Exclude<CoreKind, BySubjectKind>]: Shape<EventOf<K>> } = {
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

/** The kinds told apart by `subject`, each subject with its own fields. */
const SUBJECT_SHAPES: { [K in BySubjectKind]: SubjectShapes<EventOf<K>> } = { backup: BACKUP_SHAPES };

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

const COMPILED = new Map<string, Compiled>([
  ...Object.entries(SHAPES).map(([kind, shape]): [string, Compiled] => [
    kind,
    compile(shape as Shape<unknown>, (QUICK as Record<string, Compiled["quick"]>)[kind]),
  ]),
  ...Object.entries(SUBJECT_SHAPES).map(([kind, shapes]): [string, Compiled] => [kind, compileBySubject(shapes)]),
]);
/** The kinds every target shares. */
export const CORE_KINDS = [...COMPILED.keys()] as CoreKind[];

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
  if (bad !== -1) return fieldProblem(kind, compiled, bad, value);
  // The subject passed its guard, so it names one of the shapes.
  const bySubject = compiled.subjects?.get(value.subject as string);
  if (!bySubject) return null;
  const badOfSubject = firstBadField(bySubject, value);
  return badOfSubject === -1 ? null : fieldProblem(`${kind} ${String(value.subject)}`, bySubject, badOfSubject, value);
}

/** 'a complete event\'s "latencyMs" must be a number, got "12"'; `what` is the kind, and its subject when shapes go by it. */
function fieldProblem(what: string, compiled: Compiled, bad: number, value: Record<string, unknown>): string {
  const key = compiled.keys[bad]!;
  const article = /^[aeiou]/.test(what) ? "an" : "a";
  return `${article} ${what} event's "${key}" must be ${compiled.guards[bad]!.expected}, got ${show(value[key])}`;
}

/** A value as it was written, cut short: the error quotes it. */
function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
