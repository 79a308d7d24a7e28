import type { ProbeSpec, Target } from "../scenario/schema.ts";
import { cnpgTopology } from "./cnpg/cnpg.ts";
import { containerPair } from "./container-pair.ts";
import { endpointTopology } from "./endpoint.ts";
import type { Topology } from "./topology.ts";

/** `probes` lets a target refuse, before anything starts, probes it cannot serve. */
const TOPOLOGIES: { [K in Target["kind"]]: (spec: Extract<Target, { kind: K }>, probes: readonly ProbeSpec[]) => Topology } = {
  "container-pair": containerPair,
  cnpg: cnpgTopology,
  endpoint: endpointTopology,
};

export function buildTopology(target: Target, probes: readonly ProbeSpec[] = []): Topology {
  return (TOPOLOGIES[target.kind] as (spec: Target, probes: readonly ProbeSpec[]) => Topology)(target, probes);
}

export type { StartedTopology, Topology } from "./topology.ts";
