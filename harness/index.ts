/**
 * `pgdrill`, the package's main entry: `defineScenario` and builders that return plain scenario
 * data, so a TypeScript scenario and a YAML one describe the same thing. It loads nothing but the
 * schema's pure modules (zod, the fault modules, the target plugins), so a scenario file imports
 * quickly and typechecks without the engine's dependencies;
 * running drills from code is `pgdrill/api` (api.ts).
 */
import type { z } from "zod";
import type { FaultKind } from "./fault/registry.ts";
import type {
  cnpgTarget,
  containerPairTarget,
  fault as faultSchema,
  patroniTarget,
  pgAutoFailoverTarget,
  roleProbe,
  ScenarioInput,
  select1Probe,
  writesProbe,
} from "./scenario/schema.ts";

type Options<S extends z.ZodType> = Omit<z.input<S>, "kind">;

/** Typed identity: validation happens when the scenario is loaded, with errors that name the field. */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario;
}

// Targets
export const containerPair = (options: Options<typeof containerPairTarget> = {}) => ({ kind: "container-pair" as const, ...options });
/** A CloudNativePG Cluster: a kind cluster pgdrill creates, or `context` for an existing one. */
export const cnpgCluster = (options: Options<typeof cnpgTarget> = {}) => ({ kind: "cnpg" as const, ...options });
/** A Patroni cluster (etcd, Patroni-run PostgreSQL nodes, HAProxy) in containers, with Patroni's own defaults. */
export const patroniCluster = (options: Options<typeof patroniTarget> = {}) => ({ kind: "patroni" as const, ...options });
/** A pg_auto_failover formation (a monitor, data nodes each run by pg_autoctl) in containers, with pg_auto_failover's own defaults. */
export const pgAutoFailover = (options: Options<typeof pgAutoFailoverTarget> = {}) => ({ kind: "pg-auto-failover" as const, ...options });

// Probes
export const selectOne = (options: Options<typeof select1Probe> = {}) => ({ kind: "select1" as const, ...options });
export const trackedWrites = (options: Options<typeof writesProbe> = {}) => ({ kind: "writes" as const, ...options });
export const role = (options: Options<typeof roleProbe> = {}) => ({ kind: "role" as const, ...options });
/** The role probe, by what it answers. */
export const whoIsPrimary = role;

// Faults: each fault's module has its builder; `fault(kind, options)` builds any registered one.
export { kill } from "./fault/kinds/kill.ts";
export { stop } from "./fault/kinds/stop.ts";
export { pause } from "./fault/kinds/pause.ts";
export { partition } from "./fault/kinds/partition.ts";
export { netem } from "./fault/kinds/netem.ts";
export { deletePod } from "./targets/cnpg/faults/delete-pod.ts";
export { fence } from "./targets/cnpg/faults/fence.ts";
export { nodeDown } from "./targets/cnpg/faults/node-down.ts";
export { killProcess, pauseProcess } from "./fault/kinds/process.ts";
export { dcsOutage, dcsPartition } from "./targets/patroni/faults/dcs.ts";
export { destroyData } from "./fault/kinds/destroy-data.ts";
export { dropTable, truncateTable } from "./fault/kinds/damage-table.ts";
export { corruptFile } from "./fault/kinds/corrupt-file.ts";

type FaultInput<K extends FaultKind> = Extract<z.input<typeof faultSchema>, { kind: K }>;
/** Any fault in the registry by its kind, e.g. `fault("command", { run: "./failover.sh" })`. */
export const fault = <K extends FaultKind>(kind: K, options: Omit<FaultInput<K>, "kind">) => ({ kind, ...options }) as FaultInput<K>;

// Actions: each action's module has its builder.
export { heal } from "./action/kinds/heal.ts";
export { switchover } from "./action/kinds/switchover.ts";
export { backup } from "./action/kinds/backup.ts";
export { restore } from "./action/kinds/restore.ts";
export { promote } from "./targets/container-pair/actions/promote.ts";
export { failover, maintenance } from "./targets/patroni/actions/manager.ts";
export { perform, nodeMaintenance } from "./targets/pg-auto-failover/actions/autoctl.ts";
export { monitorOutage } from "./targets/pg-auto-failover/faults/monitor-outage.ts";

export type { ScenarioInput, Scenario } from "./scenario/schema.ts";
export type { RunResult, Metrics, Verdict } from "./result.ts";
export type { HistoryEvent } from "./history/events.ts";
export type { Duration, DurationText } from "./duration.ts";
export type { GateMetric, GateInput } from "./gate/metrics.ts";
export type { GateExpression } from "./gate/expression.ts";
