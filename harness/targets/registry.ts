/**
 * The registry of targets: one line per target, each its folder's plugin object. The scenario
 * schema's target union, the nodes a step may aim at, what each target can do, the feasibility of
 * a schedule and the claims beside a report's failover are read from here, and so are the
 * targets' own History event kinds (TARGET_OBSERVATIONS, handed to the History reader), checks
 * (TARGET_CHECKS, run beside the core's) and the gate metrics those checks declare
 * (TARGET_GATE_METRICS, which gate/metrics.ts adds to the core's). Pure data: the targets'
 * runtimes are mapped by kind in index.ts, where the compiler demands one for every kind here.
 */
import type { z } from "zod";
import { CORE_KINDS, type ObservationShapes } from "../history/validate.ts";
import type { CoreMetrics } from "../result.ts";
import { cnpgPlugin } from "./cnpg/plugin.ts";
import { containerPairPlugin } from "./container-pair/plugin.ts";
import { endpointPlugin } from "./endpoint/plugin.ts";
import { patroniPlugin } from "./patroni/plugin.ts";
import { pgAutoFailoverPlugin } from "./pg-auto-failover/plugin.ts";
import type { TargetPlugin } from "./plugin.ts";

export const TARGET_PLUGINS = [containerPairPlugin, cnpgPlugin, endpointPlugin, patroniPlugin, pgAutoFailoverPlugin] as const;

type Plugins = typeof TARGET_PLUGINS;
/** The options schemas, in registry order, as the tuple the scenario schema's union takes. */
export const TARGET_OPTIONS = TARGET_PLUGINS.map((plugin) => plugin.options) as unknown as OptionsOf<Plugins>;
// Generic, so mapping the registry's tuple keeps it a tuple.
type OptionsOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] extends { options: infer O } ? O : never };

export type TargetKind = Plugins[number]["kind"];
export type TargetSpecOf<K extends TargetKind> = z.output<Extract<Plugins[number], { kind: K }>["options"]>;

/** The plugin of a target kind, for a spec of that kind. */
export function targetPlugin<S extends { kind: TargetKind }>(spec: S): TargetPlugin<z.ZodType<S> & Plugins[number]["options"]>;
export function targetPlugin(kind: string): TargetPlugin | undefined;
export function targetPlugin(spec: string | { kind: TargetKind }): TargetPlugin | undefined {
  const kind = typeof spec === "string" ? spec : spec.kind;
  return (TARGET_PLUGINS as readonly TargetPlugin[]).find((plugin) => plugin.kind === kind);
}

// Merges a union of objects into one: the plugins' observations or checks, together.
type Merged<U> = (U extends unknown ? (part: U) => void : never) extends (whole: infer I) => void ? I : never;
type ObservationsOf<P> = P extends { observations?: infer V } ? NonNullable<V> : never;
// The core's metric sections, which no target's check may take; the compiler demands every one.
const CORE_SECTIONS: { [K in keyof CoreMetrics]: true } = {
  availability: true,
  downtime: true,
  failover: true,
  recovery: true,
  anatomy: true,
  writes: true,
  latency: true,
  clients: true,
  roles: true,
  splitBrain: true,
  alerts: true,
  restore: true,
};
type ChecksOf<P> = P extends { checks?: infer K } ? NonNullable<K> : never;

/** Every plugin's entries of one field, in one object; a name two targets (or the core) both claim is refused at load. */
export function mergeEntries(
  plugins: readonly TargetPlugin[],
  field: "observations" | "checks",
  reserved: readonly string[],
): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const owner = new Map<string, string>(reserved.map((name) => [name, "the core"]));
  for (const plugin of plugins) {
    for (const [name, entry] of Object.entries(plugin[field] ?? {})) {
      const taken = owner.get(name);
      if (taken !== undefined) {
        throw new Error(`The ${plugin.kind} target's ${field} names "${name}", which ${taken} already has: rename it in its plugin.`);
      }
      owner.set(name, `the ${plugin.kind} target`);
      merged[name] = entry;
    }
  }
  return merged;
}

/**
 * The targets' own History event kinds, with the shapes that validate them: what a History reader
 * is handed. Typed so that the compiler demands a shape for every kind a target declares.
 */
export const TARGET_OBSERVATIONS: ObservationShapes = mergeEntries(TARGET_PLUGINS, "observations", CORE_KINDS) as Merged<
  ObservationsOf<Plugins[number]>
>;

/** The targets' own checkers, by the section of Metrics each fills (run beside the core's). */
export const TARGET_CHECKS = mergeEntries(TARGET_PLUGINS, "checks", Object.keys(CORE_SECTIONS)) as Merged<ChecksOf<Plugins[number]>>;

// The gate metrics a plugin's checks declare, as "<section>.<field>".
type GateMetricsOf<P> = P extends { checks?: infer K }
  ? {
      [S in keyof NonNullable<K> & string]: NonNullable<K>[S] extends { gate?: infer G } ? `${S}.${keyof NonNullable<G> & string}` : never;
    }[keyof NonNullable<K> & string]
  : never;
type TargetGateMetric = GateMetricsOf<Plugins[number]>;

/**
 * The gate metrics the targets' checks declare (each checker's `gate`), as "<section>.<field>" →
 * description, in registry order and then each plugin's order of checks and fields.
 */
export const TARGET_GATE_METRICS = Object.fromEntries(
  Object.entries(TARGET_CHECKS as Record<string, { gate?: Record<string, string | undefined> }>).flatMap(([section, check]) =>
    Object.entries(check.gate ?? {}).flatMap(([field, description]) =>
      description === undefined ? [] : [[`${section}.${field}`, description]],
    ),
  ),
) as { readonly [M in TargetGateMetric]: string };

/** What the plugins own of one kind (`faults`, `actions`), flattened in registry order, each plugin's tuple kept. */
export type OwnedBy<T extends readonly unknown[], K extends string> = T extends readonly [infer P, ...infer Rest]
  ? [...(P extends { [_ in K]: infer A extends readonly unknown[] } ? A : []), ...OwnedBy<Rest, K>]
  : [];
