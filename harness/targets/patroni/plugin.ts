/**
 * The Patroni plugin: N PostgreSQL nodes, each run by Patroni, an etcd cluster as Patroni's DCS
 * and HAProxy in front, routing by Patroni's REST health checks, all in containers. Patroni, not
 * pgdrill, decides failovers; pgdrill kills, stops, freezes and cuts nodes off, and asks Patroni for
 * switchovers. Its runtime is patroni.ts.
 *
 * Patroni's own settings keep Patroni's names (`ttl`, `loop_wait`, `maximum_lag_on_failover`, …)
 * and defaults, so a value can be copied from a patroni.yml as it is.
 */
import { z } from "zod";
import { backupOptions, backupsOff } from "../../scenario/backup.ts";
import { duration } from "../../scenario/schema-parts.ts";
import { definePlugin, type Report } from "../plugin.ts";
import { haEventShape } from "./events.ts";
import { haManagerSigns } from "./mechanism.ts";
import { failoverAction, maintenanceAction } from "./actions/manager.ts";
import { dcsOutageFault, dcsPartitionFault } from "./faults/dcs.ts";

/** Patroni's defaults (patroni/config.py, docs/dynamic_configuration.rst). */
export const PATRONI_DEFAULTS = { ttl: 30, loop_wait: 10, retry_timeout: 10, maximum_lag_on_failover: 1_048_576 } as const;
/** HAProxy's own defaults for a server's check (`inter 2s`, `fall 3`, `rise 2`). */
export const HAPROXY_CHECK_DEFAULTS = { inter: "2s", fall: 3, rise: 2 } as const;

/** The settings the options model, which the `patroni` escape hatch may not set behind their back. */
export const MODELLED_DCS_KEYS = [
  "ttl",
  "loop_wait",
  "retry_timeout",
  "maximum_lag_on_failover",
  "synchronous_mode",
  "synchronous_mode_strict",
  "failsafe_mode",
] as const;

const seconds = (what: string) => z.number().int({ message: `must be a whole number of seconds (${what})` });

export const patroniTarget = z
  .strictObject({
    kind: z.literal("patroni"),
    nodes: z
      .number()
      .int()
      .min(2, { message: "must be at least 2: a failover needs a replica" })
      .max(5)
      .default(3)
      .describe("PostgreSQL nodes, each run by Patroni: pg1, pg2, …"),
    dcs: z
      .strictObject({
        members: z
          .number()
          .int()
          .min(1)
          .max(5)
          .refine((n) => n % 2 === 1, {
            message: "must be 1, 3 or 5: an even etcd cluster survives no more failures than one member fewer",
          })
          .default(3)
          .describe("etcd members (etcd1, …). 1 is allowed: no DCS redundancy, quicker to start."),
      })
      .default({ members: 3 })
      .describe("Patroni's DCS: an etcd cluster (v3 API), one container per member."),
    ttl: seconds("ttl")
      .min(1)
      .default(PATRONI_DEFAULTS.ttl)
      .describe(
        "Seconds the leader key lives without renewal: how long before a failover starts. Patroni's rule: loop_wait + 2 * " +
          "retry_timeout <= ttl (Patroni 3.2+ also raises a ttl below 20 to 20).",
      ),
    loop_wait: seconds("loop_wait").min(1).default(PATRONI_DEFAULTS.loop_wait).describe("Seconds Patroni's HA loop sleeps between runs."),
    retry_timeout: seconds("retry_timeout")
      .min(1)
      .default(PATRONI_DEFAULTS.retry_timeout)
      .describe("Seconds DCS and PostgreSQL operations are retried before the leader demotes itself."),
    maximum_lag_on_failover: z
      .number()
      .int()
      .min(0)
      .default(PATRONI_DEFAULTS.maximum_lag_on_failover)
      .describe("Bytes a replica may lag and still take part in the leader race."),
    synchronous_mode: z
      .boolean()
      .default(false)
      .describe("Patroni manages synchronous_standby_names: only the leader or a synchronous replica may become leader."),
    synchronous_mode_strict: z
      .boolean()
      .default(false)
      .describe("With synchronous_mode: writes block rather than run without a synchronous replica."),
    failsafe_mode: z
      .boolean()
      .default(false)
      .describe("DCS failsafe mode: the leader stays primary while the DCS is down, if every member still answers it."),
    use_pg_rewind: z
      .boolean()
      .default(false)
      .describe("A former primary rejoins with pg_rewind instead of a new base backup (pgdrill turns on wal_log_hints for it)."),
    haproxy: z
      .strictObject({
        inter: duration.default(HAPROXY_CHECK_DEFAULTS.inter).describe("Time between health checks of each server."),
        fall: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(HAPROXY_CHECK_DEFAULTS.fall)
          .describe("Failed checks before a server is marked down."),
        rise: z.number().int().min(1).max(100).default(HAPROXY_CHECK_DEFAULTS.rise).describe("Passed checks before a server is marked up."),
      })
      .default({ ...HAPROXY_CHECK_DEFAULTS })
      .describe(
        "HAProxy's checks of Patroni's REST API (GET /primary for rw, /replica for ro, port 8008): a failover reaches " +
          "clients after `fall` failed checks on the old primary and `rise` passed ones on the new.",
      ),
    patroni: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        "Merged over the generated bootstrap.dcs as-is (deeply): the escape hatch for Patroni settings pgdrill does not " +
          "model, e.g. { postgresql: { parameters: { max_connections: 200 } } }.",
      ),
    image: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Image with patroni, etcd, haproxy and PostgreSQL (Debian layout). Default: pgdrill's local image, pgdrill/postgres:15-local.",
      ),
    backup: backupOptions.optional(),
    startupTimeout: duration
      .default("120s")
      .describe("How long to wait for the cluster to become healthy: a leader, every replica streaming, HAProxy's rw up."),
  })
  .describe(
    "A Patroni cluster: PostgreSQL nodes run by Patroni, etcd as its DCS and HAProxy in front, in containers on a private Docker network.",
  );

export type PatroniTarget = z.output<typeof patroniTarget>;

/** pg1, pg2, …: the PostgreSQL nodes, and Patroni's member names. */
export function patroniNodeNames(spec: Pick<PatroniTarget, "nodes">): string[] {
  return Array.from({ length: spec.nodes }, (_, i) => `pg${i + 1}`);
}

/** etcd1, etcd2, …: the DCS members. */
export function etcdMemberNames(spec: Pick<PatroniTarget, "dcs">): string[] {
  return Array.from({ length: spec.dcs.members }, (_, i) => `etcd${i + 1}`);
}

/**
 * Problems with the target's own settings, each with its field and fix. Patroni's rule
 * (docs/dynamic_configuration.rst) is `loop_wait + 2 * retry_timeout <= ttl`: the leader must get
 * a full loop and two DCS retries before its key expires. Patroni 3.2+ quietly lowers loop_wait or
 * retry_timeout to meet it and 3.0 does not check it at all; pgdrill refuses it, so a drill runs
 * with the timings it names.
 */
export function targetProblems(spec: PatroniTarget, report: Report): void {
  const { ttl, loop_wait, retry_timeout } = spec;
  if (loop_wait + 2 * retry_timeout > ttl) {
    const ttlNeeded = loop_wait + 2 * retry_timeout;
    const retryFits = Math.floor((ttl - loop_wait) / 2);
    const fixes = [`raise ttl to ${ttlNeeded}`];
    if (retryFits >= 1) fixes.push(`lower retry_timeout to ${retryFits}`);
    if (ttl - 2 * retry_timeout >= 1) fixes.push(`lower loop_wait to ${ttl - 2 * retry_timeout}`);
    report(
      ["target", "ttl"],
      `loop_wait + 2 * retry_timeout (${loop_wait} + 2 * ${retry_timeout} = ${ttlNeeded}) is more than ttl (${ttl}): Patroni ` +
        `requires loop_wait + 2 * retry_timeout <= ttl`,
      `${capitalise(fixes.join(", or "))}.`,
    );
  }
  if (spec.synchronous_mode_strict && !spec.synchronous_mode) {
    report(
      ["target", "synchronous_mode_strict"],
      "has no effect without synchronous_mode",
      "Set synchronous_mode: true as well, or drop synchronous_mode_strict.",
    );
  }
  for (const key of MODELLED_DCS_KEYS) {
    if (key in spec.patroni)
      report(
        ["target", "patroni", key],
        `is one of the target's own options`,
        `Set target.${key} instead (the escape hatch is for settings pgdrill does not model).`,
      );
  }
  const postgresql = spec.patroni["postgresql"];
  if (isRecord(postgresql) && "use_pg_rewind" in postgresql) {
    report(["target", "patroni", "postgresql", "use_pg_rewind"], "is one of the target's own options", "Set target.use_pg_rewind instead.");
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const patroniPlugin = definePlugin({
  kind: "patroni",
  options: patroniTarget,
  nodes: patroniNodeNames,
  // Resolved when the step runs, from Patroni's REST API: the leader then, a running replica.
  roles: ["primary", "replica"],
  capabilities: ["kill", "stop", "freeze", "network", "shaping", "processes", "dcs", "switchover", "manager", "backup", "disaster"],
  unavailable: (spec, capability) => backupsOff(spec.backup, capability),
  faults: [dcsOutageFault, dcsPartitionFault],
  actions: [failoverAction, maintenanceAction],
  probeEndpoints: (spec) => ["rw", "ro", ...patroniNodeNames(spec), "every-node"],
  // A killed container stays down: nothing restarts it (Patroni restarts PostgreSQL after a stop, but not itself).
  restartsNodes: false,
  onDocker: true,
  strategy: "Patroni",
  check: (spec, _parts, report) => targetProblems(spec, report),
  // What its observer records from Patroni's REST APIs (observer.ts).
  observations: { ha: haEventShape },
  mechanism: haManagerSigns,
});
