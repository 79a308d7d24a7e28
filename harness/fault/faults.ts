/**
 * Fault packages (Jepsen's nemesis packages): each kind knows its label, the nodes it touches,
 * its chart colour, how to inject it and how to heal it. Heals are idempotent and run again in the
 * runner's `finally`, so a crashed drill cannot leave a node frozen or cut off. The label and
 * colour come from catalog.ts, which the reports read without loading this runtime.
 */
import { toMs } from "../duration.ts";
import { FAULT_CATALOG, type FaultCatalog, type FaultDisplay, type FaultKind, type FaultSpecOf } from "./catalog.ts";
import { runFaultCommand } from "./command.ts";
import { rateKbit, type FaultSpec } from "../scenario/steps.ts";
import type { Capability } from "../targets/plugin.ts";
import { control, type Controls, type Shaping, type StartedTopology } from "../targets/types.ts";

/** Which step of which run is injecting or healing: user commands get it in their environment. */
export interface FaultStep {
  runId: string;
  /** The fault's id in the History, e.g. "f1". */
  id: string;
}

/**
 * What an inject or heal works with: the one control its catalog entry requires (null for a
 * command fault, which needs nothing of the target), the step, and the target's secret masking.
 */
export interface FaultUse<Ctl> {
  control: Ctl;
  step: FaultStep;
  redact(text: string): string;
}

type Act<S extends FaultSpec, Ctl> = (spec: S, use: FaultUse<Ctl>) => Promise<void | string>;

/** A fault kind's catalog entry (label, colour, whether it heals, what it requires) and what it does. */
export interface FaultPackage<S extends FaultSpec, Ctl = unknown> extends FaultDisplay<S> {
  nodes(spec: S): string[];
  /** Resolves with output worth keeping in the History (a command's, how a netem was applied), if any. */
  inject: Act<S, Ctl>;
  /** null: nothing to undo (a killed node stays down until something restarts it). */
  heal: Act<S, Ctl> | null;
  /** The longest the step may take; default the runner's own limit. */
  timeoutMs?(spec: S): number;
}

/** The control a kind's catalog entry requires: the only part of the target its package can touch. */
type ControlFor<K extends FaultKind> = FaultCatalog[K]["requires"] extends infer C extends Capability ? Controls[C] : null;

// A heal exactly where the catalog says the kind heals, and the control it says it requires, so the
// charts, validation and the runner cannot disagree.
type Packages = {
  [K in FaultKind]: FaultPackage<FaultSpecOf<K>, ControlFor<K>> & { heal: FaultCatalog[K]["heals"] extends true ? Act<FaultSpecOf<K>, ControlFor<K>> : null };
};

export const FAULTS: Packages = {
  kill: {
    ...FAULT_CATALOG.kill,
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.kill(spec.node),
    heal: null,
  },
  "kill-process": {
    ...FAULT_CATALOG["kill-process"],
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.kill(spec.node, spec.process),
    heal: (spec, { control }) => control.revive(spec.node, spec.process),
  },
  "pause-process": {
    ...FAULT_CATALOG["pause-process"],
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.freeze(spec.node, spec.process),
    heal: (spec, { control }) => control.thaw(spec.node, spec.process),
  },
  "dcs-outage": {
    ...FAULT_CATALOG["dcs-outage"],
    // DCS members are not nodes a scenario names.
    nodes: () => [],
    async inject(spec, { control }) {
      const killed = await control.killMembers(spec.members);
      return `killed ${killed.join(", ")}`;
    },
    heal: (_spec, { control }) => control.startMembers(),
  },
  "dcs-partition": {
    ...FAULT_CATALOG["dcs-partition"],
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.cutFrom(spec.node),
    heal: (spec, { control }) => control.healCut(spec.node),
  },
  "delete-pod": {
    ...FAULT_CATALOG["delete-pod"],
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.deletePod(spec.node, spec.grace === undefined ? undefined : Math.round(toMs(spec.grace) / 1000)),
    heal: null,
  },
  stop: {
    ...FAULT_CATALOG.stop,
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.stop(spec.node, spec.mode),
    heal: null,
  },
  pause: {
    ...FAULT_CATALOG.pause,
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.pause(spec.node),
    heal: (spec, { control }) => control.unpause(spec.node),
  },
  partition: {
    ...FAULT_CATALOG.partition,
    nodes: (spec) => (spec.isolate !== undefined ? [spec.isolate] : [...spec.between!]),
    async inject(spec, { control }) {
      if (spec.isolate !== undefined) {
        await control.cut({ node: spec.isolate, from: "all", direction: "both" });
        return;
      }
      const [a, b] = spec.between!;
      if (spec.oneWay) {
        // One-way: a stops hearing b; a's packets still reach b.
        await control.cut({ node: a, from: b, direction: "inbound" });
      } else {
        await control.cut({ node: a, from: b, direction: "both" });
        await control.cut({ node: b, from: a, direction: "both" });
      }
    },
    async heal(spec, { control }) {
      for (const node of spec.isolate !== undefined ? [spec.isolate] : spec.between!) await control.healCuts(node);
    },
  },
  fence: {
    ...FAULT_CATALOG.fence,
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.fence(spec.node),
    heal: (spec, { control }) => control.unfence(spec.node),
  },
  "node-down": {
    ...FAULT_CATALOG["node-down"],
    nodes: (spec) => [spec.node],
    inject: (spec, { control }) => control.down(spec.node),
    heal: (spec, { control }) => control.up(spec.node),
  },
  netem: {
    ...FAULT_CATALOG.netem,
    nodes: (spec) => [spec.node],
    // Resolves with how it was done (netem, or pgdrill's delayer where the kernel has none), for the History.
    inject: (spec, { control }) => control.shape(spec.node, shapingOf(spec)),
    heal: (spec, { control }) => control.unshape(spec.node),
  },
  command: {
    ...FAULT_CATALOG.command,
    // The command's own business: pgdrill cannot tell which nodes it touches.
    nodes: () => [],
    inject: (spec, use) => runFaultCommand(spec.run, commandOptions(spec, use, "inject")),
    async heal(spec, use) {
      if (spec.heal === undefined) return;
      return runFaultCommand(spec.heal, commandOptions(spec, use, "heal"));
    },
    timeoutMs: (spec) => toMs(spec.timeout) + 5000,
  },
};

function commandOptions(spec: FaultSpecOf<"command">, use: FaultUse<null>, phase: "inject" | "heal") {
  return {
    timeoutMs: toMs(spec.timeout),
    env: { PGDRILL_RUN_ID: use.step.runId, PGDRILL_FAULT_ID: use.step.id, PGDRILL_FAULT_PHASE: phase },
    redact: use.redact,
  };
}

/** The scenario's netem fault as the numbers a target's shaping takes. */
export function shapingOf(spec: FaultSpecOf<"netem">): Shaping {
  return { delayMs: toMs(spec.delay), jitterMs: toMs(spec.jitter), lossPercent: spec.loss, rateKbit: spec.rate === undefined ? undefined : rateKbit(spec.rate) };
}

/** The same fault aimed at what its names mean now (on cnpg, "primary" becomes an instance). */
export async function resolveFault(topology: StartedTopology, spec: FaultSpec): Promise<FaultSpec> {
  const resolve = (node: string) => topology.resolve(node);
  if (spec.kind === "partition") {
    return {
      ...spec,
      ...(spec.isolate !== undefined ? { isolate: await resolve(spec.isolate) } : {}),
      ...(spec.between !== undefined ? { between: [await resolve(spec.between[0]), await resolve(spec.between[1])] as [string, string] } : {}),
    };
  }
  if (spec.kind === "command" || spec.kind === "dcs-outage") return spec;
  return { ...spec, node: await resolve(spec.node) };
}

export function faultPackage(spec: FaultSpec): FaultPackage<FaultSpec> {
  return FAULTS[spec.kind] as FaultPackage<FaultSpec>;
}

/** Injects `spec` through the control its kind requires; resolves with output worth keeping, if any. */
export function injectFault(topology: StartedTopology, spec: FaultSpec, step: FaultStep): Promise<void | string> {
  return faultPackage(spec).inject(spec, faultUse(topology, spec, step));
}

/** Heals `spec` (a kind without a heal has nothing to undo). */
export async function healFault(topology: StartedTopology, spec: FaultSpec, step: FaultStep): Promise<void | string> {
  return faultPackage(spec).heal?.(spec, faultUse(topology, spec, step));
}

function faultUse(topology: StartedTopology, spec: FaultSpec, step: FaultStep): FaultUse<unknown> {
  const requires: Capability | null = FAULT_CATALOG[spec.kind].requires;
  return { control: requires === null ? null : control(topology, requires, spec.kind), step, redact: (text) => topology.redact(text) };
}
