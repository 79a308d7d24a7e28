/**
 * The registry of targets: one line per target, each its folder's plugin object. The scenario
 * schema's target union, the nodes a step may aim at, what each target can do, the feasibility of
 * a schedule and the claims beside a report's failover are read from here. Pure data: the targets'
 * runtimes are mapped by kind in index.ts, where the compiler demands one for every kind here.
 */
import type { z } from "zod";
import { cnpgPlugin } from "./cnpg/plugin.ts";
import { containerPairPlugin } from "./container-pair/plugin.ts";
import { endpointPlugin } from "./endpoint/plugin.ts";
import { patroniPlugin } from "./patroni/plugin.ts";
import type { TargetPlugin } from "./plugin.ts";

export const TARGET_PLUGINS = [containerPairPlugin, cnpgPlugin, endpointPlugin, patroniPlugin] as const;

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
