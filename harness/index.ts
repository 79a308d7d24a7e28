/**
 * `pgdrill`, the package's main entry: `defineScenario` and builders that return plain scenario
 * data, so a TypeScript scenario and a YAML one describe the same thing. It loads nothing but the
 * schema, so a scenario file imports quickly and typechecks without the engine's dependencies;
 * running drills from code is `pgdrill/api` (api.ts).
 */
import type { z } from "zod";
import type {
  cnpgTarget,
  containerPairTarget,
  dcsOutageFault,
  deletePodFault,
  failoverAction,
  netemFault,
  partitionFault,
  patroniTarget,
  promoteAction,
  roleProbe,
  ScenarioInput,
  select1Probe,
  stopFault,
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

// Probes
export const selectOne = (options: Options<typeof select1Probe> = {}) => ({ kind: "select1" as const, ...options });
export const trackedWrites = (options: Options<typeof writesProbe> = {}) => ({ kind: "writes" as const, ...options });
export const role = (options: Options<typeof roleProbe> = {}) => ({ kind: "role" as const, ...options });
/** The role probe, by what it answers. */
export const whoIsPrimary = role;

// Faults
export const kill = (node: string) => ({ kind: "kill" as const, node });
export const stop = (node: string, options: Omit<Options<typeof stopFault>, "node"> = {}) => ({ kind: "stop" as const, node, ...options });
export const pause = (node: string) => ({ kind: "pause" as const, node });
export const partition = (options: Options<typeof partitionFault>) => ({ kind: "partition" as const, ...options });
/** Slow a node's outbound network: delay (± jitter), loss in percent, a bandwidth cap; healed by `for` or a heal. */
export const netem = (node: string, options: Omit<Options<typeof netemFault>, "node">) => ({ kind: "netem" as const, node, ...options });

// Actions
export const promote = (node: string, options: Omit<Options<typeof promoteAction>, "node"> = {}) => ({ kind: "promote" as const, node, ...options });
export const heal = () => ({ kind: "heal" as const });
/** cnpg: delete a pod as `kubectl delete pod` does (its own grace period unless given). */
export const deletePod = (node: string, options: Omit<Options<typeof deletePodFault>, "node"> = {}) => ({ kind: "delete-pod" as const, node, ...options });
/** cnpg: fence an instance (cnpg.io/fencedInstances); healed by unfencing. */
export const fence = (node: string) => ({ kind: "fence" as const, node });
/** cnpg: the Kubernetes node hosting an instance goes down (its kind node killed); healed by starting it again. */
export const nodeDown = (node: string) => ({ kind: "node-down" as const, node });
/** A planned switchover through the HA system: `kubectl cnpg promote`, `patronictl switchover`. */
export const switchover = (to = "replica") => ({ kind: "switchover" as const, to });
/** patroni: SIGKILL PostgreSQL alone (Patroni restarts it) or Patroni alone (the database runs on unmanaged); healed by starting it again. */
export const killProcess = (node: string, process: "postgres" | "ha-manager") => ({ kind: "kill-process" as const, node, process });
/** patroni: SIGSTOP PostgreSQL's postmaster or Patroni until healed. */
export const pauseProcess = (node: string, process: "postgres" | "ha-manager") => ({ kind: "pause-process" as const, node, process });
/** patroni: kill a majority (or all) of the etcd members; healed by starting them again. */
export const dcsOutage = (options: Options<typeof dcsOutageFault> = {}) => ({ kind: "dcs-outage" as const, ...options });
/** patroni: cut a node off from etcd only. */
export const dcsPartition = (node: string) => ({ kind: "dcs-partition" as const, node });
/** patroni: a manual failover, as `patronictl failover --candidate` does. */
export const failover = (to: Options<typeof failoverAction>["to"]) => ({ kind: "failover" as const, to });
/** patroni: maintenance mode (`patronictl pause` / `resume`). */
export const maintenance = (mode: "pause" | "resume") => ({ kind: "maintenance" as const, mode });

export type { ScenarioInput, Scenario } from "./scenario/schema.ts";
export type { RunResult, Metrics, Verdict } from "./result.ts";
export type { HistoryEvent } from "./history/events.ts";
export type { Duration, DurationText } from "./duration.ts";
export type { GateMetric, GateExpression, GateInput } from "./gate/metrics.ts";
