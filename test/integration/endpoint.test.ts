/**
 * The endpoint target against real PostgreSQL. A container pair behind PgBouncer stands in for a
 * managed service: one address (the pooler's) whose server changes when the "provider" fails it
 * over, and the failover is a command fault — a script that kills the primary, promotes the
 * standby and repoints the pooler, as `aws rds reboot-db-instance --force-failover` would.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import type { FaultEvent } from "../../harness/history/events.ts";
import { AppPool } from "../../harness/connection/app-pool.ts";
import type { Endpoint } from "../../harness/connection/endpoint.ts";
import { Session } from "../../harness/connection/session.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { buildTopology, type StartedTopology } from "../../harness/targets/index.ts";
import { readEvents, tempRunDir } from "./helpers.ts";

const runId = `endpoint-${Date.now().toString(36)}`;
let pair: StartedTopology;
let front: Endpoint;

async function sql<R extends Record<string, unknown>>(text: string): Promise<R[]> {
  const session = await Session.connect(pair.endpoint("pooler"), { connectTimeoutMs: 5000, applicationName: "test" });
  try {
    return (await session.query<R>(text, [], 10_000)).rows;
  } finally {
    await session.close();
  }
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

describe("endpoint target (a container pair behind PgBouncer stands in for a managed service)", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    const target = validateScenario(
      { name: "managed", target: { kind: "container-pair", pooler: { mode: "session", settings: { server_login_retry: "1" } } }, probes: [{ kind: "select1" }], duration: "10s" },
      "test",
    ).target;
    pair = await buildTopology(target).start({ runId, scenario: "endpoint-test", log: () => undefined });
    front = pair.endpoint("pooler");
  });
  afterAll(async () => {
    await pair?.teardown();
  });

  it("an application pool opens `min` connections, hands them out in turn, drops closed ones and retires old ones", async () => {
    const appName = `pool-test-${Date.now()}`;
    const pool = new AppPool(() => pair.endpoint("primary"), { min: 3, max: 5, recycleMs: 1500 }, { connectTimeoutMs: 5000, applicationName: appName });
    const backendOf = async (): Promise<number> => {
      const session = await pool.acquire();
      const pid = (await session.query<{ pid: number }>("SELECT pg_backend_pid() AS pid", [], 5000)).rows[0]!.pid;
      await pool.release(session);
      return pid;
    };
    await pool.fill();
    const direct = await Session.connect(pair.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "test" });
    try {
      const count = async () => Number((await direct.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [appName], 5000)).rows[0]!.n);
      expect(await count()).toBe(3);
      const pids: number[] = [];
      for (let i = 0; i < 6; i += 1) pids.push(await backendOf());
      expect(new Set(pids).size).toBe(3);
      expect(pids.slice(3)).toEqual(pids.slice(0, 3)); // in turn, oldest checkout first
      // A connection the server closed (and said so) is dropped, not handed out.
      await direct.query("SELECT pg_terminate_backend($1)", [pids[0]], 5000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await backendOf()).toBe(pids[1]);
      // Past `recycle`, connections are replaced on checkout.
      await new Promise((resolve) => setTimeout(resolve, 1600));
      const renewed = await backendOf();
      expect(pids).not.toContain(renewed);
      await pool.close();
      expect(await count()).toBe(0);
    } finally {
      await direct.close();
    }
  });

  it("speaks TLS as pg does: sslmode in the URL, a CA file from the scenario, and refuses an unverifiable server", async () => {
    const primary = `pgdrill-${runId}-primary`;
    // Give the primary a certificate for 127.0.0.1 and turn TLS on (a reload is enough).
    const script =
      'cd "$PGDATA" && openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.crt -days 1 -subj /CN=pgdrill-test -addext subjectAltName=IP:127.0.0.1 2>/dev/null && chmod 600 server.key && psql=$(ls /usr/lib/postgresql/*/bin/psql | tail -n 1) && "$psql" -U postgres -Atc "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null';
    expect(spawnSync("docker", ["exec", "-e", "PGDATA=/var/lib/postgresql/pgdrill", primary, "sh", "-c", script], { encoding: "utf8" }).status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-tls-"));
    const ca = join(dir, "ca.pem");
    expect(spawnSync("docker", ["cp", `${primary}:/var/lib/postgresql/pgdrill/server.crt`, ca]).status).toBe(0);
    const direct = pair.endpoint("primary");
    const url = (query: string) => `postgresql://${direct.user}:${encodeURIComponent(direct.password)}@${direct.host}:${direct.port}/${direct.database}${query}`;
    const sslInUse = async (target: Record<string, unknown>): Promise<boolean> => {
      const spec = validateScenario({ name: "tls", target: { kind: "endpoint", ...target }, probes: [{ kind: "select1" }], duration: "5s" }, "test").target;
      const started = await buildTopology(spec).start({ runId: "tls", scenario: "tls", log: () => undefined });
      const session = await Session.connect(started.endpoint("rw"), { connectTimeoutMs: 5000, applicationName: "tls-test" });
      try {
        return (await session.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [], 5000)).rows[0]!.ssl;
      } finally {
        await session.close();
        await started.teardown();
      }
    };
    expect(await sslInUse({ url: url("") })).toBe(false);
    expect(await sslInUse({ url: url("?sslmode=no-verify") })).toBe(true);
    expect(await sslInUse({ url: url("?sslmode=verify-full"), ssl: { ca } })).toBe(true);
    // A self-signed server the scenario does not vouch for is refused, as pg refuses it.
    await expect(sslInUse({ url: url("?sslmode=verify-full"), startupTimeout: "2s" })).rejects.toThrow(/did not answer.*(self.signed|certificate)/i);
  });

  it("measures a provider-driven failover behind one address, loses nothing it should not, drops only its own schema, and never writes the password", async () => {
    // What the application already has on the server, and a schema a killed pgdrill run left.
    await sql("CREATE TABLE public.app_data (id int PRIMARY KEY); INSERT INTO public.app_data VALUES (42)");
    await sql(`CREATE SCHEMA pgdrill_killed_run; COMMENT ON SCHEMA pgdrill_killed_run IS '${JSON.stringify({ tool: "pgdrill", runId: "killed", pid: deadPid(), host: hostname() })}'`);
    await sql("CREATE TABLE pgdrill_killed_run.writes (id int)");

    const container = (node: string) => `pgdrill-${runId}-${node}`;
    // The "provider's" failover: the primary dies, the standby is promoted a second later and the
    // address's backend moves. It echoes the password to prove the output is masked.
    const failover = [
      `docker kill ${container("primary")} >/dev/null`,
      "sleep 1",
      `docker exec ${container("standby")} sh -c 'psql=$(ls /usr/lib/postgresql/*/bin/psql | tail -n 1); "$psql" -U postgres -Atc "SELECT pg_promote(true, 30)"'`,
      `docker exec ${container("pooler")} sh -c "sed -i 's/^\\* = host=[^ ]*/* = host=standby/' /tmp/pgbouncer/pgbouncer.ini && kill -HUP 1"`,
      'echo "failover done; connect with $DRILL_SECRET"',
    ].join(" && ");

    const url = `postgresql://${front.user}:${encodeURIComponent(front.password)}@${front.host}:${front.port}/${front.database}`;
    const scenario = validateScenario(
      {
        name: "endpoint-failover",
        target: { kind: "endpoint", allowWrites: true },
        probes: [
          { kind: "select1", every: "50ms", timeout: "500ms" },
          // The application's view: its pool from DATABASE_POOL_MIN/MAX/RECYCLE, as the guide sets them.
          { kind: "select1", name: "app-pool", connection: "pool", every: "50ms", timeout: "500ms" },
          { kind: "select1", name: "replica-reads", endpoint: "ro", every: "100ms", timeout: "500ms" },
          { kind: "writes", every: "50ms", timeout: "1s" },
          { kind: "role", every: "200ms" },
        ],
        steadyState: { window: "2s" },
        schedule: [{ at: "3s", fault: { kind: "command", label: "managed failover", run: failover, timeout: "60s" } }],
        duration: "14s",
        gate: { "failover.latencyMs": "< 20000" },
      },
      "test",
    );
    let log = "";
    const previous = { url: process.env.DATABASE_URL, secret: process.env.DRILL_SECRET };
    process.env.DATABASE_URL = url;
    // The read replica the application would use: the standby, directly.
    const replica = pair.endpoint("standby");
    process.env.DATABASE_READ_REPLICA_URL = `postgresql://${replica.user}:${encodeURIComponent(replica.password)}@${replica.host}:${replica.port}/${replica.database}`;
    Object.assign(process.env, { DATABASE_POOL_MIN: "4", DATABASE_POOL_MAX: "8", DATABASE_POOL_RECYCLE: "300" });
    process.env.DRILL_SECRET = front.password;
    const outcome = await runDrill(scenario, { source: "test", outDir: tempRunDir("endpoint"), log: (line) => (log += `${line}\n`) }).finally(() => {
      process.env.DATABASE_URL = previous.url;
      process.env.DRILL_SECRET = previous.secret;
      if (previous.url === undefined) delete process.env.DATABASE_URL;
      if (previous.secret === undefined) delete process.env.DRILL_SECRET;
      for (const name of ["DATABASE_POOL_MIN", "DATABASE_POOL_MAX", "DATABASE_POOL_RECYCLE", "DATABASE_READ_REPLICA_URL"]) delete process.env[name];
    });
    const { result, runDir } = outcome;

    expect(result.verdict).toBe("pass");
    // The kill, one second, the promotion and the repoint: clients were down at least that second.
    expect(result.metrics.failover.latencyMs).toBeGreaterThan(1000);
    expect(result.metrics.failover.latencyMs).toBeLessThan(20_000);
    expect(result.metrics.writes.acknowledged).toBeGreaterThan(50);
    expect(result.metrics.writes.lostAcknowledged).not.toBeNull();
    // The pooled client went down with the server and came back through fresh pool connections.
    const pooled = result.metrics.availability.byProbe["app-pool"]!;
    expect(pooled.fail).toBeGreaterThan(0);
    expect(pooled.ok).toBeGreaterThan(100);
    expect(result.metrics.downtime.byProbe["app-pool"]!.totalMs).toBeGreaterThan(0);

    // Reads went to the replica URL, and the role probe watched it too: in recovery, then promoted.
    expect(result.metrics.availability.byProbe["replica-reads"]!.ok).toBeGreaterThan(50);
    const replicaRoles = result.metrics.roles.changes.filter((c) => c.node === "replica").map((c) => c.role);
    expect(replicaRoles[0]).toBe("standby");
    expect(replicaRoles).toContain("primary");
    // The endpoint's name never changed, but the role probe saw another server answer as primary.
    const servers = new Set(result.metrics.roles.changes.filter((c) => c.node === "primary" && c.role === "primary").map((c) => c.server));
    expect(servers.size).toBe(2);

    // The command's output is in the History, with the password masked.
    const fault = readEvents(runDir).find((e): e is FaultEvent => e.kind === "fault" && e.phase === "inject")!;
    expect(fault).toMatchObject({ fault: "command", label: "managed failover", ok: true });
    expect(fault.output).toContain("failover done; connect with ***");

    // Its own schema is gone, the killed run's too; the application's table is untouched.
    const schemas = await sql<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pgdrill%' ORDER BY 1");
    expect(schemas).toEqual([]);
    expect(outcome.removed).toEqual([`schema pgdrill_${result.runId.toLowerCase().replace(/[^a-z0-9]/g, "_")}`]);
    expect(log).toMatch(/dropped schema pgdrill_killed_run, left by killed run killed/);
    expect(await sql("SELECT id FROM public.app_data")).toEqual([{ id: 42 }]);

    const texts = [log, ...readdirSync(runDir).map((file) => readFileSync(join(runDir, file), "utf8"))];
    for (const text of texts) expect(text.includes(front.password)).toBe(false);
  });

  it("refuses bad endpoint input before anything starts, naming the field and the fix", async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (text: string) => err.push(text), color: false, live: { write: () => true, isTTY: false } };
    const previous = process.env.DATABASE_URL;
    try {
      delete process.env.DATABASE_URL;
      expect(await main(["run", "endpoint-observe"], io)).toBe(2);
      expect(err.join("")).toMatch(/target\.url: no URL: the scenario gives none and DATABASE_URL is not set\. Export DATABASE_URL/);
      // Reads from a replica the environment does not name.
      process.env.DATABASE_URL = "postgresql://app:hunter2@db.invalid:5432/app";
      const readsReplica = join(mkdtempSync(join(tmpdir(), "pgdrill-ro-")), "ro.yaml");
      writeFileSync(readsReplica, "name: ro\ntarget: { kind: endpoint }\nprobes:\n  - { kind: select1, endpoint: ro }\nduration: 10s\n");
      expect(await main(["run", readsReplica], io)).toBe(2);
      expect(err.join("")).toMatch(/probes\[0\]\.endpoint: reads from the replica, but no replica URL is given\. Export DATABASE_READ_REPLICA_URL/);
      process.env.DATABASE_URL = "mysql://root:hunter2@db:3306/app";
      expect(await main(["run", "endpoint-observe"], io)).toBe(2);
      expect(err.join("")).toMatch(/DATABASE_URL: is not a PostgreSQL connection URL/);
      expect(err.join("")).not.toContain("hunter2");
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
  });
});
