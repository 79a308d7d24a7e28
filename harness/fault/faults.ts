/**
 * Fault packages (Jepsen's nemesis packages): each kind knows its label, the nodes it touches,
 * its chart colour, how to inject it and how to heal it. Heals are idempotent and run again in the
 * runner's `finally`, so a crashed drill cannot leave a node frozen or cut off.
 */
import { toMs } from "../duration.ts";
import { commandLabel, runFaultCommand } from "./command.ts";
import type { FaultSpec } from "../scenario/schema.ts";
import type { StartedTopology } from "../target/topology.ts";

/** Which step of which run is injecting or healing: user commands get it in their environment. */
export interface FaultStep {
  runId: string;
  /** The fault's id in the History, e.g. "f1". */
  id: string;
}

export interface FaultPackage<S extends FaultSpec> {
  /** `target` is the target kind: the same fault is done differently on each (SIGKILL vs pod delete). */
  label(spec: S, target?: string): string;
  nodes(spec: S): string[];
  /** For charts and reports. */
  color: string;
  /** Resolves with output worth keeping in the History (a command's), if any. */
  inject(topology: StartedTopology, spec: S, step: FaultStep): Promise<void | string>;
  /** null: nothing to undo (a killed node stays down until something restarts it). */
  heal: ((topology: StartedTopology, spec: S, step: FaultStep) => Promise<void | string>) | null;
  /** The longest the step may take; default the runner's own limit. */
  timeoutMs?(spec: S): number;
}

type Packages = { [K in FaultSpec["kind"]]: FaultPackage<Extract<FaultSpec, { kind: K }>> };

export const FAULTS: Packages = {
  kill: {
    label: (spec, target) => `kill ${spec.node} (${target === "cnpg" ? "pod delete, grace 0" : "SIGKILL"})`,
    nodes: (spec) => [spec.node],
    color: "#d62728",
    inject: (topology, spec) => topology.kill(spec.node),
    heal: null,
  },
  stop: {
    label: (spec) => `stop ${spec.node} (${spec.mode} shutdown)`,
    nodes: (spec) => [spec.node],
    color: "#ff7f0e",
    inject: (topology, spec) => topology.stopGracefully(spec.node, spec.mode),
    heal: null,
  },
  pause: {
    label: (spec) => `pause ${spec.node}`,
    nodes: (spec) => [spec.node],
    color: "#9467bd",
    inject: (topology, spec) => topology.pause(spec.node),
    heal: (topology, spec) => topology.unpause(spec.node),
  },
  partition: {
    label: (spec) =>
      spec.isolate !== undefined
        ? `isolate ${spec.isolate}`
        : `partition ${spec.between![0]} ${spec.oneWay ? "←" : "↔"} ${spec.between![1]}${spec.oneWay ? " (one-way)" : ""}`,
    nodes: (spec) => (spec.isolate !== undefined ? [spec.isolate] : [...spec.between!]),
    color: "#1f77b4",
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
    label: (spec) => `delete pod ${spec.node}${spec.grace === undefined ? "" : ` (grace ${toMs(spec.grace) / 1000} s)`}`,
    nodes: (spec) => [spec.node],
    color: "#e377c2",
    inject: (topology, spec) => capability(topology.deletePod, "delete-pod").call(topology, spec.node, spec.grace === undefined ? undefined : Math.round(toMs(spec.grace) / 1000)),
    heal: null,
  },
  fence: {
    label: (spec) => `fence ${spec.node}`,
    nodes: (spec) => [spec.node],
    color: "#8c564b",
    inject: (topology, spec) => capability(topology.fence, "fence").call(topology, spec.node),
    heal: (topology, spec) => capability(topology.unfence, "fence").call(topology, spec.node),
  },
  command: {
    label: (spec) => spec.label ?? commandLabel(spec.run),
    // The command's own business: pgdrill cannot tell which nodes it touches.
    nodes: () => [],
    color: "#7f7f7f",
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
