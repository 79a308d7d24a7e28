/**
 * An action as one module, as a fault is (fault/define.ts): what the operator, or pgdrill standing
 * in for one, does at a point of the schedule. Its options schema, the capability it needs, the
 * field naming the node it aims at, its checks, and its run. Pure: a module loads no runtime; the
 * runner hands it the control and the drill's means through `ActionUse`. Adding an action is its
 * module plus one line in action/registry.ts (or in its target plugin's `actions`).
 */
import type { z } from "zod";
import type { Capability } from "../targets/controls.ts";
import type { ControlFor, NodeField } from "../fault/define.ts";

/** An action's options: a strict object whose `kind` literal names it in the scenario's union. */
export type ActionSchema = z.ZodObject<{ kind: z.ZodLiteral<string> } & z.core.$ZodLooseShape, z.core.$strict>;

/** What a run works with: the one control its action requires (null: none), and the drill's means. */
export interface ActionUse<Ctl> {
  control: Ctl;
  /** The node the action aims at, resolved when it started (its `node` field's value, or what a role meant then). */
  node: string | undefined;
  /** Bounds one call by the runner's step limit: a stuck call must not stall the drill. */
  bounded<T>(work: Promise<T>): Promise<T>;
  /** Waits on the drill's clock; resolves false when the drill was aborted meanwhile. */
  sleep(ms: number): Promise<boolean>;
  /** Records that an endpoint now points at `node`. */
  repointed(endpoint: "rw", node: string): void;
  /** Heals every active fault through its own heal, each recorded. */
  healFaults(): Promise<void>;
}

/** What validation tells an action's check (once its node is known to the target), and what the check may update. */
export interface ActionCheck {
  /** The primary before this step; null when an earlier entry makes it unknown. Set it if the action changes it. */
  rw: string | null;
}

export type ActionReport = (path: ReadonlyArray<string | number>, problem: string, fix: string) => void;

export interface ActionDefinition<S extends ActionSchema, R extends Capability | null> {
  schema: S;
  /** How the History names it, before its node is resolved. */
  label(spec: z.output<S>): string;
  /** What the target must be able to do; null: nothing of the target's. */
  requires: R;
  /** The field naming the node it aims at, if any: validation checks the target has it (or the role). */
  node?: NodeField<z.output<S>>;
  /** The node's name is resolved when the step runs ("replica" becomes an instance), and the label says which. */
  resolves?: boolean;
  /** A detection delay before it acts, recorded with its start. */
  afterMs?(spec: z.output<S>): number;
  /** It heals every active fault: feasibility releases what they hold. */
  healsAll?: boolean;
  /**
   * It hands the primary over through the HA system (a switchover, a manual failover): it starts an outage as a fault does,
   * so its start is recorded as one (the History's `handsOver`) and the failover and its anatomy are measured from it.
   */
  handsOver?: boolean;
  /** On a target that restarts nothing, the node it aims at must be up: how messages name what it does. */
  needsNodeUp?: { verb: string };
  check?(spec: z.output<S>, context: ActionCheck, report: ActionReport): void;
  /** Resolves with a note for the log ("rw → standby"), if any; rejects when it failed. */
  run(spec: z.output<S>, use: ActionUse<ControlFor<R>>): Promise<string | void>;
}

export interface Action<S extends ActionSchema = ActionSchema, R extends Capability | null = Capability | null> extends ActionDefinition<
  S,
  R
> {
  readonly kind: z.output<S>["kind"];
}

export interface AnyActionSpec {
  kind: string;
}

/** Any action, as the registry, the runner and validation hold it (methods: checked where defined). */
export interface AnyAction {
  readonly kind: string;
  readonly schema: ActionSchema;
  label(spec: AnyActionSpec): string;
  readonly requires: Capability | null;
  readonly node?: string | undefined;
  readonly resolves?: boolean | undefined;
  afterMs?(spec: AnyActionSpec): number;
  readonly healsAll?: boolean | undefined;
  readonly handsOver?: boolean | undefined;
  readonly needsNodeUp?: { verb: string } | undefined;
  check?(spec: AnyActionSpec, context: ActionCheck, report: ActionReport): void;
  run(spec: AnyActionSpec, use: ActionUse<unknown>): Promise<string | void>;
}

/** Typed identity plus its kind (the schema's literal). */
export function defineAction<S extends ActionSchema, const R extends Capability | null>(definition: ActionDefinition<S, R>): Action<S, R> {
  return { ...definition, kind: definition.schema.shape.kind.value as z.output<S>["kind"] };
}

/** The node `spec` aims at through its action's node field, if any. */
export function actionNode(action: AnyAction, spec: AnyActionSpec): string | undefined {
  if (action.node === undefined) return undefined;
  const value = (spec as unknown as Record<string, unknown>)[action.node];
  return typeof value === "string" ? value : undefined;
}
