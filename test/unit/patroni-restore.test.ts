/**
 * The Patroni target's backups as data: WAL archiving in every member's own parameters, the custom
 * bootstrap method a restored cluster starts with (pgbackrest restore, pgBackRest's recovery
 * settings kept), HAProxy's runtime API opened for a restore's new addresses, `patronictl remove`'s
 * answers, and the bootstrap script itself against a stand-in pgbackrest.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { InputError } from "../../harness/errors.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { haproxyConfig, patroniYaml } from "../../harness/targets/patroni/config.ts";
import { patroniTarget } from "../../harness/targets/patroni/plugin.ts";
import {
  RESTORED,
  RESTORE_FAILED,
  RESTORE_SCRIPT,
  RESTORE_SCRIPT_PATH,
  removeClusterScript,
  restoreBootstrap,
  shellWord,
} from "../../harness/targets/patroni/restore-bootstrap.ts";

const target = (input: object = {}) => patroniTarget.parse({ kind: "patroni", ...input });
const secrets = { superuser: "su-secret", replication: "repl-secret" };
const yamlOf = (text: string) => parseYaml(text) as Record<string, any>;

/** The words sh makes of a command line, as Patroni's shlex.split does for these. */
function words(command: string): string[] {
  return execFileSync("sh", ["-c", `printf '%s\\n' ${command}`], { encoding: "utf8" })
    .trimEnd()
    .split("\n");
}

function problems(scenario: object): string[] {
  try {
    validateScenario({ name: "p", probes: [{ kind: "select1" }], duration: "30s", ...scenario }, "s");
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.problems.map((problem) => problem.message);
  }
}

describe("patroni target with backups", () => {
  it("takes the shared backup option, and refuses backups, restores and disasters without it", () => {
    expect(target({ backup: {} }).backup).toEqual({
      tool: "pgbackrest",
      retention: { full: 2 },
      archiveTimeout: "10s",
      compress: "lz4",
      processMax: 1,
    });
    const schedule = [
      { at: "2s", action: { kind: "backup" } },
      { at: "10s", fault: { kind: "destroy-data" } },
      { at: "12s", action: { kind: "restore", to: "latest" } },
    ];
    expect(problems({ target: { kind: "patroni", backup: {} }, schedule })).toEqual([]);
    const without = problems({ target: { kind: "patroni" }, schedule }).join("\n");
    expect(without).toMatch(/backups, restores and disasters need the target's backups on/);
  });

  it("archives WAL from every member's own parameters; none without backups", () => {
    const withBackup = yamlOf(patroniYaml(target({ backup: { archiveTimeout: "5s" } }), "pg2", secrets));
    expect(withBackup.postgresql.parameters).toEqual({
      unix_socket_directories: "/var/run/postgresql",
      archive_mode: "on",
      archive_command: "pgbackrest --stanza=pgdrill archive-push %p",
      archive_timeout: "5",
    });
    // pgBackRest reaches PostgreSQL on that socket as postgres: local trust.
    expect(withBackup.postgresql.pg_hba).toContain("local all all trust");
    expect(withBackup.bootstrap).not.toHaveProperty("method");
    expect(yamlOf(patroniYaml(target(), "pg2", secrets)).postgresql.parameters).toEqual({ unix_socket_directories: "/var/run/postgresql" });
  });

  it("a restored cluster bootstraps with pgbackrest restore to the target, keeping pgBackRest's recovery settings", () => {
    const config = yamlOf(patroniYaml(target({ backup: {} }), "pg1", secrets, { type: "latest" }));
    expect(config.bootstrap.method).toBe("pgbackrest");
    expect(config.bootstrap.pgbackrest).toEqual({
      command: `/bin/sh ${RESTORE_SCRIPT_PATH} --type=default`,
      no_params: true,
      keep_existing_recovery_conf: true,
    });
    // The DCS settings and initdb stay: a restored cluster writes bootstrap.dcs to the DCS as a new one does.
    expect(config.bootstrap.dcs.ttl).toBe(30);
    expect(config.bootstrap.initdb).toBeDefined();
  });

  it("passes a transaction or a time target as single words, promoting there", () => {
    const xid = restoreBootstrap({ type: "xid", xid: "1030", exclusive: true }) as { pgbackrest: { command: string } };
    expect(words(xid.pgbackrest.command)).toEqual([
      "/bin/sh",
      RESTORE_SCRIPT_PATH,
      "--type=xid",
      "--target=1030",
      "--target-exclusive",
      "--target-action=promote",
    ]);
    const time = restoreBootstrap({ type: "time", time: "2026-12-07 22:15:00.123+00", at: 1000 }) as { pgbackrest: { command: string } };
    expect(words(time.pgbackrest.command).slice(2)).toEqual([
      "--type=time",
      "--target=2026-12-07 22:15:00.123+00",
      "--target-action=promote",
    ]);
  });

  it("opens HAProxy's runtime API at admin level only with backups (a restore sets the members' new addresses)", () => {
    expect(haproxyConfig(target({ backup: {} }))).toContain("stats socket ipv4@0.0.0.0:7000 level admin");
    expect(haproxyConfig(target())).toContain("stats socket ipv4@0.0.0.0:7000 level user");
  });

  it("patronictl remove: an etcd3 configuration file, then the scope, the sentence and the leader it finds", () => {
    const script = removeClusterScript("pgdrill", "etcd2:2379");
    expect(script).toContain("printf 'etcd3:\\n  hosts: %s\\n' etcd2:2379 > /tmp/pgdrill-patronictl.yml");
    expect(script).toContain("patronictl -c /tmp/pgdrill-patronictl.yml list --format json pgdrill");
    expect(script).toContain(
      `printf '%s\\n' pgdrill 'Yes I am aware' "$leader" | patronictl -c /tmp/pgdrill-patronictl.yml remove pgdrill`,
    );
  });

  it("quotes a word only when the shell would split or expand it", () => {
    expect(shellWord("--type=default")).toBe("--type=default");
    expect(shellWord("a b")).toBe("'a b'");
    expect(words(shellWord(`it's $HOME "x"`))).toEqual([`it's $HOME "x"`]);
  });
});

describe("the restore bootstrap script", () => {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-restore-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, "restore.sh");
  writeFileSync(script, RESTORE_SCRIPT);

  /** Runs the script with a stand-in pgbackrest that records its arguments and exits `exit`. */
  function run(exit: number, args: string[]) {
    const bin = join(dir, `bin-${exit}`);
    execFileSync("mkdir", ["-p", bin]);
    const fake = join(bin, "pgbackrest");
    writeFileSync(
      fake,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/args\necho "P00   INFO: restore backup set 20261207-221500F, recovery will start at 2026-12-07 22:15:00"\n` +
        `head -c 3000 /dev/zero > "$PGBACKREST_PG1_PATH/base"\nexit ${exit}\n`,
    );
    chmodSync(fake, 0o755);
    const pgdata = join(dir, `data-${exit}`);
    const result = spawnSync("sh", [script, ...args], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, PGBACKREST_PG1_PATH: pgdata },
    });
    return { ...result, args: readFileSync(join(dir, "args"), "utf8").trimEnd().split("\n") };
  }

  it("restores with the arguments it is given and says the backup set, the copy's time and the data directory's size", () => {
    const result = run(0, ["--type=time", "--target=2026-12-07 22:15:00+00"]);
    expect(result.status).toBe(0);
    expect(result.args).toEqual(["--log-level-console=info", "restore", "--type=time", "--target=2026-12-07 22:15:00+00"]);
    const said = result.stdout.match(RESTORED);
    expect(said?.[1]).toBe("20261207-221500F");
    expect(Number(said?.[2])).toBeGreaterThanOrEqual(0);
    expect(Number(said?.[3])).toBeGreaterThanOrEqual(3000);
  });

  it("fails with pgBackRest's words when the restore fails, so Patroni gives up the bootstrap", () => {
    const result = run(1, ["--type=default"]);
    expect(result.status).toBe(4);
    expect(result.stdout).toMatch(RESTORE_FAILED);
    expect(result.stdout).toContain("restore backup set 20261207-221500F");
    expect(result.stdout).not.toMatch(RESTORED);
  });
});
