import type { Target } from "../scenario/schema.ts";
import { cnpgTopology } from "./cnpg/cnpg.ts";
import { containerPair } from "./container-pair.ts";
import { endpointTopology } from "./endpoint.ts";
import type { Topology } from "./topology.ts";

const TOPOLOGIES: { [K in Target["kind"]]: (spec: Extract<Target, { kind: K }>) => Topology } = {
  "container-pair": containerPair,
  cnpg: cnpgTopology,
  endpoint: endpointTopology,
};

export function buildTopology(target: Target): Topology {
  return (TOPOLOGIES[target.kind] as (spec: Target) => Topology)(target);
}

export type { StartedTopology, Topology } from "./topology.ts";
