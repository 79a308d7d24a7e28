/**
 * The targets' runtimes, by kind: how each is built, how its leftovers are reaped and how a run
 * whose start failed is cleaned up. The run, the CLI and `reap` ask here instead of naming a kind.
 * The mapped type over the registry's kinds makes the compiler demand a runtime for every plugin
 * in registry.ts (zx's way with kind-tagged unions).
 */
import type { ProbeSpec, Target } from "../scenario/schema.ts";
import { cnpgTopology } from "./cnpg/cnpg.ts";
import { removeLeftoverKindClusters } from "./cnpg/kind.ts";
import { containerPair } from "./container-pair/pair.ts";
import { endpointTopology } from "./endpoint/endpoint.ts";
import { patroniTopology } from "./patroni/patroni.ts";
import { pgAutoFailoverTopology } from "./pg-auto-failover/pgaf.ts";
import { TARGET_PLUGINS, targetPlugin, type TargetKind, type TargetSpecOf } from "./registry.ts";
import { dockerClient, removeLabelled } from "./shared/docker.ts";
import type { Topology } from "./types.ts";

interface TargetRuntime<K extends TargetKind> {
  /** `probes` lets a target refuse, before anything starts, probes it cannot serve. */
  build(spec: TargetSpecOf<K>, probes: readonly ProbeSpec[]): Topology;
  /** Removes what killed runs of this kind left behind (`all`: also what live runs have), by name. */
  reap(options: { all: boolean }): Promise<string[]>;
  /**
   * After a start that failed: make sure nothing of the run is left. Targets that remove what they
   * made when their start fails (an endpoint makes its schema last) need none.
   */
  removeRun?(runId: string): Promise<string[]>;
}

const RUNTIMES: { [K in TargetKind]: TargetRuntime<K> } = {
  "container-pair": {
    build: containerPair,
    reap: async ({ all }) => removeLabelled(await dockerClient(), { onlyOrphans: !all }),
    removeRun: async (runId) => removeLabelled(await dockerClient(), { runId }),
  },
  cnpg: {
    build: cnpgTopology,
    reap: removeLeftoverKindClusters,
  },
  endpoint: {
    build: endpointTopology,
    // A schema left on an endpoint is dropped by the next run there, once its owner has exited.
    reap: async () => [],
  },
  patroni: {
    build: patroniTopology,
    // Its containers and network carry the same labels as the pair's: the pair's reap already finds them.
    reap: async () => [],
    removeRun: async (runId) => removeLabelled(await dockerClient(), { runId }),
  },
  "pg-auto-failover": {
    build: pgAutoFailoverTopology,
    // Labelled as the pair's containers are: the pair's reap finds them.
    reap: async () => [],
    removeRun: async (runId) => removeLabelled(await dockerClient(), { runId }),
  },
};

function runtime(kind: TargetKind): TargetRuntime<TargetKind> {
  return RUNTIMES[kind] as TargetRuntime<TargetKind>;
}

export function buildTopology(target: Target, probes: readonly ProbeSpec[] = []): Topology {
  return runtime(target.kind).build(target, probes);
}

export function runsOnDocker(kind: TargetKind): boolean {
  return targetPlugin(kind)?.onDocker ?? false;
}

/** Before anything starts: a target that runs on Docker needs an engine (its absence is one line, DockerUnavailableError). */
export async function checkEnvironment(kind: TargetKind): Promise<void> {
  if (runsOnDocker(kind)) await dockerClient();
}

/** Every target's leftovers, in registry order (Docker's first: without an engine, say so at once). */
export async function reapLeftovers(options: { all: boolean }): Promise<string[]> {
  const removed: string[] = [];
  for (const plugin of TARGET_PLUGINS) removed.push(...(await runtime(plugin.kind).reap(options)));
  return removed;
}

/** What a run whose start failed may have left, for targets that say how to find it. */
export async function removeRun(kind: TargetKind, runId: string): Promise<string[]> {
  return (await runtime(kind).removeRun?.(runId)) ?? [];
}

export type { SharedResources, StartedTopology, Topology } from "./types.ts";
export { SharedPool } from "./shared/pool.ts";
