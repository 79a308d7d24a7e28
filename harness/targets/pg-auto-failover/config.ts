/**
 * What the pg-auto-failover target's containers run, as pure functions of the target's options:
 * the monitor's and each data node's start script, the settings they are given, and the monitor's
 * URI. Nothing here starts anything, so the unit tests read exactly what the containers get.
 *
 * Each data node's keeper (`pg_autoctl run`) runs as a child the script starts and leaves, not as
 * PID 1, so it can be killed or frozen alone while its PostgreSQL runs on, and the same script
 * starts it again; the engine's init (tini) reaps what a killed keeper leaves.
 */
import { candidatePriority, MONITOR, pgafNodeNames, type PgAutoFailoverTarget } from "./plugin.ts";

export const PG_PORT = 5432;
export const DATA_DIR = "/var/lib/postgresql/pgaf";
export const MONITOR_DATA_DIR = "/var/lib/postgresql/monitor";
export const FORMATION = "default";
/** The script that starts a data node's keeper (again); the keeper is found by name (pg_autoctl), not by a pid file. */
export const KEEPER_START = "/tmp/pgdrill/start-keeper.sh";
/** The monitor's start script: `pg_autoctl run` as a child, so a monitor-outage can kill it and its heal start it again. */
export const MONITOR_START = "/tmp/pgdrill/start-monitor.sh";
/** What every start script prints once its pg_autoctl is starting. */
export const STARTING = /pgdrill-pgaf: starting/;
/** What the monitor's script prints once `pg_autoctl run` serves the monitor with its settings. */
export const MONITOR_READY = /pgdrill-pgaf: the monitor is ready/;

type Setting = string | number | boolean;

/** The URI data nodes register with, as `pg_autoctl show uri --monitor` would give it on the private network. */
export function monitorUri(spec: Pick<PgAutoFailoverTarget, "ssl">): string {
  return `postgres://autoctl_node@${MONITOR}:${PG_PORT}/pg_auto_failover?sslmode=${spec.ssl === "off" ? "disable" : "require"}`;
}

/** The monitor's postgresql.conf lines: the modelled pgautofailover.* settings, then the escape hatch's. */
export function monitorConf(spec: PgAutoFailoverTarget): string[] {
  const modelled = Object.entries(spec.monitor).map(([key, value]) => confLine(`pgautofailover.${key}`, value));
  return [...modelled, ...Object.entries(spec.settings.monitor).map(([key, value]) => confLine(key, value))];
}

/** The data nodes' own postgresql.conf lines (the escape hatch's). */
export function nodeConf(spec: PgAutoFailoverTarget): string[] {
  return Object.entries(spec.settings.nodes).map(([key, value]) => confLine(key, value));
}

/** Each keeper's `pg_autoctl config set` pairs: the modelled timeout.* settings, then the escape hatch's. */
export function keeperSettings(spec: PgAutoFailoverTarget): Array<[string, string]> {
  const modelled = Object.entries(spec.keeper).map(([key, value]): [string, string] => [`timeout.${key}`, String(value)]);
  return [...modelled, ...Object.entries(spec.settings.keeper).map(([key, value]): [string, string] => [key, String(value)])];
}

function confLine(key: string, value: Setting): string {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(key)) throw new Error(`"${key}" is not a PostgreSQL setting name`);
  return typeof value === "string" ? `${key} = '${value.replaceAll("'", "''")}'` : `${key} = ${String(value)}`;
}

/** Single-quoted for sh. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const sslFlag = (spec: Pick<PgAutoFailoverTarget, "ssl">) => (spec.ssl === "off" ? "--no-ssl" : "--ssl-self-signed");
const noTool =
  "command -v pg_autoctl >/dev/null || { echo \"pgdrill-pgaf: no pg_autoctl in this image: use pgdrill's local image (bash " +
  'fixtures/image/build-local-image.sh) or set target.image to one with pg_auto_failover"; exit 3; }';

/** Waits for a PostgreSQL host, a tenth of a second at a time, at most `seconds`. */
function waitFor(host: string, seconds: number, what: string): string[] {
  return [
    "tries=0",
    `until pg_isready -q -h ${host} -p ${PG_PORT}; do`,
    "  tries=$((tries + 1))",
    `  [ "$tries" -lt ${Math.max(1, seconds * 10)} ] || { echo "pgdrill-pgaf: ${what} within ${seconds} s"; exit 1; }`,
    "  sleep 0.1",
    "done",
  ];
}

/**
 * The monitor: `pg_autoctl create monitor`, its settings appended (the last value of a setting in
 * postgresql.conf wins), a rule that lets pgdrill's observer in from this machine (it reads the
 * monitor's tables; the port is published on 127.0.0.1 only), then `pg_autoctl run` as a child the
 * start script leaves (a monitor-outage kills it, its heal runs the script again). Ready only once
 * that run serves: `create` starts PostgreSQL and stops it again, and a node that registered in
 * between failed its create (seen: 1 start in 5, "the database system is shutting down").
 */
export function monitorScript(spec: PgAutoFailoverTarget): string {
  return [
    "set -eu",
    noTool,
    "umask 077",
    "mkdir -p /tmp/pgdrill",
    `echo "pgdrill-pgaf: starting the monitor"`,
    `pg_autoctl create monitor --pgdata ${MONITOR_DATA_DIR} --pgport ${PG_PORT} --hostname ${MONITOR} --auth trust ${sslFlag(spec)}`,
    `printf '%s\\n' ${monitorConf(spec).map(shellQuote).join(" ")} >> ${MONITOR_DATA_DIR}/postgresql.conf`,
    `echo 'host pg_auto_failover autoctl_node all trust' >> ${MONITOR_DATA_DIR}/pg_hba.conf`,
    `printf '%s\\n' '#!/bin/sh' 'pg_autoctl run --pgdata ${MONITOR_DATA_DIR} >/proc/1/fd/1 2>/proc/1/fd/2 &' > ${MONITOR_START}`,
    `chmod 700 ${MONITOR_START}`,
    MONITOR_START,
    ...waitFor("/var/run/postgresql", 60, "the monitor's PostgreSQL did not start"),
    `echo "pgdrill-pgaf: the monitor is ready"`,
    "exec sleep infinity",
  ].join("\n");
}

/**
 * A data node: wait for the monitor (and, but for node1, for node1, so node1 is the first primary),
 * `pg_autoctl create postgres` with its priority and quorum, the keeper's settings, PostgreSQL's,
 * a password rule for clients, then the keeper started as a child. node1 sets the superuser's
 * password (from the environment, never the command line) once its PostgreSQL runs: standbys get
 * it by replication.
 */
export function nodeScript(spec: PgAutoFailoverTarget, node: string, startupSeconds: number): string {
  const first = pgafNodeNames(spec)[0]!;
  const conf = nodeConf(spec);
  return [
    "set -eu",
    noTool,
    "umask 077",
    "mkdir -p /tmp/pgdrill",
    `echo "pgdrill-pgaf: starting ${node}"`,
    ...waitFor(MONITOR, startupSeconds, "the monitor did not answer"),
    ...(node === first ? [] : waitFor(first, startupSeconds, `${first} did not start`)),
    [
      `pg_autoctl create postgres --pgdata ${DATA_DIR} --pgport ${PG_PORT} --hostname ${node} --name ${node}`,
      `--monitor ${shellQuote(monitorUri(spec))} --auth trust ${sslFlag(spec)} --dbname postgres`,
      `--candidate-priority ${candidatePriority(spec, node)} --replication-quorum ${spec.replication_quorum}`,
    ].join(" "),
    ...keeperSettings(spec).map(
      ([key, value]) => `pg_autoctl config set --pgdata ${DATA_DIR} ${shellQuote(key)} ${shellQuote(value)} >/dev/null`,
    ),
    ...(conf.length > 0 ? [`printf '%s\\n' ${conf.map(shellQuote).join(" ")} >> ${DATA_DIR}/postgresql.conf`] : []),
    `echo 'host all postgres all scram-sha-256' >> ${DATA_DIR}/pg_hba.conf`,
    // Its output goes to PID 1's (the container's log), also when it is started again from docker exec.
    `printf '%s\\n' '#!/bin/sh' 'pg_autoctl run --pgdata ${DATA_DIR} >/proc/1/fd/1 2>/proc/1/fd/2 &' > ${KEEPER_START}`,
    `chmod 700 ${KEEPER_START}`,
    KEEPER_START,
    ...(node === first
      ? [
          // psql interpolates :'pw' only in what it reads, not in -c; tried again while the keeper restarts PostgreSQL at start.
          "tries=0",
          `until printf '%s\\n' "ALTER ROLE postgres PASSWORD :'pw';" | ` +
            `psql -q -h /var/run/postgresql -d postgres -v pw="$PGDRILL_PASSWORD" 2>/dev/null; do`,
          "  tries=$((tries + 1))",
          `  [ "$tries" -lt ${Math.max(1, startupSeconds * 5)} ] || { echo "pgdrill-pgaf: ${node} could not set the password"; exit 1; }`,
          "  sleep 0.2",
          "done",
          `echo "pgdrill-pgaf: ${node} set the password"`,
        ]
      : []),
    "unset PGDRILL_PASSWORD",
    "exec sleep infinity",
  ].join("\n");
}
