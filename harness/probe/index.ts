import type { ProbeSpec } from "../scenario/schema.ts";
import type { Probe } from "./probe.ts";
import { roleProbe } from "./role.ts";
import { select1Probe } from "./select1.ts";
import { writesProbe } from "./writes.ts";
import { agentProbe, isAgentSpec } from "./driver/agent-probe.ts";

/** A mapped type over probe kinds: adding a kind to the schema makes the compiler ask for it here. */
const BUILDERS: { [K in ProbeSpec["kind"]]: (spec: Extract<ProbeSpec, { kind: K }>) => Probe } = {
  select1: select1Probe,
  writes: writesProbe,
  role: roleProbe,
};

export function buildProbe(spec: ProbeSpec): Probe {
  // Another driver than node-postgres: the probe runs in that driver's agent (docs/drivers.md).
  if (isAgentSpec(spec)) return agentProbe(spec);
  return (BUILDERS[spec.kind] as (spec: ProbeSpec) => Probe)(spec);
}

export { probeRecord } from "./probe.ts";
export type { Probe, ProbeContext } from "./probe.ts";
