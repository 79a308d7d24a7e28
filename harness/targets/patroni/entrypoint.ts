/**
 * The command each container of the Patroni target runs: its tool (etcd, Patroni, HAProxy) started
 * from pgdrill's image with its configuration, announcing itself so the start-up can wait for it.
 */
import { PG_PORT } from "./config.ts";

/** What every entrypoint prints once its tool is starting. */
export const STARTING = /pgdrill-patroni: starting/;

/**
 * Each container's entrypoint: refuse an image without the tool, write the config from the
 * environment, exec the tool. `waitFor`: a PostgreSQL host to wait for first (bounded), so the
 * other nodes' Patroni starts once pg1 has bootstrapped the cluster and pg1 is the first leader.
 */
export function entrypoint(
  tool: "patroni" | "haproxy" | "etcd",
  config: string | null,
  exec: string,
  waitFor?: { host: string; seconds: number },
  child = false,
): string {
  const tries = waitFor ? Math.max(1, Math.ceil(waitFor.seconds * 10)) : 0;
  return [
    "set -eu",
    `command -v ${tool} >/dev/null || { echo "pgdrill-patroni: no ${tool} in this image: use pgdrill's local image (bash ` +
      `fixtures/image/build-local-image.sh) or set target.image to one with patroni, etcd, haproxy and PostgreSQL"; exit 3; }`,
    // The PostgreSQL binaries, Debian layout, for Patroni (which finds them on PATH).
    'bin=$(dirname "$(command -v postgres 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | ' +
      'tail -n 1 || echo /usr/bin/postgres)")',
    'PATH="$bin:$PATH"; export PATH',
    "umask 077",
    "mkdir -p /tmp/pgdrill",
    ...(config ? [`printf '%s\\n' "$PGDRILL_CONFIG" > ${config}`, "unset PGDRILL_CONFIG"] : []),
    `echo "pgdrill-patroni: starting ${tool} as $PGDRILL_NODE"`,
    ...(waitFor
      ? [
          "tries=0",
          `until pg_isready -q -h ${waitFor.host} -p ${PG_PORT}; do`,
          "  tries=$((tries + 1))",
          `  [ "$tries" -lt ${tries} ] || { echo "pgdrill-patroni: ${waitFor.host} did not bootstrap the cluster within ` +
            `${waitFor.seconds} s"; exit 1; }`,
          "  sleep 0.1",
          "done",
        ]
      : []),
    ...(child
      ? [
          // Patroni runs as a child, not as PID 1, so it can be killed or frozen alone while its
          // PostgreSQL runs on (unmanaged) and the container stays; the same script starts it again.
          // The PATH is written as it is now (with PostgreSQL's binaries), for a start from docker exec;
          // its output goes to PID 1's (the container's log), not to an exec session that ends.
          `printf '%s\\n' '#!/bin/sh' "PATH=$PATH; export PATH" '${exec} >/proc/1/fd/1 2>/proc/1/fd/2 &' 'echo $! > ` +
            `${MANAGER_PID}' > ${MANAGER_START}`,
          `chmod 700 ${MANAGER_START}`,
          MANAGER_START,
          "exec sleep infinity",
        ]
      : [`exec ${exec}`]),
  ].join("\n");
}

/** Where a node's entrypoint keeps Patroni's pid, and the script that starts it (again). */
export const MANAGER_PID = "/tmp/pgdrill/patroni.pid";
export const MANAGER_START = "/tmp/pgdrill/start-patroni.sh";
