/**
 * What the Patroni target's containers are told, as pure functions of the target's options: each
 * node's patroni.yml, HAProxy's haproxy.cfg, and etcd's command line. Nothing here starts anything,
 * so the unit tests read exactly what the containers get.
 */
import { stringify } from "yaml";
import { toMs } from "../../duration.ts";
import type { RecoveryTarget } from "../../history/events.ts";
import { deepMerge } from "../shared/merge.ts";
import { archiveSettings } from "../shared/pgbackrest.ts";
import { etcdMemberNames, patroniNodeNames, type PatroniTarget } from "./plugin.ts";
import { restoreBootstrap } from "./restore-bootstrap.ts";

export const PG_PORT = 5432;
export const REST_PORT = 8008;
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
/** HAProxy's listeners: rw (the primary), ro (the replicas), and its stats socket (`show stat`). */
export const HAPROXY_PORTS = { rw: 5000, ro: 5001, stats: 7000 } as const;
export const HAPROXY_NAME = "haproxy";
/** Patroni's cluster name (the DCS keys live under /service/pgdrill/). */
export const SCOPE = "pgdrill";
export const DATA_DIR = "/var/lib/postgresql/pgdrill";

export interface Secrets {
  superuser: string;
  replication: string;
}

/** bootstrap.dcs: the target's timings and modes, with the escape hatch merged over them. */
export function dcsConfig(spec: PatroniTarget): Record<string, unknown> {
  const generated: Record<string, unknown> = {
    ttl: spec.ttl,
    loop_wait: spec.loop_wait,
    retry_timeout: spec.retry_timeout,
    maximum_lag_on_failover: spec.maximum_lag_on_failover,
    synchronous_mode: spec.synchronous_mode,
    synchronous_mode_strict: spec.synchronous_mode_strict,
    failsafe_mode: spec.failsafe_mode,
    postgresql: {
      use_pg_rewind: spec.use_pg_rewind,
      use_slots: true,
      parameters: {
        wal_level: "replica",
        hot_standby: "on",
        max_wal_senders: 10,
        max_replication_slots: 10,
        wal_keep_size: "256MB",
        // pg_rewind needs hint bits in WAL (or data checksums) on the old primary.
        ...(spec.use_pg_rewind ? { wal_log_hints: "on" } : {}),
      },
    },
  };
  return deepMerge(generated, spec.patroni);
}

/**
 * One node's patroni.yml: REST API on 8008, the etcd3 DCS, PostgreSQL on 5432. With backups, WAL
 * archiving is in the node's own parameters (every member, whatever the DCS holds, a restored
 * cluster too); `restore`: the cluster bootstraps from the backup, to that target, not with initdb.
 */
export function patroniYaml(spec: PatroniTarget, node: string, secrets: Secrets, restore?: RecoveryTarget): string {
  const hosts = etcdMemberNames(spec).map((member) => `${member}:${ETCD_CLIENT_PORT}`);
  const config = {
    scope: SCOPE,
    namespace: "/service/",
    name: node,
    restapi: { listen: `0.0.0.0:${REST_PORT}`, connect_address: `${node}:${REST_PORT}` },
    etcd3: { hosts, protocol: "http" },
    bootstrap: {
      dcs: dcsConfig(spec),
      initdb: [{ encoding: "UTF8" }, { "auth-local": "trust" }, { "auth-host": "scram-sha-256" }],
      ...(restore ? restoreBootstrap(restore) : {}),
    },
    postgresql: {
      listen: `0.0.0.0:${PG_PORT}`,
      connect_address: `${node}:${PG_PORT}`,
      data_dir: DATA_DIR,
      pgpass: "/tmp/pgdrill-pgpass",
      use_unix_socket: true,
      authentication: {
        superuser: { username: "postgres", password: secrets.superuser },
        replication: { username: "replicator", password: secrets.replication },
      },
      // Patroni sets cluster_name to the scope itself. pgBackRest reaches PostgreSQL on this socket
      // (its pg1-socket-path default), as postgres, which pg_hba trusts locally.
      parameters: { unix_socket_directories: "/var/run/postgresql", ...(spec.backup ? archiveSettings(spec.backup) : {}) },
      pg_hba: ["local all all trust", "host replication replicator all scram-sha-256", "host all all all scram-sha-256"],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
    log: { level: "INFO" },
  };
  return stringify(config);
}

/**
 * haproxy.cfg, after Patroni's own example: rw sends clients to the server whose Patroni answers
 * 200 to GET /primary, ro to those answering 200 to GET /replica, both checked on the REST port;
 * a server marked down has its sessions shut, so clients of a demoted primary notice at once.
 */
export function haproxyConfig(spec: PatroniTarget): string {
  const { inter, fall, rise } = spec.haproxy;
  const interMs = toMs(inter);
  const servers = patroniNodeNames(spec).map((node) => `    server ${node} ${node}:${PG_PORT} check port ${REST_PORT}`);
  const listen = (name: "rw" | "ro", path: string, balance: string) => [
    `listen ${name}`,
    `    bind *:${HAPROXY_PORTS[name]}`,
    `    balance ${balance}`,
    `    option httpchk GET ${path}`,
    "    http-check expect status 200",
    `    default-server inter ${interMs}ms fall ${fall} rise ${rise} on-marked-down shutdown-sessions`,
    ...servers,
  ];
  return [
    "global",
    "    maxconn 2000",
    // `show stat` from the host, for the endpoint events; read-only level. With backups, admin: a
    // restore gives the nodes new containers, and new addresses (`set server … addr`).
    `    stats socket ipv4@0.0.0.0:${HAPROXY_PORTS.stats} level ${spec.backup ? "admin" : "user"}`,
    "",
    "defaults",
    "    mode tcp",
    "    retries 2",
    "    timeout connect 4s",
    "    timeout client 30m",
    "    timeout server 30m",
    // A check must answer within one interval, so a frozen node is seen as down on time.
    `    timeout check ${Math.max(100, Math.min(interMs, 2000))}ms`,
    // A server whose container is gone must not stop HAProxy from starting or reloading.
    "    default-server init-addr last,libc,none",
    "",
    ...listen("rw", "/primary", "first"),
    "",
    ...listen("ro", "/replica", "roundrobin"),
    "",
  ].join("\n");
}

/** etcd's arguments for one member of a new cluster (v3 API; the v2 API stays off, as 3.4 has it). */
export function etcdArguments(spec: PatroniTarget, member: string, clusterToken: string): string[] {
  const initialCluster = etcdMemberNames(spec)
    .map((name) => `${name}=http://${name}:${ETCD_PEER_PORT}`)
    .join(",");
  return [
    "etcd",
    `--name=${member}`,
    "--data-dir=/tmp/etcd",
    `--listen-client-urls=http://0.0.0.0:${ETCD_CLIENT_PORT}`,
    `--advertise-client-urls=http://${member}:${ETCD_CLIENT_PORT}`,
    `--listen-peer-urls=http://0.0.0.0:${ETCD_PEER_PORT}`,
    `--initial-advertise-peer-urls=http://${member}:${ETCD_PEER_PORT}`,
    `--initial-cluster=${initialCluster}`,
    "--initial-cluster-state=new",
    `--initial-cluster-token=${clusterToken}`,
    "--enable-v2=false",
    "--logger=zap",
  ];
}
