/**
 * A fault as one module, as Jepsen's nemesis packages bundle one: its options schema, label and
 * chart colour, the capability it needs of the target, the fields that name nodes, what it holds
 * on a node (for feasibility), inject, and a heal exactly when it heals. Pure: a fault module loads
 * no runtime (a shell comes through `FaultUse`), so the reports read labels and colours from the
 * same modules the runner drives. Adding a fault is its module plus one line in fault/registry.ts
 * (or in its target plugin's `faults`).
 */
import type { z } from "zod";
import type { Capability, Controls } from "../targets/controls.ts";

/** A fault's options: a strict object whose `kind` literal names it in the scenario's union. */
export type FaultSchema = z.ZodObject<{ kind: z.ZodLiteral<string> } & z.core.$ZodLooseShape, z.core.$strict>;

/** Which step of which run is injecting or healing: user commands get it in their environment. */
export interface FaultStep {
  runId: string;
  /** The fault's id in the History, e.g. "f1". */
  id: string;
}

export interface ShellOptions {
  /** The command is killed (SIGKILL) past this. */
  timeoutMs: number;
  /** Extra environment, e.g. PGDRILL_RUN_ID, so one script can serve several drills. */
  env: Record<string, string>;
}

/** What an inject or heal works with: the one control its fault requires (null: none), and the drill's means. */
export interface FaultUse<Ctl> {
  control: Ctl;
  step: FaultStep;
  redact(text: string): string;
  /** Runs `command` with bash here; resolves with its output (trimmed, secrets masked), rejects when it fails or times out. */
  shell(command: string, options: ShellOptions): Promise<string>;
}

/** The control a requirement names; a fault that requires nothing gets null. */
export type ControlFor<R extends Capability | null> = R extends Capability ? Controls[R] : null;

/** Fields of a spec whose value names a node, or several (a tuple). */
export type NodeField<S> = {
  [K in keyof S]-?: K extends "kind" ? never : NonNullable<S[K]> extends string | readonly string[] ? K : never;
}[keyof S] &
  string;

/**
 * What a fault holds on each node it names until healed, as the schedule's feasibility plays it:
 * a cut, a fence or a shaping (one at a time per node: healing one heals all), a pause, or down
 * (the last two only on targets that restart nothing).
 */
export type Hold = { kind: "cut" } | { kind: "fence" } | { kind: "shaping" } | { kind: "pause" } | { kind: "down"; how: string };

export interface Feasibility {
  holds?: Hold;
  /** How messages name what it does: "cannot cut off …"; default its kind. */
  verb?: string;
  /** It still reaches a frozen node (Docker kills or stops a paused container). */
  reachesPaused?: boolean;
}

/** How a fault's own check reports a problem, at a path relative to its schedule entry (["for"]). */
export type StepReport = (path: ReadonlyArray<string | number>, problem: string, fix: string) => void;

export interface FaultDefinition<S extends FaultSchema, R extends Capability | null> {
  schema: S;
  /** `target` is the target kind: the same fault is done differently on each (SIGKILL vs pod delete). */
  label(spec: z.output<S>, target?: string): string;
  /** For charts and reports. */
  color: string;
  /** What the target must be able to do; null: nothing of the target's (a command). Validation refuses the rest. */
  requires: R;
  /** The fields naming nodes, in order: resolved when the step runs ("primary"), checked against the target, recorded. */
  nodes: ReadonlyArray<NodeField<z.output<S>>>;
  feasibility?: Feasibility;
  /** Problems with the step only the fault knows of; `step.for`: the entry heals it after a while. */
  check?(spec: z.output<S>, step: { for: boolean }, report: StepReport): void;
  /** Resolves with output worth keeping in the History (a command's, how a netem was applied), if any. */
  inject(spec: z.output<S>, use: FaultUse<ControlFor<R>>): Promise<void | string>;
  /** Absent: nothing to undo (a killed node stays down until something restarts it); drawn as an instant. */
  heal?(spec: z.output<S>, use: FaultUse<ControlFor<R>>): Promise<void | string>;
  /**
   * Whether this spec leaves something to heal (default: whenever the fault has a heal). False makes
   * it a one-shot: no heal runs or is recorded, and the reports draw an instant (a command with no `heal`).
   */
  lasting?(spec: z.output<S>): boolean;
  /** The longest one step may take; default the runner's own limit. */
  timeoutMs?(spec: z.output<S>): number;
}

export interface Fault<S extends FaultSchema = FaultSchema, R extends Capability | null = Capability | null> extends FaultDefinition<S, R> {
  readonly kind: z.output<S>["kind"];
  /** Whether it has a heal: the charts draw it as an interval, not an instant. */
  readonly heals: boolean;
}

/** A spec of some fault, as the runner and checks hold it before looking its fault up. */
export interface AnySpec {
  kind: string;
}

/** Any fault, as the registry, the runner, validation and the reports hold it (methods: checked where defined). */
export interface AnyFault {
  readonly kind: string;
  readonly schema: FaultSchema;
  label(spec: AnySpec, target?: string): string;
  readonly color: string;
  readonly requires: Capability | null;
  readonly heals: boolean;
  readonly nodes: readonly string[];
  readonly feasibility?: Feasibility | undefined;
  check?(spec: AnySpec, step: { for: boolean }, report: StepReport): void;
  inject(spec: AnySpec, use: FaultUse<unknown>): Promise<void | string>;
  heal?(spec: AnySpec, use: FaultUse<unknown>): Promise<void | string>;
  lasting?(spec: AnySpec): boolean;
  timeoutMs?(spec: AnySpec): number;
}

/** Whether a spec leaves something to heal: its fault has a heal, and this spec uses it. */
export function lasts(fault: AnyFault, spec: AnySpec): boolean {
  return fault.heal !== undefined && (fault.lasting?.(spec) ?? true);
}

/** Typed identity plus what follows from the definition: its kind (the schema's literal) and whether it heals. */
export function defineFault<S extends FaultSchema, const R extends Capability | null>(definition: FaultDefinition<S, R>): Fault<S, R> {
  return { ...definition, kind: definition.schema.shape.kind.value as z.output<S>["kind"], heals: definition.heal !== undefined };
}

/** A node a spec names: the field (and index, in a tuple) that names it. */
export interface Aim {
  field: string;
  path: Array<string | number>;
  node: string;
}

/** The nodes `spec` names through its fault's node fields, in field order. */
export function aimsOf(fault: AnyFault, spec: AnySpec): Aim[] {
  const values = spec as unknown as Record<string, unknown>;
  return fault.nodes.flatMap((field): Aim[] => {
    const value = values[field];
    if (typeof value === "string") return [{ field, path: [field], node: value }];
    if (!Array.isArray(value)) return [];
    return value.flatMap((node, index) => (typeof node === "string" ? [{ field, path: [field, index], node }] : []));
  });
}

export function nodesOf(fault: AnyFault, spec: AnySpec): string[] {
  return aimsOf(fault, spec).map((aim) => aim.node);
}

/** The same spec with each named node replaced by `resolve`'s answer (on cnpg, "primary" becomes an instance). */
export async function resolveNodes<S extends AnySpec>(fault: AnyFault, spec: S, resolve: (node: string) => Promise<string>): Promise<S> {
  const values = spec as unknown as Record<string, unknown>;
  const resolved: Record<string, unknown> = { ...values };
  for (const field of fault.nodes) {
    const value = values[field];
    if (typeof value === "string") resolved[field] = await resolve(value);
    else if (Array.isArray(value)) {
      const nodes: unknown[] = [];
      for (const node of value) nodes.push(typeof node === "string" ? await resolve(node) : node);
      resolved[field] = nodes;
    }
  }
  return resolved as unknown as S;
}
