/**
 * The pg-auto-failover plugin: a pg_auto_failover formation in containers. A monitor (PostgreSQL
 * with the pgautofailover extension, run by `pg_autoctl`) and 2 to 4 data nodes, each run by its own
 * `pg_autoctl` keeper with PostgreSQL under it. The monitor's state machine, not pgdrill, decides
 * failovers; pgdrill kills, stops, freezes and cuts nodes, the keeper or the monitor off, and asks
 * the monitor for switchovers, failovers and maintenance through `pg_autoctl`. Its runtime is pgaf.ts.
 *
 * Settings keep pg_auto_failover's names and units, so a value can be copied as it is: the
 * monitor's `pgautofailover.*` GUCs in milliseconds, the keeper's `timeout.*` in seconds.
 */
import { z } from "zod";
import { duration } from "../../scenario/schema-parts.ts";
import { definePlugin, type AimedFault, type Path, type Report } from "../plugin.ts";
import { monitorEventShape } from "./events.ts";
import { monitorSigns } from "./mechanism.ts";
import { monitorChecker } from "./monitor-check.ts";
import { monitorRows } from "./report-rows.ts";
import { nodeMaintenanceAction, performAction } from "./actions/autoctl.ts";
import { monitorOutageFault } from "./faults/monitor-outage.ts";

/** The monitor's defaults (pg_auto_failover 2.0's GUCs, docs/ref/configuration.rst), in ms; each GUC's least value is 1 (pg_settings). */
export const MONITOR_DEFAULTS = {
  health_check_period: 5000,
  health_check_timeout: 5000,
  health_check_max_retries: 2,
  health_check_retry_delay: 2000,
  node_considered_unhealthy_timeout: 20_000,
  primary_demote_timeout: 30_000,
  startup_grace_period: 10_000,
} as const;

/** The keeper's defaults (pg_autoctl's `timeout.*` section), in seconds. */
export const KEEPER_DEFAULTS = {
  network_partition_timeout: 20,
  prepare_promotion_catchup: 30,
  prepare_promotion_walreceiver: 5,
  postgresql_restart_failure_timeout: 20,
  postgresql_restart_failure_max_retries: 3,
} as const;

/** A candidate priority pg_auto_failover accepts (0: never promoted). Its default is 50. */
const priority = z.number().int().min(0).max(100);
const nodeCount = z.number().int().min(2, { message: "must be at least 2: a failover needs a standby" }).max(4);

const ms = (what: string) =>
  z
    .number()
    .int({ message: `must be a whole number of milliseconds (${what}, as the pgautofailover GUC takes it)` })
    .min(1);
const seconds = (what: string) =>
  z
    .number()
    .int({ message: `must be a whole number of seconds (${what}, as pg_autoctl's config takes it)` })
    .min(1);

const monitorSettings = z
  .strictObject({
    health_check_period: ms("health_check_period")
      .default(MONITOR_DEFAULTS.health_check_period)
      .describe("Time between the monitor's health checks of each node (ms)."),
    health_check_timeout: ms("health_check_timeout")
      .default(MONITOR_DEFAULTS.health_check_timeout)
      .describe("How long one health check's connection may take (ms)."),
    health_check_max_retries: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(MONITOR_DEFAULTS.health_check_max_retries)
      .describe("Failed checks retried before the monitor marks a node unhealthy."),
    health_check_retry_delay: ms("health_check_retry_delay")
      .default(MONITOR_DEFAULTS.health_check_retry_delay)
      .describe("Time between those retries (ms)."),
    node_considered_unhealthy_timeout: ms("node_considered_unhealthy_timeout")
      .default(MONITOR_DEFAULTS.node_considered_unhealthy_timeout)
      .describe("How long a node whose checks fail must also have sent no report before the monitor acts on it (ms)."),
    primary_demote_timeout: ms("primary_demote_timeout")
      .default(MONITOR_DEFAULTS.primary_demote_timeout)
      .describe(
        "How long a promoted standby holds writes (stop_replication) waiting for the old primary to demote itself, " +
          "before it takes writes (wait_primary) (ms).",
      ),
    startup_grace_period: ms("startup_grace_period")
      .default(MONITOR_DEFAULTS.startup_grace_period)
      .describe("After the monitor starts, how long it waits before acting on failed health checks (ms)."),
  })
  .default({ ...MONITOR_DEFAULTS })
  .describe(
    "The monitor's pgautofailover.* settings, in milliseconds as the GUCs take them: when a failover starts and how long it holds writes.",
  );

const keeperSettings = z
  .strictObject({
    network_partition_timeout: seconds("timeout.network_partition_timeout")
      .default(KEEPER_DEFAULTS.network_partition_timeout)
      .describe("A primary that reaches neither the monitor nor any standby for this long demotes itself (s)."),
    prepare_promotion_catchup: seconds("timeout.prepare_promotion_catchup")
      .default(KEEPER_DEFAULTS.prepare_promotion_catchup)
      .describe("How long a standby being promoted may take to replay what it received (s)."),
    prepare_promotion_walreceiver: seconds("timeout.prepare_promotion_walreceiver")
      .default(KEEPER_DEFAULTS.prepare_promotion_walreceiver)
      .describe("How long a standby being promoted waits for its WAL receiver to stop (s)."),
    postgresql_restart_failure_timeout: seconds("timeout.postgresql_restart_failure_timeout")
      .default(KEEPER_DEFAULTS.postgresql_restart_failure_timeout)
      .describe("How long the keeper keeps restarting a PostgreSQL that fails before it gives up (s)."),
    postgresql_restart_failure_max_retries: z
      .number()
      .int()
      .min(1)
      .default(KEEPER_DEFAULTS.postgresql_restart_failure_max_retries)
      .describe("Restarts the keeper tries within that time."),
  })
  .default({ ...KEEPER_DEFAULTS })
  .describe("Each keeper's timeout.* settings (pg_autoctl config), in seconds.");

export const pgAutoFailoverTarget = z
  .strictObject({
    kind: z.literal("pg-auto-failover"),
    nodes: nodeCount.default(2).describe("Data nodes, each run by its own pg_autoctl keeper: node1, node2, …; node1 is the first primary."),
    monitor: monitorSettings,
    keeper: keeperSettings,
    replication_quorum: z
      .boolean()
      .default(true)
      .describe("Standbys take part in the synchronous replication quorum (pg_autoctl --replication-quorum; its default)."),
    candidate_priority: z
      .union([priority, z.record(z.string(), priority)])
      .default(50)
      .describe(
        "Each standby's candidate priority (0–100, 0: never promoted; pg_auto_failover's default is 50): one number for every " +
          "node, or by node, e.g. { node2: 100, node3: 0 }; nodes not named keep 50.",
      ),
    number_sync_standbys: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Standbys that must acknowledge each commit (the formation's number_sync_standbys; needs 3 nodes or more to be above 0)."),
    ssl: z
      .enum(["self-signed", "off"])
      .default("self-signed")
      .describe("Network encryption: self-signed certificates (pg_autoctl --ssl-self-signed, as it recommends), or off (--no-ssl)."),
    settings: z
      .strictObject({
        monitor: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
        nodes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
        keeper: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
      })
      .default({ monitor: {}, nodes: {}, keeper: {} })
      .describe(
        "The escape hatch for what pgdrill does not model: PostgreSQL settings for the monitor (appended to its postgresql.conf, e.g. " +
          '{ "pgautofailover.enable_sync_wal_log_threshold": 1024 }) and the data nodes, and pg_autoctl config keys for every ' +
          'keeper (e.g. { "timeout.listen_notifications_timeout": 5 }).',
      ),
    image: z
      .string()
      .min(1)
      .optional()
      .describe("Image with pg_autoctl, the pgautofailover extension and PostgreSQL (Debian layout). Default: pgdrill/postgres:15-local."),
    startupTimeout: duration
      .default("120s")
      .describe("How long to wait for the formation: the monitor up, node1 primary, every standby secondary."),
  })
  .describe(
    "A pg_auto_failover formation: a monitor and 2–4 data nodes, each run by pg_autoctl, in containers on a private Docker network. " +
      "Clients " +
      "connect with the multi-host URL `pg_autoctl show uri` gives.",
  );

export type PgAutoFailoverTarget = z.output<typeof pgAutoFailoverTarget>;

/** node1, node2, …: the data nodes, and their pg_auto_failover names. */
export function pgafNodeNames(spec: Pick<PgAutoFailoverTarget, "nodes">): string[] {
  return Array.from({ length: spec.nodes }, (_, i) => `node${i + 1}`);
}

/** The monitor's name, as a step aims at it (`kill: { node: monitor }`). */
export const MONITOR = "monitor";

/** Each node's candidate priority, from the one number or the map (nodes not named keep pg_auto_failover's 50). */
export function candidatePriority(spec: Pick<PgAutoFailoverTarget, "candidate_priority">, node: string): number {
  const { candidate_priority: priorities } = spec;
  return typeof priorities === "number" ? priorities : (priorities[node] ?? 50);
}

/** The keys the options model, which the escape hatch may not set behind their back. */
const MODELLED = {
  monitor: Object.keys(MONITOR_DEFAULTS).map((key) => `pgautofailover.${key}`),
  keeper: Object.keys(KEEPER_DEFAULTS).map((key) => `timeout.${key}`),
} as const;

/** Problems with the target's own settings, each with its field and fix. */
export function targetProblems(spec: PgAutoFailoverTarget, report: Report): void {
  const names = pgafNodeNames(spec);
  if (typeof spec.candidate_priority !== "number") {
    for (const node of Object.keys(spec.candidate_priority)) {
      if (!names.includes(node))
        report(
          ["target", "candidate_priority", node],
          `names no node (the nodes are ${names.join(", ")})`,
          "Name a data node, or drop it.",
        );
    }
  }
  const standbys = spec.nodes - 1;
  if (spec.number_sync_standbys > 0 && standbys < spec.number_sync_standbys + 1) {
    report(
      ["target", "number_sync_standbys"],
      `is ${spec.number_sync_standbys} with ${standbys} standby${standbys === 1 ? "" : "s"}: ` +
        "pg_auto_failover needs number_sync_standbys + 1 " +
        "standbys in the replication quorum",
      `Raise target.nodes to ${spec.number_sync_standbys + 2}, or lower number_sync_standbys to ${Math.max(0, standbys - 1)}.`,
    );
  }
  if (spec.number_sync_standbys > 0 && !spec.replication_quorum) {
    report(
      ["target", "number_sync_standbys"],
      "needs standbys in the replication quorum, and replication_quorum is false",
      "Set replication_quorum: true, or number_sync_standbys: 0.",
    );
  }
  if (names.every((node) => candidatePriority(spec, node) === 0)) {
    report(
      ["target", "candidate_priority"],
      "is 0 for every node: pg_auto_failover refuses a formation with no candidate",
      "Give at least two nodes a priority above 0.",
    );
  }
  for (const [part, keys] of Object.entries(MODELLED) as Array<[keyof typeof MODELLED, readonly string[]]>) {
    for (const key of keys) {
      if (key in spec.settings[part]) {
        const option = key.slice(key.indexOf(".") + 1);
        report(["target", "settings", part, key], "is one of the target's own options", `Set target.${part}.${option} instead.`);
      }
    }
  }
}

/** The monitor is one process tree, PID 1's child: it is killed, stopped or frozen whole, not a process of it alone. */
function checkMonitorAim(fault: AimedFault, path: Path, report: Report): boolean {
  const aim = fault.aims.find((candidate) => candidate.node === MONITOR);
  if (aim === undefined || (fault.kind !== "kill-process" && fault.kind !== "pause-process")) return false;
  report(
    [...path, ...aim.path],
    `${fault.kind} aims at a data node's keeper or PostgreSQL, not the monitor`,
    `Use kill, stop or pause with node: ${MONITOR}.`,
  );
  return true;
}

export const pgAutoFailoverPlugin = definePlugin({
  kind: "pg-auto-failover",
  options: pgAutoFailoverTarget,
  nodes: pgafNodeNames,
  // Resolved when the step runs: the primary then (asked of the nodes themselves), a standby, the monitor's container.
  roles: ["primary", "replica", MONITOR],
  capabilities: ["kill", "stop", "freeze", "network", "shaping", "processes", "switchover", "monitor", "autoctl"],
  faults: [monitorOutageFault],
  actions: [performAction, nodeMaintenanceAction],
  probeEndpoints: (spec) => ["rw", "ro", ...pgafNodeNames(spec), "every-node"],
  // A killed container stays down (the keeper restarts PostgreSQL after a stop, but nothing restarts the keeper).
  restartsNodes: false,
  onDocker: true,
  strategy: "pg_auto_failover",
  check: (spec, _parts, report) => targetProblems(spec, report),
  checkFault: (_spec, fault, path, report) => checkMonitorAim(fault, path, report),
  // What its observer records from the monitor's tables (observer.ts).
  observations: { monitor: monitorEventShape },
  checks: { monitor: monitorChecker },
  reportRows: monitorRows,
  mechanism: monitorSigns,
});
