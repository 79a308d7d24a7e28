/**
 * The patroni target as data: its options (Patroni's defaults, Patroni's timing rule refused with
 * the fields and the fix), what it generates for its containers (patroni.yml, haproxy.cfg, etcd's
 * arguments), and how its health and HAProxy's `show stat` are read.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { InputError } from "../../harness/errors.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { dcsConfig, etcdArguments, haproxyConfig, patroniYaml } from "../../harness/targets/patroni/config.ts";
import { parseShowStat, upServers, type Picture } from "../../harness/targets/patroni/observer.ts";
import { healthy, patroniTopology } from "../../harness/targets/patroni/patroni.ts";
import { etcdMemberNames, patroniNodeNames, patroniPlugin, patroniTarget } from "../../harness/targets/patroni/plugin.ts";

const target = (input: object = {}) => patroniTarget.parse({ kind: "patroni", ...input });
const secrets = { superuser: "su-secret", replication: "repl-secret" };

function problems(targetInput: object): string[] {
  try {
    validateScenario({ name: "p", target: { kind: "patroni", ...targetInput }, probes: [{ kind: "select1" }], duration: "10s" }, "s");
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.problems.map((problem) => problem.message);
  }
}

describe("patroni target options", () => {
  it("default to Patroni's own: 3 nodes, 3 etcd members, ttl 30, loop_wait 10, retry_timeout 10, 1 MiB lag, every mode off", () => {
    expect(target()).toEqual({
      kind: "patroni",
      nodes: 3,
      dcs: { members: 3 },
      ttl: 30,
      loop_wait: 10,
      retry_timeout: 10,
      maximum_lag_on_failover: 1048576,
      synchronous_mode: false,
      synchronous_mode_strict: false,
      failsafe_mode: false,
      use_pg_rewind: false,
      haproxy: { inter: "2s", fall: 3, rise: 2 },
      patroni: {},
      startupTimeout: "120s",
    });
    expect(patroniNodeNames(target({ nodes: 4 }))).toEqual(["pg1", "pg2", "pg3", "pg4"]);
    expect(etcdMemberNames(target({ dcs: { members: 1 } }))).toEqual(["etcd1"]);
  });

  it("names its nodes, its roles and its endpoints for validation", () => {
    expect(patroniPlugin.nodes(target({ nodes: 2 }))).toEqual(["pg1", "pg2"]);
    expect(patroniPlugin.roles).toEqual(["primary", "replica"]);
    expect(patroniPlugin.probeEndpoints(target())).toEqual(["rw", "ro", "pg1", "pg2", "pg3", "every-node"]);
    expect(patroniPlugin.capabilities).toEqual([
      "kill",
      "stop",
      "freeze",
      "network",
      "shaping",
      "processes",
      "dcs",
      "switchover",
      "manager",
      "backup",
      "disaster",
    ]);
  });

  it("refuses node and etcd counts out of range, and an even etcd cluster", () => {
    expect(problems({ nodes: 1 }).join("\n")).toMatch(/target\.nodes.*at least 2/);
    expect(problems({ nodes: 6 }).join("\n")).toMatch(/target\.nodes/);
    expect(problems({ dcs: { members: 2 } }).join("\n")).toMatch(/target\.dcs\.members: must be 1, 3 or 5/);
    expect(problems({ dcs: { members: 1 } })).toEqual([]);
  });

  it("refuses loop_wait + 2 * retry_timeout > ttl, naming the fields, the sum and the fixes", () => {
    expect(problems({ ttl: 10, loop_wait: 2, retry_timeout: 4 })).toEqual([]);
    const [message, ...rest] = problems({ ttl: 20, loop_wait: 10, retry_timeout: 10 });
    expect(rest).toEqual([]);
    expect(message).toBe(
      "s: target.ttl: loop_wait + 2 * retry_timeout (10 + 2 * 10 = 30) is more than ttl (20): Patroni requires loop_wait + 2 * retry_timeout <= ttl. " +
        "Raise ttl to 30, or lower retry_timeout to 5.",
    );
    // Where loop_wait alone can be lowered, that fix is offered too.
    expect(problems({ ttl: 10, loop_wait: 5, retry_timeout: 4 })[0]).toMatch(
      /Raise ttl to 13, or lower retry_timeout to 2, or lower loop_wait to 2\.$/,
    );
  });

  it("refuses the same rule when the topology is built in code, as an InputError", () => {
    expect(() => patroniTopology(target({ ttl: 10 }))).toThrow(InputError);
    expect(() => patroniTopology(target({ ttl: 10 }))).toThrow(/Patroni requires loop_wait \+ 2 \* retry_timeout <= ttl/);
    expect(patroniTopology(target({ ttl: 10, loop_wait: 2, retry_timeout: 4 })).nodes).toEqual(["pg1", "pg2", "pg3"]);
  });

  it("refuses synchronous_mode_strict without synchronous_mode, and modelled settings through the escape hatch", () => {
    expect(problems({ synchronous_mode_strict: true })[0]).toMatch(
      /target\.synchronous_mode_strict: has no effect without synchronous_mode\. Set synchronous_mode: true/,
    );
    expect(problems({ synchronous_mode: true, synchronous_mode_strict: true })).toEqual([]);
    expect(problems({ patroni: { ttl: 12 } })[0]).toMatch(
      /target\.patroni\.ttl: is one of the target's own options\. Set target\.ttl instead/,
    );
    expect(problems({ patroni: { postgresql: { use_pg_rewind: true } } })[0]).toMatch(/Set target\.use_pg_rewind instead/);
    expect(problems({ patroni: { primary_start_timeout: 0 } })).toEqual([]);
  });
});

describe("patroni target configuration", () => {
  it("bootstrap.dcs carries the timings and modes, with the escape hatch merged in deeply", () => {
    const dcs = dcsConfig(
      target({
        ttl: 10,
        loop_wait: 2,
        retry_timeout: 4,
        use_pg_rewind: true,
        patroni: { primary_start_timeout: 0, postgresql: { parameters: { max_connections: 50 } } },
      }),
    );
    expect(dcs).toMatchObject({
      ttl: 10,
      loop_wait: 2,
      retry_timeout: 4,
      maximum_lag_on_failover: 1048576,
      synchronous_mode: false,
      failsafe_mode: false,
      primary_start_timeout: 0,
    });
    expect(dcs["postgresql"]).toMatchObject({
      use_pg_rewind: true,
      use_slots: true,
      parameters: { wal_level: "replica", wal_log_hints: "on", max_connections: 50 },
    });
    expect((dcsConfig(target())["postgresql"] as { parameters: object }).parameters).not.toHaveProperty("wal_log_hints");
  });

  it("each node's patroni.yml: its name, REST API on 8008, the etcd3 DCS with every member, PostgreSQL on 5432", () => {
    const config = parseYaml(patroniYaml(target({ dcs: { members: 3 } }), "pg2", secrets)) as Record<string, any>;
    expect(config).toMatchObject({
      scope: "pgdrill",
      name: "pg2",
      restapi: { listen: "0.0.0.0:8008", connect_address: "pg2:8008" },
      etcd3: { hosts: ["etcd1:2379", "etcd2:2379", "etcd3:2379"], protocol: "http" },
      postgresql: {
        listen: "0.0.0.0:5432",
        connect_address: "pg2:5432",
        authentication: {
          superuser: { username: "postgres", password: "su-secret" },
          replication: { username: "replicator", password: "repl-secret" },
        },
      },
    });
    expect(config).not.toHaveProperty("etcd");
    expect(config.bootstrap.dcs.ttl).toBe(30);
    expect(config.postgresql.pg_hba).toContain("host replication replicator all scram-sha-256");
  });

  it("haproxy.cfg: rw checks GET /primary and ro GET /replica on port 8008, with the target's inter/fall/rise and shut sessions on mark-down", () => {
    const cfg = haproxyConfig(target({ nodes: 2, haproxy: { inter: "500ms", fall: 2, rise: 1 } }));
    const section = (name: string) =>
      cfg
        .split("\n\n")
        .find((block) => block.startsWith(`listen ${name}`))!
        .split("\n")
        .map((line) => line.trim());
    expect(section("rw")).toEqual([
      "listen rw",
      "bind *:5000",
      "balance first",
      "option httpchk GET /primary",
      "http-check expect status 200",
      "default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions",
      "server pg1 pg1:5432 check port 8008",
      "server pg2 pg2:5432 check port 8008",
    ]);
    expect(section("ro")).toContain("option httpchk GET /replica");
    expect(section("ro")).toContain("bind *:5001");
    expect(cfg).toContain("stats socket ipv4@0.0.0.0:7000 level user");
  });

  it("etcd: a new cluster of every member, v3 only", () => {
    const args = etcdArguments(target({ dcs: { members: 3 } }), "etcd2", "tok");
    expect(args).toContain("--name=etcd2");
    expect(args).toContain("--initial-cluster=etcd1=http://etcd1:2380,etcd2=http://etcd2:2380,etcd3=http://etcd3:2380");
    expect(args).toContain("--advertise-client-urls=http://etcd2:2379");
    expect(args).toContain("--enable-v2=false");
  });
});

describe("reading the cluster", () => {
  const csv = [
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,",
    "rw,FRONTEND,,,0,0,2000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,",
    "rw,pg1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,10,0,,1,2,1,,0,,2,0,,0,L7OK,",
    "rw,pg2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,10,10,,1,2,2,,0,,2,0,,0,L7STS,",
    "rw,pg3,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,10,0,,1,2,3,,0,,2,0,,0,INI,",
    "rw,BACKEND,0,0,0,0,200,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,10,0,,1,2,0,,0,,1,0,,0,,",
    "ro,pg1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,10,10,,1,3,1,,0,,2,0,,0,L7STS,",
    "ro,pg2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,1,1,0,0,0,10,0,,1,3,2,,0,,2,0,,0,L7STS,",
    "",
  ].join("\n");

  it("show stat: each listener's servers, a server not yet checked as unchecked, and 'UP 1/2' still up", () => {
    const view = parseShowStat(csv);
    expect(view).toEqual({ rw: { pg1: "UP", pg2: "DOWN", pg3: "unchecked" }, ro: { pg1: "DOWN", pg2: "UP 1/2" } });
    expect(upServers(view.rw)).toEqual(["pg1"]);
    expect(upServers(view.ro)).toEqual(["pg2"]);
  });

  const picture = (overrides: Partial<Picture> = {}): Picture => ({
    leader: "pg1",
    members: new Map([
      ["pg1", { role: "primary", state: "running", timeline: 1, lagBytes: null }],
      ["pg2", { role: "replica", state: "running", timeline: 1, lagBytes: 0 }],
      ["pg3", { role: "replica", state: "streaming", timeline: 1, lagBytes: 0 }],
    ]),
    senders: new Map([
      [
        "pg1",
        [
          { application_name: "pg2", state: "streaming" },
          { application_name: "pg3", state: "streaming" },
        ],
      ],
    ]),
    haproxy: { rw: { pg1: "UP", pg2: "DOWN", pg3: "DOWN" }, ro: { pg1: "DOWN", pg2: "UP", pg3: "UP" } },
    polls: 3,
    ...overrides,
  });
  const nodes = ["pg1", "pg2", "pg3"];

  it("healthy: a primary leader, running replicas streaming from it, HAProxy's rw on the leader alone and ro on the replicas", () => {
    expect(healthy(picture(), nodes)).toBe(true);
    expect(healthy(picture({ leader: undefined }), nodes)).toMatch(/no member's REST API answered/);
    expect(healthy(picture({ leader: null }), nodes)).toBe("no leader yet");
    expect(
      healthy(
        picture({
          senders: new Map([
            [
              "pg1",
              [
                { application_name: "pg2", state: "streaming" },
                { application_name: "pg3", state: "catchup" },
              ],
            ],
          ]),
        }),
        nodes,
      ),
    ).toBe("pg3 not streaming from pg1 yet");
    expect(healthy(picture({ haproxy: { rw: { pg1: "UP", pg2: "unchecked", pg3: "DOWN" }, ro: { pg2: "UP", pg3: "UP" } } }), nodes)).toBe(
      true,
    );
    expect(healthy(picture({ haproxy: { rw: { pg1: "UP", pg2: "UP", pg3: "DOWN" }, ro: { pg2: "UP", pg3: "UP" } } }), nodes)).toMatch(
      /rw has pg1, pg2 up, not pg1 alone/,
    );
    expect(healthy(picture({ haproxy: { rw: { pg1: "UP" }, ro: { pg2: "UP" } } }), nodes)).toMatch(/ro has pg2 up, not pg2, pg3/);
  });
});
