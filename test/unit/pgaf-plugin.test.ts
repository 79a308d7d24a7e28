/**
 * The pg-auto-failover target as data: its options (pg_auto_failover's names and defaults; what
 * pg_auto_failover would refuse, refused with the field and the fix), the start scripts its
 * containers get (config.ts), its public builders, and its actions in `pgdrill validate`'s plan.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { main, type CliIO } from "../../harness/cli/main.ts";
import { InputError } from "../../harness/errors.ts";
import {
  defineScenario,
  kill,
  killProcess,
  nodeMaintenance,
  perform,
  pgAutoFailover,
  role,
  selectOne,
  trackedWrites,
} from "../../harness/index.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import {
  keeperSettings,
  MONITOR_DATA_DIR,
  MONITOR_START,
  monitorConf,
  monitorScript,
  monitorUri,
  nodeConf,
  nodeScript,
  shellQuote,
} from "../../harness/targets/pg-auto-failover/config.ts";
import { pgAutoFailoverTopology } from "../../harness/targets/pg-auto-failover/pgaf.ts";
import {
  KEEPER_DEFAULTS,
  MONITOR_DEFAULTS,
  pgafNodeNames,
  pgAutoFailoverPlugin,
  pgAutoFailoverTarget,
} from "../../harness/targets/pg-auto-failover/plugin.ts";

const target = (input: object = {}) => pgAutoFailoverTarget.parse({ kind: "pg-auto-failover", ...input });

/** Every problem validation reports for a scenario on this target, as the user reads it. */
function problems(targetInput: object, schedule: object[] = []): string[] {
  try {
    validateScenario(
      {
        name: "p",
        target: { kind: "pg-auto-failover", ...targetInput },
        probes: [{ kind: "select1" }],
        steadyState: { window: "1s" },
        schedule,
        duration: "20s",
      },
      "s",
    );
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.problems.map((problem) => problem.message);
  }
}

/** The script's lines that run a given command. */
const linesOf = (script: string, command: RegExp) => script.split("\n").filter((line) => command.test(line));

/** What sh makes of the script's quoted words: `printf '%s\n' <words>` run for real. */
function printed(words: string[]): string[] {
  const run = spawnSync("sh", ["-c", `printf '%s\\n' ${words.map(shellQuote).join(" ")}`], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split("\n").slice(0, -1);
}

describe("pg-auto-failover target options", () => {
  it("default to pg_auto_failover 2.0's own (the monitor's GUCs in ms, the keeper's timeout.* in s)", () => {
    // Written out, not read from MONITOR_DEFAULTS: a changed default must fail here.
    expect(target()).toEqual({
      kind: "pg-auto-failover",
      nodes: 2,
      monitor: {
        health_check_period: 5000,
        health_check_timeout: 5000,
        health_check_max_retries: 2,
        health_check_retry_delay: 2000,
        node_considered_unhealthy_timeout: 20_000,
        primary_demote_timeout: 30_000,
        startup_grace_period: 10_000,
      },
      keeper: {
        network_partition_timeout: 20,
        prepare_promotion_catchup: 30,
        prepare_promotion_walreceiver: 5,
        postgresql_restart_failure_timeout: 20,
        postgresql_restart_failure_max_retries: 3,
      },
      replication_quorum: true,
      candidate_priority: 50,
      number_sync_standbys: 0,
      ssl: "self-signed",
      settings: { monitor: {}, nodes: {}, keeper: {} },
      startupTimeout: "120s",
    });
    expect(problems({})).toEqual([]);
  });

  it("names its nodes, roles (the monitor among them) and endpoints for validation", () => {
    expect(pgafNodeNames(target({ nodes: 4 }))).toEqual(["node1", "node2", "node3", "node4"]);
    expect(pgAutoFailoverPlugin.roles).toEqual(["primary", "replica", "monitor"]);
    expect(pgAutoFailoverPlugin.probeEndpoints(target({ nodes: 3 }))).toEqual(["rw", "ro", "node1", "node2", "node3", "every-node"]);
    // Nothing restarts a killed keeper's container: a scenario must not count on it.
    expect(pgAutoFailoverPlugin.restartsNodes).toBe(false);
  });

  it("refuses 1 and 5 nodes, naming the field", () => {
    expect(problems({ nodes: 1 })).toEqual([expect.stringMatching(/^s: target\.nodes: must be at least 2: a failover needs a standby/)]);
    expect(problems({ nodes: 5 })).toEqual([expect.stringMatching(/^s: target\.nodes: .*<=4/)]);
    expect(problems({ nodes: 4 })).toEqual([]);
  });

  it("refuses number_sync_standbys 1 with 2 nodes, and the fix names 3 nodes", () => {
    expect(problems({ number_sync_standbys: 1 })).toEqual([
      "s: target.number_sync_standbys: is 1 with 1 standby: pg_auto_failover needs number_sync_standbys + 1 standbys in the " +
        "replication quorum. Raise target.nodes to 3, or lower number_sync_standbys to 0.",
    ]);
    expect(problems({ number_sync_standbys: 1, nodes: 3 })).toEqual([]);
    expect(problems({ number_sync_standbys: 2, nodes: 3 })[0]).toMatch(/Raise target\.nodes to 4, or lower number_sync_standbys to 1\.$/);
  });

  it("refuses number_sync_standbys with replication_quorum false", () => {
    expect(problems({ nodes: 3, number_sync_standbys: 1, replication_quorum: false })).toEqual([
      "s: target.number_sync_standbys: needs standbys in the replication quorum, and replication_quorum is false. " +
        "Set replication_quorum: true, or number_sync_standbys: 0.",
    ]);
    expect(problems({ nodes: 3, replication_quorum: false })).toEqual([]);
  });

  it("refuses a candidate_priority for a node that does not exist, and 0 for every node", () => {
    expect(problems({ candidate_priority: { node3: 10 } })).toEqual([
      "s: target.candidate_priority.node3: names no node (the nodes are node1, node2). Name a data node, or drop it.",
    ]);
    const none = /^s: target\.candidate_priority: is 0 for every node: pg_auto_failover refuses a formation with no candidate\. /;
    expect(problems({ candidate_priority: 0 })).toEqual([expect.stringMatching(none)]);
    expect(problems({ candidate_priority: { node1: 0, node2: 0 } })).toEqual([expect.stringMatching(none)]);
    // One node that is never promoted is a formation pg_auto_failover takes.
    expect(problems({ candidate_priority: { node2: 0 } })).toEqual([]);
    expect(problems({ candidate_priority: 101 })[0]).toMatch(/^s: target\.candidate_priority/);
  });

  it("refuses the escape hatch setting what the options model, and names the option to set instead", () => {
    expect(problems({ settings: { monitor: { "pgautofailover.primary_demote_timeout": 1000 } } })).toEqual([
      `s: target.settings.monitor["pgautofailover.primary_demote_timeout"]: is one of the target's own options. ` +
        "Set target.monitor.primary_demote_timeout instead.",
    ]);
    expect(problems({ settings: { keeper: { "timeout.network_partition_timeout": 3 } } })).toEqual([
      `s: target.settings.keeper["timeout.network_partition_timeout"]: is one of the target's own options. ` +
        "Set target.keeper.network_partition_timeout instead.",
    ]);
    expect(problems({ settings: { monitor: { "pgautofailover.enable_sync_wal_log_threshold": 1024 } } })).toEqual([]);
    expect(problems({ settings: { keeper: { "timeout.listen_notifications_timeout": 5 } } })).toEqual([]);
  });

  it("refuses kill-process and pause-process aimed at the monitor, at the fault's node, with the fix", () => {
    const fix = "kill-process aims at a data node's keeper or PostgreSQL, not the monitor. Use kill, stop or pause with node: monitor.";
    expect(problems({}, [{ at: "3s", fault: { kind: "kill-process", node: "monitor", process: "ha-manager" } }])).toEqual([
      `s: schedule[0].fault.node: ${fix}`,
    ]);
    expect(problems({}, [{ at: "3s", fault: { kind: "pause-process", node: "monitor", process: "postgres" } }])).toEqual([
      expect.stringMatching(/^s: schedule\[0\]\.fault\.node: pause-process aims at a data node's keeper or PostgreSQL, not the monitor\./),
    ]);
    // The monitor's container as a whole, and a data node's keeper, are fair game.
    expect(problems({}, [{ at: "3s", fault: { kind: "kill", node: "monitor" } }])).toEqual([]);
    expect(problems({}, [{ at: "3s", fault: { kind: "kill-process", node: "primary", process: "ha-manager" } }])).toEqual([]);
  });

  it("refuses the same problems when the topology is built in code, as an InputError", () => {
    expect(() => pgAutoFailoverTopology(target({ number_sync_standbys: 1 }))).toThrow(InputError);
    expect(() => pgAutoFailoverTopology(target({ number_sync_standbys: 1 }))).toThrow(/Raise target\.nodes to 3/);
    expect(pgAutoFailoverTopology(target({ nodes: 3 }))).toMatchObject({ nodes: ["node1", "node2", "node3"], initialPrimary: "node1" });
  });
});

describe("pg-auto-failover start scripts", () => {
  const fast = target({
    monitor: { health_check_period: 1000, node_considered_unhealthy_timeout: 2000, primary_demote_timeout: 5000 },
    keeper: { network_partition_timeout: 3 },
    settings: { monitor: { "pgautofailover.enable_sync_wal_log_threshold": 1024 } },
  });

  it("are valid sh", () => {
    for (const script of [monitorScript(fast), nodeScript(fast, "node1", 60), nodeScript(fast, "node2", 60)]) {
      const check = spawnSync("sh", ["-n", "-c", script], { encoding: "utf8" });
      expect(check.stderr).toBe("");
      expect(check.status).toBe(0);
    }
  });

  it("the monitor's appends every pgautofailover.* GUC with the spec's value, then the escape hatch's, to its postgresql.conf", () => {
    const expected = Object.keys(MONITOR_DEFAULTS).map(
      (key) => `pgautofailover.${key} = ${fast.monitor[key as keyof typeof MONITOR_DEFAULTS]}`,
    );
    expect(expected).toContain("pgautofailover.primary_demote_timeout = 5000");
    expect(expected).toContain("pgautofailover.health_check_max_retries = 2");
    expect(monitorConf(fast)).toEqual([...expected, "pgautofailover.enable_sync_wal_log_threshold = 1024"]);
    const script = monitorScript(fast);
    const [append, ...more] = linesOf(script, new RegExp(`>> ${MONITOR_DATA_DIR}/postgresql\\.conf$`));
    expect(more).toEqual([]);
    expect(append).toBe(`printf '%s\\n' ${monitorConf(fast).map(shellQuote).join(" ")} >> ${MONITOR_DATA_DIR}/postgresql.conf`);
    // It comes after the monitor is created (which writes postgresql.conf) and before it runs.
    const lines = script.split("\n");
    expect(lines.findIndex((line) => line.startsWith("pg_autoctl create monitor"))).toBeLessThan(lines.indexOf(append!));
    // pg_autoctl run is started by a script of its own (a monitor-outage's heal runs it again), after the settings.
    const run = lines.indexOf(MONITOR_START);
    expect(run).toBeGreaterThan(lines.indexOf(append!));
    expect(script).toContain(`pg_autoctl run --pgdata ${MONITOR_DATA_DIR} >/proc/1/fd/1 2>/proc/1/fd/2 &`);
    // Ready is said only once the run's PostgreSQL answers (create starts and stops one of its own first).
    expect(lines.findIndex((line) => line.includes("the monitor is ready"))).toBeGreaterThan(
      lines.findIndex((line, i) => i > run && line.includes("pg_isready")),
    );
    expect(lines.at(-1)).toBe("exec sleep infinity");
  });

  it("a node's passes its candidate priority, replication quorum and SSL choice to pg_autoctl create postgres", () => {
    const spec = target({ nodes: 3, candidate_priority: { node2: 100, node3: 0 }, replication_quorum: false });
    const create = (node: string, of = spec) => linesOf(nodeScript(of, node, 60), /^pg_autoctl create postgres /)[0] ?? "";
    expect(create("node1")).toContain("--name node1 ");
    expect(create("node1")).toMatch(/--candidate-priority 50 --replication-quorum false$/);
    expect(create("node2")).toMatch(/--candidate-priority 100 /);
    expect(create("node3")).toMatch(/--candidate-priority 0 /);
    expect(create("node2", target())).toMatch(/--candidate-priority 50 --replication-quorum true$/);
    expect(create("node1")).toContain(" --ssl-self-signed ");
    expect(create("node1")).not.toContain("--no-ssl");
    expect(create("node1")).toContain(`--monitor ${shellQuote(monitorUri(spec))}`);
    expect(monitorUri(spec)).toBe("postgres://autoctl_node@monitor:5432/pg_auto_failover?sslmode=require");
    const plain = target({ ssl: "off" });
    expect(create("node1", plain)).toContain(" --no-ssl ");
    expect(create("node1", plain)).not.toContain("--ssl-self-signed");
    expect(monitorUri(plain)).toMatch(/sslmode=disable$/);
    expect(monitorScript(plain)).toMatch(/^pg_autoctl create monitor .* --no-ssl$/m);
  });

  it("a node's runs one pg_autoctl config set per keeper setting: the modelled timeout.* ones, then the escape hatch's", () => {
    const spec = target({ keeper: { network_partition_timeout: 3 }, settings: { keeper: { "timeout.listen_notifications_timeout": 5 } } });
    expect(keeperSettings(spec)).toEqual([
      ...Object.keys(KEEPER_DEFAULTS).map((key) => [`timeout.${key}`, String(spec.keeper[key as keyof typeof KEEPER_DEFAULTS])]),
      ["timeout.listen_notifications_timeout", "5"],
    ]);
    const sets = linesOf(nodeScript(spec, "node2", 60), /^pg_autoctl config set /);
    expect(sets).toHaveLength(Object.keys(KEEPER_DEFAULTS).length + 1);
    expect(sets).toContain("pg_autoctl config set --pgdata /var/lib/postgresql/pgaf 'timeout.network_partition_timeout' '3' >/dev/null");
    expect(sets.at(-1)).toContain("'timeout.listen_notifications_timeout' '5'");
  });

  it("node2 waits for the monitor and for node1 (so node1 is the first primary); node1 waits for the monitor alone", () => {
    const waits = (node: string) => linesOf(nodeScript(fast, node, 60), /pg_isready/).map((line) => /-h (\S+)/.exec(line)?.[1]);
    expect(waits("node1")).toEqual(["monitor"]);
    expect(waits("node2")).toEqual(["monitor", "node1"]);
  });

  it("the password never appears in a script: node1 sets it from the environment, read by psql from stdin, and unsets it", () => {
    const first = nodeScript(fast, "node1", 60);
    expect(first).toContain(
      `printf '%s\\n' "ALTER ROLE postgres PASSWORD :'pw';" | psql -q -h /var/run/postgresql -d postgres -v pw="$PGDRILL_PASSWORD"`,
    );
    // No literal password (quoted, or on a -c command line where ps would show it).
    expect(first).not.toMatch(/PASSWORD\s+'/);
    expect(first).not.toMatch(/psql[^\n]* -c /);
    expect(linesOf(first, /PGDRILL_PASSWORD/).map((line) => line.trim())).toEqual([
      expect.stringMatching(/-v pw="\$PGDRILL_PASSWORD" 2>\/dev\/null; do$/),
      "unset PGDRILL_PASSWORD",
    ]);
    // Standbys get it by replication, and only the env var to drop.
    const second = nodeScript(fast, "node2", 60);
    expect(second).not.toContain("ALTER ROLE");
    expect(linesOf(second, /PGDRILL_PASSWORD/)).toEqual(["unset PGDRILL_PASSWORD"]);
    expect(second).toContain("echo 'host all postgres all scram-sha-256' >> /var/lib/postgresql/pgaf/pg_hba.conf");
  });

  it("a string setting is single-quoted with its quotes doubled, and reaches postgresql.conf as written through sh", () => {
    const spec = target({ settings: { nodes: { application_name: "it's", max_connections: 50, hot_standby_feedback: true } } });
    const conf = nodeConf(spec);
    expect(conf).toEqual(["application_name = 'it''s'", "max_connections = 50", "hot_standby_feedback = true"]);
    expect(printed(conf)).toEqual(conf);
    expect(nodeScript(spec, "node1", 60)).toContain(
      `printf '%s\\n' ${conf.map(shellQuote).join(" ")} >> /var/lib/postgresql/pgaf/postgresql.conf`,
    );
    expect(monitorConf(target({ settings: { monitor: { log_line_prefix: "%m '%a' " } } })).at(-1)).toBe("log_line_prefix = '%m ''%a'' '");
  });

  it("a bad setting name throws instead of writing it into a config file", () => {
    expect(() => monitorConf(target({ settings: { monitor: { "work_mem = 1; x": 1 } } }))).toThrow(
      /"work_mem = 1; x" is not a PostgreSQL setting name/,
    );
    expect(() => nodeScript(target({ settings: { nodes: { "bad'name": "x" } } }), "node1", 60)).toThrow(/is not a PostgreSQL setting name/);
    expect(() => nodeConf(target({ settings: { nodes: { "pgautofailover.x_y": 1, work_mem: "4MB" } } }))).not.toThrow();
  });
});

describe("pg-auto-failover in scenarios", () => {
  it("its builders produce what validation accepts", () => {
    const input = defineScenario({
      name: "pgaf-everything",
      target: pgAutoFailover({ nodes: 3, monitor: { primary_demote_timeout: 5000 }, keeper: { network_partition_timeout: 3 } }),
      probes: [selectOne(), trackedWrites(), role()],
      steadyState: { window: "2s" },
      schedule: [
        { at: "3s", action: perform("switchover") },
        { at: "10s", action: nodeMaintenance("node3", "enable") },
        { at: "14s", action: nodeMaintenance("node3", "disable") },
        { at: "18s", for: "5s", fault: killProcess("primary", "ha-manager") },
        { at: "26s", fault: kill("monitor") },
      ],
      duration: "40s",
    });
    const parsed = validateScenario(input, "s");
    expect(parsed.target).toMatchObject({
      kind: "pg-auto-failover",
      nodes: 3,
      monitor: { primary_demote_timeout: 5000, health_check_period: 5000 },
    });
    expect(parsed.schedule.map((step) => ("action" in step ? step.action : "fault" in step ? step.fault : null))).toEqual([
      { kind: "perform", operation: "switchover" },
      { kind: "node-maintenance", node: "node3", mode: "enable", allowFailover: false },
      { kind: "node-maintenance", node: "node3", mode: "disable", allowFailover: false },
      { kind: "kill-process", node: "primary", process: "ha-manager" },
      expect.objectContaining({ kind: "kill", node: "monitor" }),
    ]);
  });

  it("pgdrill validate's plan labels perform by its module: pg_autoctl perform switchover", async () => {
    let out = "";
    let err = "";
    const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), color: false, live: { write: (t) => (err += t), isTTY: false } };
    expect(await main(["validate", "pgaf-switchover"], io), err).toBe(0);
    expect(out.split("\n")).toContain("              4s  a1  action  pg_autoctl perform switchover");
  });
});
