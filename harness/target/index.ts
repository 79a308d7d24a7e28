/**
 * The registry of targets: what the core asks of each kind, in one place, so the run, the CLI and
 * `reap` ask the registry instead of naming a kind. (A step towards a plugin object per target
 * folder; the scenario schema and validation still name the kinds themselves.)
 */
import type { ProbeSpec, Target } from "../scenario/schema.ts";
import { cnpgTopology } from "./cnpg/cnpg.ts";
import { removeLeftoverKindClusters } from "./cnpg/kind.ts";
import { containerPair } from "./container-pair/pair.ts";
import { dockerClient, removeLabelled } from "./shared/docker.ts";
import { endpointTopology } from "./endpoint/endpoint.ts";
import type { Topology } from "./types.ts";

interface TargetEntry<K extends Target["kind"]> {
  /** `probes` lets a target refuse, before anything starts, probes it cannot serve. */
  build(spec: Extract<Target, { kind: K }>, probes: readonly ProbeSpec[]): Topology;
  /** It runs on this machine's Docker engine: `pgdrill run` checks for one before anything starts. */
  onDocker: boolean;
  /** Removes what killed runs of this kind left behind (`all`: also what live runs have), by name. */
  reap(options: { all: boolean }): Promise<string[]>;
  /**
   * After a start that failed: make sure nothing of the run is left. Targets that remove what they
   * made when their start fails (an endpoint makes its schema last) need none.
   */
  removeRun?(runId: string): Promise<string[]>;
}

const TARGETS: { [K in Target["kind"]]: TargetEntry<K> } = {
  "container-pair": {
    build: containerPair,
    onDocker: true,
    reap: async ({ all }) => removeLabelled(await dockerClient(), { onlyOrphans: !all }),
    removeRun: async (runId) => removeLabelled(await dockerClient(), { runId }),
  },
  cnpg: {
    build: cnpgTopology,
    // kind runs its nodes as Docker containers.
    onDocker: true,
    reap: removeLeftoverKindClusters,
  },
  endpoint: {
    build: endpointTopology,
    onDocker: false,
    // A schema left on an endpoint is dropped by the next run there, once its owner has exited.
    reap: async () => [],
  },
};

function entry(kind: Target["kind"]): TargetEntry<Target["kind"]> {
  return TARGETS[kind] as TargetEntry<Target["kind"]>;
}

export function buildTopology(target: Target, probes: readonly ProbeSpec[] = []): Topology {
  return entry(target.kind).build(target, probes);
}

export function runsOnDocker(kind: Target["kind"]): boolean {
  return entry(kind).onDocker;
}

/** Every target's leftovers, in registry order (Docker's first: without an engine, say so at once). */
export async function reapLeftovers(options: { all: boolean }): Promise<string[]> {
  const removed: string[] = [];
  for (const target of Object.values(TARGETS) as TargetEntry<Target["kind"]>[]) removed.push(...(await target.reap(options)));
  return removed;
}

/** What a run whose start failed may have left, for targets that say how to find it. */
export async function removeRun(kind: Target["kind"], runId: string): Promise<string[]> {
  return (await entry(kind).removeRun?.(runId)) ?? [];
}

export type { StartedTopology, Topology } from "./types.ts";
