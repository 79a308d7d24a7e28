/**
 * `pgdrill/api`: drills from code, for a team's own runner or test suite. The command line is
 * built on the same three calls: load (and validate) a scenario, run it, re-analyse a run
 * directory.
 */
export { loadScenario, listScenarios, type LoadedScenario } from "./scenario/load.ts";
export { runDrill, type DrillOptions } from "./run/drill.ts";
export { analyzeRunDir } from "./analyze.ts";
export { scenarioJsonSchema } from "./scenario/json-schema.ts";
export type { Scenario, ScenarioInput } from "./scenario/schema.ts";
export type { RunResult, Metrics, Verdict } from "./result.ts";
export type { HistoryEvent } from "./history/events.ts";
export { EXIT, InputError, HarnessError } from "./errors.ts";
export { VERSION } from "./version.ts";
