/**
 * Every check `pgdrill run` makes before it starts anything, in one place, so `pgdrill validate`
 * makes exactly these and no look-alikes: the --gate overrides, the scenario (load, schema and
 * meaning, the schedule's feasibility: scenario/validate.ts), who confirms manual steps, and what
 * runDrill refuses before it makes a run directory (the target built from the scenario and the
 * environment it reads, the probes, abortIf). What needs an engine (Docker) is not here: `run`
 * checks it next, `validate` never.
 */
import { parseGate, parseGateOverride, withOverrides, type GateSpec } from "../gate/gate.ts";
import { buildProbe, probeRecord } from "../probe/index.ts";
import { checkAbortIf } from "../run/abort.ts";
import type { ConfirmMode } from "../operator/desk.ts";
import { loadScenario } from "../scenario/load.ts";
import type { Scenario } from "../scenario/schema.ts";
import { checkManualSteps } from "../schedule/manual.ts";
import type { Topology } from "../targets/index.ts";

export interface PreflightOptions {
  /** The --gate overrides, as typed. */
  gate: readonly string[];
  /** --confirm-manual; `run` defaults it to "ask". */
  confirm: ConfirmMode;
  /** Whether "ask" has a terminal to ask at. */
  interactive: boolean;
}

export interface Checked {
  scenario: Scenario;
  source: string;
  /** The --gate overrides, parsed. */
  overrides: GateSpec[];
  /** The scenario's gate with the overrides applied: what the verdict will judge. */
  gates: GateSpec[];
  /** The target as the drill would build it (nothing started). */
  topology: Topology;
}

/** Throws the InputError `run` would, before anything starts; the overrides are checked before the scenario is read. */
export async function preflight(scenarioArg: string, options: PreflightOptions): Promise<Checked> {
  const overrides = options.gate.map(parseGateOverride);
  const { scenario, source } = await loadScenario(scenarioArg);
  checkManualSteps(scenario.schedule, options.confirm, options.interactive, "--confirm-manual");
  // Loaded here, not at the top: the targets bring testcontainers (~0.5 s), which `report` never needs.
  const { buildTopology } = await import("../targets/index.ts");
  // As runDrill does before its run directory: the target reads what the scenario leaves to the
  // environment (an endpoint's DATABASE_URL), the probes and abortIf are checked against each other.
  const topology = buildTopology(scenario.target, scenario.probes);
  scenario.probes.forEach(buildProbe);
  checkAbortIf(scenario.abortIf, scenario.probes.map(probeRecord));
  return { scenario, source, overrides, gates: withOverrides(parseGate(scenario.gate), overrides), topology };
}
