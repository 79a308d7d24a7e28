/**
 * The guards History shapes are built from (validate.ts): a type guard per JSON type, and the
 * combinators that say what they expect, so a refusal names what a field must be. A leaf module, so
 * the shapes of the kinds that live in modules of their own (backup-shapes.ts) and the targets'
 * plugins build theirs without importing the validation itself.
 */

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

export function guard<T>(expected: string, test: (value: unknown) => boolean): Guard<T> {
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

export function pairOf<T>(item: Guard<T>): Guard<[T, T]> {
  return guard(
    `[${item.expected}, ${item.expected}]`,
    (value) => Array.isArray(value) && value.length === 2 && item(value[0]) && item(value[1]),
  );
}

/** The fields of T a shape checks: all but the kind and t, which every event has and which are checked first. */
export type Shape<T> = { [F in Exclude<keyof T, "kind" | "t">]: Guard<T[F]> };

/** The event of a union whose `subject` may be S (one interface may hold several subjects, as `check` and `verify`). */
type OfSubject<T, S> = T extends { subject: infer U } ? (S extends U ? T : never) : never;
/** A shape per subject, for a kind whose events are a union told apart by `subject` (events.ts's BackupEvent). */
export type SubjectShapes<T extends { subject: string }> = { [S in T["subject"]]: Shape<OfSubject<T, S>> };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
