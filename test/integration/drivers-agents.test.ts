/**
 * The driver agents (harness/drivers/<driver>/: libpq, pgjdbc, psycopg), built with their own build.sh
 * and run against a real throwaway PostgreSQL 15 on loopback (Debian's postgresql-15, initdb as the
 * postgres user, scram-sha-256 with a password): their lines speak the probe runner's protocol,
 * their events are History events, writes land, a stopped or frozen server gives bounded
 * fail/info outcomes, stdin's end and a refused setting end them; on a multi-host list whose first
 * host never answers, each driver moves on to the next host itself, as psql does. No Docker, no TS side.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompleteEvent, HistoryEvent, InvokeEvent } from "../../harness/history/events.ts";
import { eventProblem } from "../../harness/history/validate.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import { freePort, sh, startLocalPostgres, type LocalPostgres } from "./local-postgres.ts";

const PASSWORD = "agent-pw-7f3e9";
const DRIVERS = ["libpq", "pgjdbc", "psycopg"] as const;
type Driver = (typeof DRIVERS)[number];

let server: LocalPostgres | null = null;
let port = 0;
const outDirs = new Map<Driver, string>();
const psql = (sql: string) => server!.psql(sql);

interface ProbeOptions {
  name: string;
  type: "select1" | "write";
  connection: "fresh" | "held";
  timeoutMs?: number;
  settings?: Record<string, string>;
  /** The host list; the throwaway server alone by default. */
  hosts?: { host: string; port: number }[];
}

function config(driver: Driver, probe: ProbeOptions): string {
  return JSON.stringify({
    protocol: 1,
    driver,
    probe: {
      everyMs: 50,
      timeoutMs: probe.timeoutMs ?? 1000,
      connectTimeoutMs: 1000,
      table: "pgdrill.writes",
      ...probe,
      settings: undefined,
      hosts: undefined,
    },
    target: {
      hosts: probe.hosts ?? [{ host: "127.0.0.1", port }],
      database: "postgres",
      user: "postgres",
      targetSessionAttrs: "read-write",
    },
    settings: probe.settings ?? {},
    lifetimeMs: 60_000,
  });
}

interface Line {
  "pgdrill-runner": number;
  seq: number;
  type: string;
  t?: number;
  state?: string;
  reason?: string;
  message?: string;
  version?: string;
  event?: HistoryEvent;
}

/** Starts an agent; `lines` fills as it prints; `send` writes a control line; `end` closes stdin. */
function agent(driver: Driver, probe: ProbeOptions) {
  const child = spawn(join(outDirs.get(driver)!, "run"), [], {
    env: { ...process.env, PGDRILL_AGENT_CONFIG: config(driver, probe), PGPASSWORD: PASSWORD },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on("error", () => {}); // an agent that already left
  const exit = new Promise<{ code: number | null; at: number }>((resolve) => child.on("exit", (code) => resolve({ code, at: Date.now() })));
  const lines = () =>
    stdout
      .split("\n")
      .filter((text) => text.trim() !== "")
      .map((text) => JSON.parse(text) as Line);
  const waitFor = async (test: (line: Line) => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (!lines().some(test)) {
      if (Date.now() > until) throw new Error(`no such line within ${ms} ms:\n${stdout}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    lines,
    output: () => stdout + stderr,
    send: (command: object) => child.stdin.write(JSON.stringify(command) + "\n"),
    end: () => child.stdin.end(),
    exit,
    waitFor,
  };
}

/** What every agent's output must be: the protocol, hello first, seq 1, 2, …, valid History events, exiting last. */
function checkProtocol(lines: Line[], driver: Driver): { invokes: InvokeEvent[]; completes: CompleteEvent[] } {
  expect(lines.length).toBeGreaterThan(2);
  lines.forEach((line, index) => {
    expect(line["pgdrill-runner"]).toBe(1);
    expect(line.seq).toBe(index + 1);
  });
  expect(lines[0]!.type).toBe("hello");
  expect(lines[0]!.version).toMatch(new RegExp(`^${driver} \\d+\\.\\d+`));
  expect(lines.at(-1)!.state).toBe("exiting");
  const events = lines.filter((line) => line.type === "event").map((line) => line.event!);
  for (const event of events) expect(eventProblem(event, TARGET_OBSERVATIONS), JSON.stringify(event)).toBeNull();
  const invokes = events.filter((event): event is InvokeEvent => event.kind === "invoke");
  const completes = events.filter((event): event is CompleteEvent => event.kind === "complete");
  // Invokes pair with completes, one at a time, op = 0, 1, 2, …
  expect(completes.map((event) => event.op)).toEqual(invokes.map((event) => event.op));
  expect(invokes.map((event) => event.op)).toEqual(invokes.map((_, index) => index));
  for (let index = 1; index < events.length; index += 1) expect(events[index]!.kind).not.toBe(events[index - 1]!.kind);
  return { invokes, completes };
}

beforeAll(async () => {
  server = await startLocalPostgres(PASSWORD);
  port = server.port;
  psql("CREATE SCHEMA pgdrill; CREATE TABLE pgdrill.writes (probe text NOT NULL, id bigint NOT NULL, PRIMARY KEY (probe, id))");
  for (const driver of DRIVERS) {
    const out = mkdtempSync(join(tmpdir(), `pgdrill-agent-${driver}-`));
    sh("bash", [`harness/drivers/${driver}/build.sh`, out]);
    outDirs.set(driver, out);
  }
}, 300_000);

afterAll(() => {
  server?.remove();
  for (const path of outDirs.values()) rmSync(path, { recursive: true, force: true });
});

describe.each(DRIVERS)("the %s agent", { timeout: 60_000 }, (driver) => {
  it("runs select1 (fresh) every 50 ms for 2 s and reports each operation as History events", async () => {
    const run = agent(driver, { name: `select1-${driver}`, type: "select1", connection: "fresh" });
    await run.waitFor((line) => line.type === "hello", 20_000);
    run.send({ command: "run", durationMs: 2000 });
    const { code } = await run.exit;
    const lines = run.lines();
    const { completes } = checkProtocol(lines, driver);
    expect(code).toBe(0);
    expect(lines.map((line) => line.state ?? line.type)).toEqual(expect.arrayContaining(["running", "probes-done", "exiting"]));
    // At most one per 50 ms. At least one: on a loaded 2-core machine a cold JVM's first connection took 2 s (load average 21).
    expect(completes.length).toBeGreaterThan(0);
    expect(completes.length).toBeLessThanOrEqual(Math.ceil(2000 / 50) + 1);
    for (const complete of completes) expect(complete).toMatchObject({ outcome: "ok", server: `127.0.0.1:${port}`, type: "select1" });
    expect(run.output()).not.toContain(PASSWORD);
  });

  it("runs writes (held) and every acknowledged id is in the table under the probe's name", async () => {
    const name = `writes-${driver}`;
    const run = agent(driver, { name, type: "write", connection: "held" });
    await run.waitFor((line) => line.type === "hello", 20_000);
    run.send({ command: "run", durationMs: 2000 });
    await run.exit;
    const { invokes, completes } = checkProtocol(run.lines(), driver);
    expect(invokes.map((event) => event.value)).toEqual(invokes.map((event) => event.op + 1));
    const acked = completes.filter((event) => event.outcome === "ok").map((event) => event.value);
    expect(acked.length).toBe(completes.length);
    expect(acked.length).toBeGreaterThan(0);
    const rows = psql(`SELECT id FROM pgdrill.writes WHERE probe = '${name}' ORDER BY id`).trim().split("\n").map(Number);
    expect(rows).toEqual(acked);
  });

  it("gives bounded fail/info outcomes with a SQLSTATE or an error when the server stops mid-run", async () => {
    const runs = [
      agent(driver, { name: `stop-w-${driver}`, type: "write", connection: "held" }),
      agent(driver, { name: `stop-s-${driver}`, type: "select1", connection: "fresh" }),
    ];
    for (const run of runs) await run.waitFor((line) => line.type === "hello", 20_000);
    for (const run of runs) run.send({ command: "run", durationMs: 3000 });
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      server!.stop("fast");
      for (const run of runs) {
        const { at } = await run.exit;
        // The run's 3 s, then at most the operation in flight: 2 s to connect and 1 s to answer.
        expect(at - started).toBeLessThan(3000 + 3000 + 1000);
        const { completes } = checkProtocol(run.lines(), driver);
        const failed = completes.filter((event) => event.outcome !== "ok");
        expect(failed.length).toBeGreaterThan(3);
        for (const event of failed) {
          expect(event.error, JSON.stringify(event)).toBeTruthy();
          // A read that fails is fail; a write that never reached the server is fail, one cut mid-statement info.
          expect(event.type === "select1" ? ["fail"] : ["fail", "info"]).toContain(event.outcome);
          // connectTimeoutMs + 1 s to connect, then timeoutMs to answer: the agent's own deadlines.
          expect(event.latencyMs).toBeLessThan(1000 + 1000 + 1000 + 500);
        }
        // pgjdbc gives every error a SQLSTATE (08001 for a refused connection), the agent's own deadline none;
        // libpq gives none to a connection that failed.
        if (driver === "pgjdbc")
          for (const event of failed) if (!event.timedOut) expect(event.sqlstate, JSON.stringify(event)).toBeDefined();
        expect(run.output()).not.toContain(PASSWORD);
      }
    } finally {
      server!.start();
    }
  });

  it("abandons an operation on a frozen server at its deadline (timedOut), as pgjdbc#1556 needs", async () => {
    const runs = [
      agent(driver, { name: `frozen-w-${driver}`, type: "write", connection: "held", timeoutMs: 500 }),
      agent(driver, { name: `frozen-s-${driver}`, type: "select1", connection: "held", timeoutMs: 500 }),
    ];
    for (const run of runs) await run.waitFor((line) => line.type === "hello", 20_000);
    for (const run of runs) run.send({ command: "run", durationMs: 4000 });
    // Frozen once each holds a connection that has answered, so the next statement is sent into silence.
    const isOk = (line: Line) => line.event?.kind === "complete" && line.event.outcome === "ok";
    for (const run of runs) await run.waitFor(isOk, 15_000);
    const pids = server!.pids();
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    // Operations after the last that answered met the frozen server (one before may have timed out on a cold start).
    const frozenFrom = runs.map(
      (run) =>
        Math.max(
          ...run
            .lines()
            .filter(isOk)
            .map((line) => (line.event as CompleteEvent).op),
        ) + 1,
    );
    const frozenTimeout = (index: number) => (line: Line) =>
      line.event?.kind === "complete" && line.event.timedOut === true && line.event.op >= frozenFrom[index]!;
    try {
      for (const [index, run] of runs.entries()) await run.waitFor(frozenTimeout(index), 5000);
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
    }
    for (const [index, run] of runs.entries()) {
      await run.exit;
      const { completes } = checkProtocol(run.lines(), driver);
      const timedOut = completes.filter((event) => event.timedOut && event.op >= frozenFrom[index]!);
      // The first: a statement sent on the held connection, abandoned timeoutMs later (a write may have committed: info).
      expect(timedOut[0]).toMatchObject({ outcome: timedOut[0]!.type === "write" ? "info" : "fail" });
      expect(timedOut[0]!.latencyMs).toBeGreaterThanOrEqual(500);
      expect(timedOut[0]!.latencyMs).toBeLessThan(500 + 1000);
      for (const event of timedOut) {
        // A write never sent (its connection timed out) is fail.
        if (/not connected/.test(event.error ?? "")) expect(event.outcome).toBe("fail");
        // timeoutMs after sending, or connectTimeoutMs + 1 s for a new connection; never the driver's own minutes.
        expect(event.latencyMs).toBeLessThan(2000 + 500 + 500);
      }
    }
  });

  it("exits within 2 s of its stdin closing, mid-run", async () => {
    const run = agent(driver, { name: `eof-${driver}`, type: "select1", connection: "held" });
    await run.waitFor((line) => line.type === "hello", 20_000);
    run.send({ command: "run", durationMs: 30_000 });
    await run.waitFor((line) => line.event?.kind === "complete", 5000);
    const closed = Date.now();
    run.end();
    const { at } = await run.exit;
    expect(at - closed).toBeLessThan(2000);
    expect(run.lines().at(-1)).toMatchObject({ type: "state", state: "exiting", reason: "stdin closed" });
  });

  it("ends with an error line naming a setting the driver refuses", async () => {
    const setting = driver === "pgjdbc" ? "noSuchProperty" : "no_such_keyword";
    const run = agent(driver, { name: `refused-${driver}`, type: "select1", connection: "fresh", settings: { [setting]: "1" } });
    const { code } = await run.exit;
    const lines = run.lines();
    // libpq's agent checks its keywords before hello (PQconndefaults); the others say hello first.
    if (driver !== "libpq") expect(lines[0]!.type).toBe("hello");
    expect(code).not.toBe(0);
    expect(lines.find((line) => line.type === "error")?.message).toContain(setting);
    expect(lines.at(-1)!.state).toBe("exiting");
  });
});

/**
 * A host that never answers: it accepts the TCP connection and never speaks, so a client waits for the
 * server's first reply (SSL or authentication) until its own connect timeout, as with a frozen server or
 * a black-holed one behind a proxy that completes the handshake.
 */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("a multi-host list whose first host never answers", { timeout: 60_000 }, () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(() => silent?.close());

  it("psql (libpq, PGCONNECT_TIMEOUT=2) moves on to the second host after about 2 s", () => {
    const started = Date.now();
    const run = spawnSync(
      "psql",
      [
        `host=127.0.0.1,127.0.0.1 port=${silent.port},${port} user=postgres dbname=postgres target_session_attrs=read-write`,
        "-Atc",
        "SELECT inet_server_port()",
      ],
      { encoding: "utf8", env: { ...process.env, PGPASSWORD: PASSWORD, PGCONNECT_TIMEOUT: "2" } },
    );
    const took = Date.now() - started;
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(String(port));
    // libpq 15 counts connect_timeout in whole seconds of time(): between 1 and 2 s on the silent host.
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(2000 + 1000);
    console.log(`psql: landed on ${run.stdout.trim()} after ${took} ms`);
  });

  // connectTimeoutMs 1000: connect_timeout=2 for libpq and psycopg (libpq's minimum), connectTimeout=1 for pgjdbc.
  const lands = [
    // libpq 15 counts connect_timeout in whole seconds of time(); psycopg times each host's attempt itself.
    { driver: "libpq", settings: {}, deadline: 5000, from: 1000, to: 2000 + 1000 },
    { driver: "psycopg", settings: {}, deadline: 5000, from: 2000, to: 2000 + 1000 },
    // pgjdbc's connectTimeout bounds the TCP connect only: with socketTimeout its startup reads time out too (SSL, then plain).
    { driver: "pgjdbc", settings: { socketTimeout: "1" }, deadline: 2 * (1000 + 2000) + 1000, from: 1000, to: 3000 + 2000 },
  ] as const;
  it.each(lands)("the $driver agent ($settings) lands on the second host by the driver's own timeout", async (c) => {
    const hosts = [
      { host: "127.0.0.1", port: silent.port },
      { host: "127.0.0.1", port },
    ];
    const run = agent(c.driver, { name: `multi-${c.driver}`, type: "select1", connection: "fresh", hosts, settings: c.settings });
    await run.waitFor((line) => line.type === "hello", 20_000);
    // The agent's own deadline: each host's whole timeout, then 1 s; pgdrill waits that long for an operation at stop.
    expect(run.lines()[0]).toMatchObject({ connectDeadlineMs: c.deadline });
    run.send({ command: "run", durationMs: 100 });
    const { code } = await run.exit;
    const { completes } = checkProtocol(run.lines(), c.driver);
    expect(code).toBe(0);
    const first = completes[0]!;
    console.log(`${c.driver} ${JSON.stringify(c.settings)}: ${JSON.stringify(first)}`);
    expect(first, JSON.stringify(first)).toMatchObject({ outcome: "ok", server: `127.0.0.1:${port}` });
    expect(first.timedOut).toBeUndefined();
    expect(first.latencyMs).toBeGreaterThanOrEqual(c.from);
    expect(first.latencyMs).toBeLessThan(c.to);
    if (c.driver === "libpq") {
      // The host that answered, and the one passed over (libpq keeps no reason once connected).
      expect(first.dialed).toBe(`127.0.0.1:${port}`);
      expect(first.skipped).toEqual([`127.0.0.1:${silent.port}: passed over (libpq keeps no reason once connected)`]);
    }
    expect(run.output()).not.toContain(PASSWORD);
  });

  it("the pgjdbc agent with pgjdbc's defaults waits on the silent host until the agent's own deadline (timedOut)", async () => {
    const hosts = [
      { host: "127.0.0.1", port: silent.port },
      { host: "127.0.0.1", port },
    ];
    const run = agent("pgjdbc", { name: "multi-defaults-pgjdbc", type: "select1", connection: "fresh", hosts });
    await run.waitFor((line) => line.type === "hello", 20_000);
    expect(run.lines()[0]).toMatchObject({ connectDeadlineMs: 2 * 1000 + 1000 });
    run.send({ command: "run", durationMs: 100 });
    await run.exit;
    const first = checkProtocol(run.lines(), "pgjdbc").completes[0]!;
    console.log(`pgjdbc (defaults): ${JSON.stringify(first)}`);
    // No socketTimeout, no loginTimeout: pgjdbc reads the server's first reply with no limit, and never reaches the second host.
    expect(first).toMatchObject({ outcome: "fail", timedOut: true, error: "not connected within 3000 ms: connection abandoned" });
    expect(first.latencyMs).toBeGreaterThanOrEqual(3000);
    expect(first.latencyMs).toBeLessThan(3000 + 500);
  });

  it("the libpq agent names each host's failure (skipped) when none answers, libpq's own timeout, not the agent's", async () => {
    const closed = await freePort();
    const hosts = [
      { host: "127.0.0.1", port: silent.port },
      { host: "127.0.0.1", port: closed },
    ];
    const run = agent("libpq", { name: "multi-none-libpq", type: "select1", connection: "fresh", hosts });
    await run.waitFor((line) => line.type === "hello", 20_000);
    // Two addresses, connect_timeout 2 s each, then 1 s: the agent's own deadline, said in hello.
    expect(run.lines()[0]).toMatchObject({ connectDeadlineMs: 5000 });
    run.send({ command: "run", durationMs: 100 });
    await run.exit;
    const first = checkProtocol(run.lines(), "libpq").completes[0]!;
    expect(first).toMatchObject({
      outcome: "fail",
      skipped: [`127.0.0.1:${silent.port}: timeout expired`, `127.0.0.1:${closed}: Connection refused`],
    });
    expect(first.error).toContain("timeout expired");
    expect(first.timedOut).toBeUndefined();
    expect(first.dialed).toBeUndefined();
  });

  it("the libpq agent's own deadline ends a connect that libpq would not (connect_timeout=0): timedOut", async () => {
    const hosts = [
      { host: "127.0.0.1", port: silent.port },
      { host: "127.0.0.1", port },
    ];
    const settings = { connect_timeout: "0" };
    const run = agent("libpq", { name: "multi-deadline-libpq", type: "select1", connection: "fresh", hosts, settings });
    await run.waitFor((line) => line.type === "hello", 20_000);
    // No timeout of libpq's own: each address gets connectTimeoutMs (1 s), then 1 s.
    expect(run.lines()[0]).toMatchObject({ connectDeadlineMs: 3000 });
    run.send({ command: "run", durationMs: 100 });
    await run.exit;
    const first = checkProtocol(run.lines(), "libpq").completes[0]!;
    expect(first).toMatchObject({ outcome: "fail", timedOut: true, error: "not connected within 3000 ms (abandoned)" });
    expect(first.latencyMs).toBeGreaterThanOrEqual(3000);
    expect(first.latencyMs).toBeLessThan(3000 + 500);
  });
});
