/**
 * The contract every target's plugin object fulfils: what a scenario may say about the target and
 * what it can do, as data and pure functions. Each target folder exports one plugin
 * (`<kind>/plugin.ts`) and the registry lists them; the scenario schema's union, node names,
 * capability checks, feasibility and the strategy claims are all read from it. It loads no target
 * runtime (no Docker, no Kubernetes client), so a scenario file, validation and the reports can use
 * it; how a target starts is its runtime's business (`targets/index.ts`).
 *
 * Like vitest's `types` modules, the contract lives apart from its implementations, which import
 * it, so the registry and the plugins never import each other in a circle.
 *
 * A target's analysis is its own too: the observation kinds it records in the History (with the
 * shapes that validate them when a History is read back) and the checkers that read them. Both are
 * pure, so `pgdrill report` loads them with no cluster.
 */
import type { z } from "zod";
import type { CheckerSpec } from "../checker/checker.ts";
import type { HistoryEvent, Observations } from "../history/events.ts";
import type { Shape } from "../history/validate.ts";
import type { CoreMetrics, Metrics } from "../result.ts";
import type { ProbeSpec } from "../scenario/probes.ts";
import type { AnyAction } from "../action/define.ts";
import type { Aim, AnyFault } from "../fault/define.ts";
import type { Capability } from "./controls.ts";

export type Path = ReadonlyArray<PropertyKey>;
/** How a check reports a problem: the field, what is wrong, and the fix. */
export type Report = (path: Path, problem: string, fix: string) => void;

/** The parts of a scenario a target's own checks read; undefined where their shape was wrong. */
export interface ScenarioParts {
  probes?: ReadonlyArray<ProbeSpec | undefined> | undefined;
}

/** A fault as a target's own check sees it: its kind, and the nodes it names with their fields. */
export interface AimedFault {
  kind: string;
  aims: readonly Aim[];
}

/** Report text: plain, or a part set off (strong: bold; bad: in the warning colour where the format has one). */
export type ReportSpan = string | { readonly text: string; readonly strong?: boolean; readonly bad?: boolean };
/** A labelled row of the reports' key metrics, as a target contributes its own (cnpg: the operator's view). */
export interface ReportRow {
  readonly label: string;
  readonly value: string | readonly ReportSpan[];
}

/** A target's options schema: a strict object whose `kind` literal tells it apart in the union. */
export type TargetOptions = z.ZodObject<{ kind: z.ZodLiteral<string> } & z.core.$ZodLooseShape, z.core.$strict>;

/**
 * The History event kinds a target records of its own, each with the shape that validates it. The
 * kind and its type are declared in the target's folder by merging into history's `Observations`.
 */
export type ObservationSchemas = { readonly [K in keyof Observations]?: Shape<Observations[K]> };
/**
 * A target's checkers, each by the section of Metrics it fills (merged into result.ts's `Metrics`
 * from the target's folder); the numeric fields of that section its checker names in `gate` are gate metrics.
 */
export type TargetChecks = { readonly [K in Exclude<keyof Metrics, keyof CoreMetrics>]?: CheckerSpec<Metrics[K]> };

/** A moment a target's HA mechanism showed in the History, and how: the failover anatomy's detection or promotion. */
export interface MechanismSign {
  t: number;
  by: string;
  mechanism: "operator" | "ha-manager";
}

/**
 * How a target's own observations show its HA mechanism acting, for the failover anatomy
 * (checker/anatomy.ts). Each reader is started once and fed the History's context events in order,
 * beside the core's own signs (pgdrill's promote), keeping whatever state it needs.
 */
export interface MechanismSigns {
  /** Says at the first event at or after `faultAt` that shows the mechanism deciding a failover. */
  detection(faultAt: number, oldPrimary: string | null): (event: HistoryEvent) => MechanismSign | null;
  /**
   * The mechanism's word that `newPrimary` took over, fed events from the detection on: `sure` ends
   * the search; a sign that is not sure stands in only if nothing surer comes.
   */
  promotion(newPrimary: string | null): (event: HistoryEvent) => { sign: MechanismSign; sure: boolean } | null;
}

/** A fault or action a plugin owns: it may only need what the plugin's target provides. */
export type OwnedFault<C extends Capability> = AnyFault & { readonly requires: C | null };
export type OwnedAction<C extends Capability> = AnyAction & { readonly requires: C | null };

export interface TargetPlugin<
  O extends TargetOptions = TargetOptions,
  C extends Capability = Capability,
  F extends readonly OwnedFault<C>[] = readonly OwnedFault<C>[],
  A extends readonly OwnedAction<C>[] = readonly OwnedAction<C>[],
  V extends ObservationSchemas = ObservationSchemas,
  K extends TargetChecks = TargetChecks,
> {
  readonly kind: z.output<O>["kind"];
  /** The scenario's `target` when `kind` names this target. */
  readonly options: O;
  /** The nodes, by the names a scenario uses. */
  nodes(spec: z.output<O>): string[];
  /**
   * Names a step may aim at that are resolved when it runs ("primary" on cnpg is whichever
   * instance is primary then); a node keeps its name through the drill.
   */
  readonly roles: readonly string[];
  readonly capabilities: readonly C[];
  /** The faults only this target can do (fault/define.ts); the fault registry adds them to the scenario's. */
  readonly faults: F;
  /** The actions only this target can do (action/define.ts); the action registry adds them to the scenario's. */
  readonly actions: A;
  /**
   * What a select1 probe may name as its endpoint (besides "pooler" when the target has one); "every-node" when pgdrill
   * reaches each node's own address, so a probe may list them all as one libpq multi-host endpoint (writes too).
   */
  probeEndpoints(spec: z.output<O>): readonly string[];
  /** The endpoints are services, not nodes: an unknown one is named as an endpoint, not a node. */
  readonly endpointsAreServices?: boolean;
  /** Whether the target has a PgBouncer in front of the primary, and how to add one if it can. */
  hasPooler?(spec: z.output<O>): boolean;
  readonly addPooler?: string;
  /**
   * A node that was killed or stopped comes back by itself (a pod is restarted by its operator);
   * false: it stays down, so the schedule may not aim at it again.
   */
  readonly restartsNodes: boolean;
  /** How its kill is done, for the fault's label; default "SIGKILL". */
  readonly killedBy?: string;
  /** It runs on this machine's Docker engine: `pgdrill run` checks for one before anything starts. */
  readonly onDocker: boolean;
  /** The seed guide's HA strategy this target drills, for the claim beside the measured failover. */
  readonly strategy: string | null;
  /**
   * Why a capability it lists is off with these options (backups need `backup` in the target), as the
   * problem and its fix; null or absent: it is on.
   */
  unavailable?(spec: z.output<O>, capability: C): { problem: string; fix: string } | null;
  /** Problems only this target has with a scenario (its probes, its options), reported like any other. */
  check?(spec: z.output<O>, parts: ScenarioParts, report: Report): void;
  /**
   * A fault this target refuses by its own rules, at `path` (the fault). Returns true when it
   * reported one: the generic node checks are then skipped.
   */
  checkFault?(spec: z.output<O>, fault: AimedFault, path: Path, report: Report): boolean;
  /** Rows this target adds to every report's key metrics, from what the checkers measured; pure, as the plugin is. */
  reportRows?(metrics: Metrics): readonly ReportRow[];
  /** The History event kinds this target records of its own (its observers'), validated where a History is read. */
  readonly observations?: V;
  /** Checkers of this target's own, run beside the core ones on every History (valid and unobserved without its events). */
  readonly checks?: K;
  /** How its observations show its HA mechanism deciding and promoting, for the failover anatomy. */
  readonly mechanism?: MechanismSigns;
}

/** Typed identity: the compiler checks the plugin against its own options schema. */
// The observation and check types are kept exact, so the registry can prove every declared kind has a shape.
export function definePlugin<
  O extends TargetOptions,
  const C extends Capability,
  const F extends readonly OwnedFault<C>[],
  const A extends readonly OwnedAction<C>[],
  V extends ObservationSchemas = Record<never, never>,
  K extends TargetChecks = Record<never, never>,
>(plugin: TargetPlugin<O, C, F, A, V, K>): TargetPlugin<O, C, F, A, V, K> {
  return plugin;
}
