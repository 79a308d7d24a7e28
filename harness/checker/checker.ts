/**
 * A Checker is a pure function from the History to a validity and the metrics it measured
 * (Jepsen), written as a fold so a History of any length is checked in bounded memory: `start`
 * gets the context (everything but the operations: faults, final reads, run start and end), then
 * `operation` sees each probe operation in invoke order, then `finish` says what it found.
 *
 * Checkers are only run through CheckSession (index.ts) or `runChecker`: one that throws yields
 * `unknown` with the error as the reason and its empty metrics, never a pass, and is marked
 * `crashed` so the verdict can tell a broken checker from one that lacked data.
 */
import { errorMessage } from "../errors.ts";
import type { HistoryContext } from "../history/context.ts";
import type { HistoryEvent } from "../history/events.ts";
import type { Operation } from "../history/operations.ts";
import { splitHistory } from "../history/read-model.ts";
import type { Validity } from "../result.ts";

export interface CheckerOutput<M> {
  valid: Validity;
  metrics: M;
  reason?: string;
}

/** One checker's pass over one History. */
export interface Fold<M> {
  operation(operation: Operation): void;
  finish(): CheckerOutput<M>;
}

// The fields of a checker's metrics that hold a number (or null when not measured): what a gate can compare.
type NumericField<M> = { [F in keyof M]-?: [M[F]] extends [number | null] ? F : never }[keyof M] & string;
/** Gate metrics a checker declares: numeric fields of its metrics, each with its description for the scenario's gate. */
export type GateDescriptions<M> = { readonly [F in NumericField<M>]?: string };

export interface CheckerSpec<M, G extends GateDescriptions<M> = GateDescriptions<M>> {
  /** Metrics when nothing could be measured: all counts zero, all measurements null. */
  empty: () => M;
  start: (context: HistoryContext) => Fold<M>;
  /**
   * A target's checker: the fields of its section a scenario's gate may name ("<section>.<field>"),
   * with their descriptions; the targets' registry adds them to the core's (gate/metrics.ts).
   */
  gate?: G;
}

export interface Checker<M, G extends GateDescriptions<M> = GateDescriptions<M>> extends CheckerSpec<M, G> {
  /** The whole fold over a History held in memory (tests, small histories). */
  check: (events: readonly HistoryEvent[]) => CheckerOutput<M>;
}

// `gate` is kept exact (const), so the registry can name each target's gate metrics in the scenario's types.
export function defineChecker<M, const G extends GateDescriptions<M> = GateDescriptions<M>>(spec: CheckerSpec<M, G>): Checker<M, G> {
  return {
    ...spec,
    check(events) {
      const { context, operations } = splitHistory(events);
      const fold = spec.start(context);
      for (const operation of operations) fold.operation(operation);
      return fold.finish();
    },
  };
}

/** A fold that only reads the context (operator observations, for one). */
export function contextOnly<M>(finish: () => CheckerOutput<M>): Fold<M> {
  return { operation: () => {}, finish };
}

export interface CheckerRun<M> extends CheckerOutput<M> {
  /** The checker threw; its validity is `unknown` and its metrics are `empty()`. */
  crashed: boolean;
}

/**
 * Runs one checker's fold with a guard: the first throw (in start, an operation or finish) stops
 * feeding it and turns its result into a crash.
 */
export class GuardedFold<M> {
  private readonly checker: CheckerSpec<M>;
  private fold: Fold<M> | null = null;
  private failure: unknown = null;

  constructor(checker: CheckerSpec<M>, context: HistoryContext) {
    this.checker = checker;
    try {
      this.fold = checker.start(context);
    } catch (error) {
      this.failure = error;
    }
  }

  operation(operation: Operation): void {
    if (!this.fold) return;
    try {
      this.fold.operation(operation);
    } catch (error) {
      this.failure = error;
      this.fold = null;
    }
  }

  finish(): CheckerRun<M> {
    if (this.fold) {
      try {
        return { ...this.fold.finish(), crashed: false };
      } catch (error) {
        this.failure = error;
      }
    }
    return { valid: "unknown", metrics: this.checker.empty(), reason: `checker crashed: ${errorMessage(this.failure)}`, crashed: true };
  }
}

/** One checker over a History held in memory, guarded. */
export function runChecker<M>(checker: CheckerSpec<M>, events: readonly HistoryEvent[]): CheckerRun<M> {
  const { context, operations } = splitHistory(events);
  const guarded = new GuardedFold(checker, context);
  for (const operation of operations) guarded.operation(operation);
  return guarded.finish();
}

/** ok / all, or null when there were no operations. */
export function ratio(ok: number, total: number): number | null {
  return total > 0 ? ok / total : null;
}

/** What a shared pass yields: `operation` feeds it (a no-op for every reader but the first), `result` reads what it found. */
export interface SharedPass<R> {
  operation(operation: Operation): void;
  result(): R;
}

interface SharedEntry {
  pass: { operation(operation: Operation): void; finish(): unknown };
  fed: boolean;
  failure: { error: unknown } | null;
  result: { value: unknown } | null;
}

const sharedPasses = new WeakMap<HistoryContext, Map<object, SharedEntry>>();

/**
 * One pass over the operations that several checkers read (failover, recovery and the failover's
 * anatomy read one outage; availability and downtime read one set of windows), so each operation
 * is folded once however many sections come from it. The first checker started on a context
 * feeds it; the others only read its result. A pass that threw fails every reader, as a checker
 * that threw does: none reads half a fold.
 */
export function sharedPass<R>(
  context: HistoryContext,
  key: object,
  create: (context: HistoryContext) => { operation(operation: Operation): void; finish(): R },
): SharedPass<R> {
  let byKey = sharedPasses.get(context);
  if (!byKey) sharedPasses.set(context, (byKey = new Map()));
  let entry = byKey.get(key);
  const feeds = !entry;
  if (!entry) byKey.set(key, (entry = { pass: create(context), fed: false, failure: null, result: null }));
  const own = entry;
  return {
    operation: feeds
      ? (operation) => {
          try {
            own.pass.operation(operation);
          } catch (error) {
            own.failure = { error };
            throw error;
          }
        }
      : () => {},
    result(): R {
      if (own.failure) throw own.failure.error;
      own.result ??= { value: own.pass.finish() };
      return own.result.value as R;
    },
  };
}
