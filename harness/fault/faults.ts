/**
 * Fault packages (Jepsen's nemesis packages): each kind knows its label, the nodes it touches,
 * its chart colour, how to inject it and how to heal it. Heals are idempotent and run again in the
 * runner's `finally`, so a crashed drill cannot leave a node frozen or cut off. The label and
 * colour come from catalog.ts, which the reports read without loading this runtime.
 */
import { toMs } from "../duration.ts";
import { FAULT_CATALOG, type FaultCatalog, type FaultDisplay, type FaultKind, type FaultSpecOf } from "./catalog.ts";
import { runFaultCommand } from "./command.ts";
import type { FaultSpec } from "../scenario/schema.ts";
import type { StartedTopology } from "../target/types.ts";

/** Which step of which run is injecting or healing: user commands get it in their environment. */
export interface FaultStep {
  runId: string;
  /** The fault's id in the History, e.g. "f1". */
  id: string;
}

type Heal<S extends FaultSpec> = (topology: StartedTopology, spec: S, step: FaultStep) => Promise<void | string>;

/** A fault kind's catalog entry (label, colour, whether it heals) and what it does. */
export interface FaultPackage<S extends FaultSpec> extends FaultDisplay<S> {
  nodes(spec: S): string[];
  /** Resolves with output worth keeping in the History (a command's), if any. */
  inject(topology: StartedTopology, spec: S, step: FaultStep): Promise<void | string>;
  /** null: nothing to undo (a killed node stays down until something restarts it). */
  heal: Heal<S> | null;
  /** The longest the step may take; default the runner's own limit. */
  timeoutMs?(spec: S): number;
}

// A heal exactly where the catalog says the kind heals, so the charts and the runner cannot disagree.
type Packages = { [K in FaultKind]: FaultPackage<FaultSpecOf<K>> & { heal: FaultCatalog[K]["heals"] extends true ? Heal<FaultSpecOf<K>> : null } };

export const FAULTS: Packages = {
  kill: {
    ...FAULT_CATALOG.kill,
    nodes: (spec) => [spec.node],
    inject: (topology, spec) => topology.kill(spec.node),
    heal: null,
  },
  stop: {
    ...FAULT_CATALOG.stop,
    nodes: (spec) => [spec.node],
    inject: (topology, spec) => topology.stopGracefully(spec.node, spec.mode),
    heal: null,
  },
  pause: {
    ...FAULT_CATALOG.pause,
    nodes: (spec) => [spec.node],
    inject: (topology, spec) => topology.pause(spec.node),
    heal: (topology, spec) => topology.unpause(spec.node),
  },
  partition: {
    ...FAULT_CATALOG.partition,
    nodes: (spec) => (spec.isolate !== undefined ? [spec.isolate] : [...spec.between!]),
    async inject(topology, spec) {
      if (spec.isolate !== undefined) {
        await topology.cut({ node: spec.isolate, from: "all", direction: "both" });
        return;
      }
      const [a, b] = spec.between!;
      if (spec.oneWay) {
        // One-way: a stops hearing b; a's packets still reach b.
        await topology.cut({ node: a, from: b, direction: "inbound" });
      } else {
        await topology.cut({ node: a, from: b, direction: "both" });
        await topology.cut({ node: b, from: a, direction: "both" });
      }
    },
    async heal(topology, spec) {
      for (const node of spec.isolate !== undefined ? [spec.isolate] : spec.between!) await topology.healCuts(node);
    },
  },
  "delete-pod": {
    ...FAULT_CATALOG["delete-pod"],
    nodes: (spec) => [spec.node],
    inject: (topology, spec) => capability(topology.deletePod, "delete-pod").call(topology, spec.node, spec.grace === undefined ? undefined : Math.round(toMs(spec.grace) / 1000)),
    heal: null,
  },
  fence: {
    ...FAULT_CATALOG.fence,
    nodes: (spec) => [spec.node],
    inject: (topology, spec) => capability(topology.fence, "fence").call(topology, spec.node),
    heal: (topology, spec) => capability(topology.unfence, "fence").call(topology, spec.node),
  },
  command: {
    ...FAULT_CATALOG.command,
    // The command's own business: pgdrill cannot tell which nodes it touches.
    nodes: () => [],
    inject: (topology, spec, step) => runFaultCommand(spec.run, commandOptions(topology, spec, step, "inject")),
    async heal(topology, spec, step) {
      if (spec.heal === undefined) return;
      return runFaultCommand(spec.heal, commandOptions(topology, spec, step, "heal"));
    },
    timeoutMs: (spec) => toMs(spec.timeout) + 5000,
  },
};

function commandOptions(topology: StartedTopology, spec: Extract<FaultSpec, { kind: "command" }>, step: FaultStep, phase: "inject" | "heal") {
  return {
    timeoutMs: toMs(spec.timeout),
    env: { PGDRILL_RUN_ID: step.runId, PGDRILL_FAULT_ID: step.id, PGDRILL_FAULT_PHASE: phase },
    redact: (text: string) => topology.redact?.(text) ?? text,
  };
}

/** Validation keeps faults to targets that can do them; this is the backstop. */
function capability<F>(method: F | undefined, fault: string): F {
  if (method === undefined) throw new Error(`this target cannot do "${fault}"`);
  return method;
}

/** The same fault aimed at what its names mean now (on cnpg, "primary" becomes an instance). */
export async function resolveFault(topology: StartedTopology, spec: FaultSpec): Promise<FaultSpec> {
  if (!topology.resolve) return spec;
  const resolve = topology.resolve.bind(topology);
  if (spec.kind === "partition") {
    return {
      ...spec,
      ...(spec.isolate !== undefined ? { isolate: await resolve(spec.isolate) } : {}),
      ...(spec.between !== undefined ? { between: [await resolve(spec.between[0]), await resolve(spec.between[1])] as [string, string] } : {}),
    };
  }
  if (spec.kind === "command") return spec;
  return { ...spec, node: await resolve(spec.node) };
}

export function faultPackage(spec: FaultSpec): FaultPackage<FaultSpec> {
  return FAULTS[spec.kind] as FaultPackage<FaultSpec>;
}
