#!/bin/sh
# pgdrill's own bootstrap for a primary, a streaming standby or a PgBouncer pooler. It needs only
# the PostgreSQL server binaries (Debian layout or on PATH) — or pgbouncer, for the pooler — and
# runs as the postgres user, so it works with the official postgres images and with pgdrill's
# local image alike, whatever their entrypoint.
set -eu
log() { echo "pgdrill-bootstrap: $*"; }

if [ "$PGDRILL_ROLE" = pooler ]; then
  pgbouncer=$(command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer)
  [ -x "$pgbouncer" ] || { log "no pgbouncer in this image: install Debian's pgbouncer package or set target.pooler.image"; exit 3; }
  dir=/tmp/pgbouncer
  mkdir -p "$dir"
  # PgBouncer checks clients with SCRAM against this password and logs in to the server with it.
  printf '"postgres" "%s"\n' "$PGDRILL_SUPERUSER_PASSWORD" > "$dir/userlist.txt"
  chmod 600 "$dir/userlist.txt"
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=$PGDRILL_POOL_BACKEND port=5432
[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = $PGDRILL_POOL_MODE
default_pool_size = $PGDRILL_POOL_SIZE
max_client_conn = 500
; pg sends these at start-up; PgBouncer cannot pass them through per transaction.
ignore_startup_parameters = extra_float_digits,statement_timeout,options
$(printf '%b' "${PGDRILL_POOL_SETTINGS:-}")
INI
  log "pooler ($PGDRILL_POOL_MODE mode) in front of $PGDRILL_POOL_BACKEND"
  exec "$pgbouncer" "$dir/pgbouncer.ini"
fi

bin=$(dirname "$(command -v postgres 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)")
PATH="$bin:$PATH"
export PATH
PGDATA=${PGDRILL_PGDATA:-/var/lib/postgresql/pgdrill}
export PGDATA

if [ "$PGDRILL_ROLE" = restore ]; then
  # A fresh node from the backup repository (pgBackRest's settings come in PGBACKREST_*): the
  # restore options arrive one per line, as a time target holds a space.
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  started=$(date +%s%3N)
  set -f
  old_ifs=$IFS
  IFS='
'
  # shellcheck disable=SC2086 # split on newlines only, on purpose
  set -- $PGDRILL_RESTORE_ARGS
  IFS=$old_ifs
  set +f
  if ! pgbackrest --log-level-console=info restore "$@" >/tmp/pgdrill-restore.log 2>&1; then
    cat /tmp/pgdrill-restore.log
    log "restore failed"
    exit 4
  fi
  set=$(sed -n 's/.*restore backup set \([^ ,]*\).*/\1/p' /tmp/pgdrill-restore.log | head -n 1)
  log "restored backup set ${set:-?} in $(($(date +%s%3N) - started)) ms"
elif [ "$PGDRILL_ROLE" = primary ]; then
  # pgdrill's local image carries an empty cluster made at build time: copying it is ~1.5 s faster
  # than initdb. Any other image (the official ones) gets initdb.
  template=/var/lib/postgresql/template
  major=$(postgres --version | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p')
  if [ -f "$template/PG_VERSION" ] && [ "$(cat "$template/PG_VERSION")" = "$major" ]; then
    cp -a "$template" "$PGDATA"
    superuser_sql="ALTER ROLE postgres PASSWORD '$PGDRILL_SUPERUSER_PASSWORD';"
  else
    pwfile=$(mktemp)
    printf '%s\n' "$PGDRILL_SUPERUSER_PASSWORD" > "$pwfile"
    initdb --no-sync -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    superuser_sql=""
  fi
  cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
hot_standby = on
synchronous_standby_names = '${PGDRILL_SYNC_NAMES:-}'
cluster_name = '$PGDRILL_NODE'
CONF
  # Settings the target adds (WAL archiving into the backup repository), one per line.
  [ -z "${PGDRILL_EXTRA_CONF:-}" ] || printf '%b\n' "$PGDRILL_EXTRA_CONF" >>"$PGDATA/postgresql.conf"
  cat >> "$PGDATA/pg_hba.conf" <<HBA
host replication replicator all scram-sha-256
host all all all scram-sha-256
HBA
  # Single-user mode sets the run's passwords without opening a port (one statement per line);
  # with no standby yet, a synchronous commit here would wait forever, so it is off for this session.
  printf '%s\n' "$superuser_sql" "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$PGDRILL_REPLICATION_PASSWORD';" \
    | postgres --single -D "$PGDATA" -c synchronous_standby_names= postgres >/dev/null
  log "primary initialised"
else
  export PGPASSWORD="$PGDRILL_REPLICATION_PASSWORD"
  tries=0
  until pg_isready -q -h "$PGDRILL_PRIMARY_HOST" -p 5432; do
    tries=$((tries + 1))
    [ "$tries" -lt 1200 ] || { log "primary $PGDRILL_PRIMARY_HOST not ready after 60 s"; exit 1; }
    sleep 0.05
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
