/**
 * A Patroni cluster restored from the backup repository, as Patroni documents it (replica_bootstrap,
 * "Bootstrap"): the cluster's state is removed from the DCS (`patronictl remove`), and fresh nodes
 * start with a custom bootstrap method whose command is `pgbackrest restore`. The member that takes
 * the initialize key runs it, keeps pgBackRest's recovery settings (keep_existing_recovery_conf),
 * replays the archived WAL to the target and promotes; the others clone from it as replicas do.
 * Pure: what the containers are told, so the unit tests read it.
 */
import type { RecoveryTarget } from "../../history/events.ts";
import { restoreArguments } from "../shared/pgbackrest.ts";

/** Patroni's name for the bootstrap method, a key of `bootstrap`. */
export const RESTORE_METHOD = "pgbackrest";
/** Where a restored node's container gets the bootstrap script (copied in before it starts). */
export const RESTORE_SCRIPT_PATH = "/tmp/pgdrill-restore.sh";
/** What the script prints once pgBackRest restored the files: the backup set, the copy's own time, the data directory's size. */
export const RESTORED = /pgdrill-patroni: restored backup set (\S+) in (\d+) ms, (\d+) bytes/;
export const RESTORE_FAILED = /pgdrill-patroni: restore failed/;

/**
 * The bootstrap command. pgBackRest's settings come in PGBACKREST_* (the container's environment,
 * which Patroni hands its child); its output goes to the container's log through Patroni's.
 */
export const RESTORE_SCRIPT = `#!/bin/sh
# Patroni's custom bootstrap on a restored node: pgBackRest restores into the empty data directory and
# writes its recovery settings (restore_command, the target, recovery.signal), which Patroni keeps.
set -u
mkdir -p "$PGBACKREST_PG1_PATH" && chmod 700 "$PGBACKREST_PG1_PATH" || exit 4
started=$(date +%s%3N)
if ! pgbackrest --log-level-console=info restore "$@" >/tmp/pgdrill-restore.log 2>&1; then
  cat /tmp/pgdrill-restore.log
  echo "pgdrill-patroni: restore failed"
  exit 4
fi
took=$(($(date +%s%3N) - started))
set=$(sed -n 's/.*restore backup set \\([^ ,]*\\).*/\\1/p' /tmp/pgdrill-restore.log | head -n 1)
size=$(du -sb "$PGBACKREST_PG1_PATH" | cut -f 1)
echo "pgdrill-patroni: restored backup set \${set:-?} in $took ms, \${size:-0} bytes"
`;

/**
 * The `bootstrap` keys that make a node bootstrap from the backup: method, and the method's command
 * (Patroni splits it as a shell would, and passes no --scope/--datadir with no_params).
 */
export function restoreBootstrap(target: RecoveryTarget): Record<string, unknown> {
  return {
    method: RESTORE_METHOD,
    [RESTORE_METHOD]: {
      command: ["/bin/sh", RESTORE_SCRIPT_PATH, ...restoreArguments(target)].map(shellWord).join(" "),
      no_params: true,
      // pgBackRest wrote restore_command and the target into postgresql.auto.conf, and recovery.signal:
      // Patroni leaves them (it turns hot_standby off until the end of recovery, and drops them after).
      keep_existing_recovery_conf: true,
    },
  };
}

/**
 * `patronictl remove <scope>` against the DCS, answering its three questions (the scope, the
 * sentence, and the leader when a leader key is still there: its holder's lease may not have run
 * out yet). Patroni 3.0's --dcs-url knows etcd's v2 API only, so patronictl gets a configuration
 * file naming the etcd3 member (`host:port`) it talks to. Run where patronictl is.
 */
export function removeClusterScript(scope: string, etcdHost: string): string {
  const config = "/tmp/pgdrill-patronictl.yml";
  const ctl = `patronictl -c ${config}`;
  const pickLeader = `import json,sys; print(next((m["Member"] for m in json.load(sys.stdin) if m.get("Role") == "Leader"), ""))`;
  return [
    "set -eu",
    `printf 'etcd3:\\n  hosts: %s\\n' ${shellWord(etcdHost)} > ${config}`,
    `leader=$(${ctl} list --format json ${shellWord(scope)} | python3 -c ${shellWord(pickLeader)})`,
    `printf '%s\\n' ${shellWord(scope)} 'Yes I am aware' "$leader" | ${ctl} remove ${shellWord(scope)}`,
    `${ctl} list --format json ${shellWord(scope)}`,
  ].join("\n");
}

/** A word as sh (and Python's shlex) reads it back unchanged. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}
