#!/bin/sh
# pgdrill's own bootstrap for a primary or a streaming standby. It needs only the PostgreSQL
# server binaries (Debian layout or on PATH) and runs as the postgres user, so it works with the
# official postgres images and with pgdrill's local image alike, whatever their entrypoint.
set -eu
log() { echo "pgdrill-bootstrap: $*"; }

bin=$(dirname "$(command -v postgres 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)")
PATH="$bin:$PATH"
export PATH
PGDATA=${PGDRILL_PGDATA:-/var/lib/postgresql/pgdrill}
export PGDATA

if [ "$PGDRILL_ROLE" = primary ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$PGDRILL_SUPERUSER_PASSWORD" > "$pwfile"
  initdb --no-sync -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
hot_standby = on
synchronous_standby_names = '${PGDRILL_SYNC_NAMES:-}'
cluster_name = '$PGDRILL_NODE'
CONF
  cat >> "$PGDATA/pg_hba.conf" <<HBA
host replication replicator all scram-sha-256
host all all all scram-sha-256
HBA
  # Single-user mode creates the replication role without opening a port; with no standby yet,
  # a synchronous commit here would wait forever, so it is switched off for this one session.
  echo "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$PGDRILL_REPLICATION_PASSWORD';" \
    | postgres --single -D "$PGDATA" -c synchronous_standby_names= postgres >/dev/null
  log "primary initialised"
else
  export PGPASSWORD="$PGDRILL_REPLICATION_PASSWORD"
  tries=0
  until pg_isready -q -h "$PGDRILL_PRIMARY_HOST" -p 5432; do
    tries=$((tries + 1))
    [ "$tries" -lt 300 ] || { log "primary $PGDRILL_PRIMARY_HOST not ready after 60 s"; exit 1; }
    sleep 0.2
  done
  pg_basebackup -h "$PGDRILL_PRIMARY_HOST" -p 5432 -U replicator -D "$PGDATA" -X stream -c fast --no-sync
  unset PGPASSWORD
  touch "$PGDATA/standby.signal"
  cat >> "$PGDATA/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$PGDRILL_PRIMARY_HOST port=5432 user=replicator password=$PGDRILL_REPLICATION_PASSWORD application_name=$PGDRILL_NODE'
cluster_name = '$PGDRILL_NODE'
synchronous_standby_names = ''
CONF
  log "standby cloned from $PGDRILL_PRIMARY_HOST"
fi
exec postgres -D "$PGDATA"
