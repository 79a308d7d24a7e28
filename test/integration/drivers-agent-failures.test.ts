/**
 * Driver agents that go wrong, through pgdrill's own side (harness/probe/driver/: agent-probe.ts,
 * spawn.ts) and real agents (libpq, pgjdbc, psycopg) against a throwaway PostgreSQL 15 on loopback
 * (an endpoint target: no Docker). A refused setting fails the drill with a message naming it and
 * the run directory keeps its History; an agent killed mid-run fails the drill with how it died (and
 * its last error line when it wrote one) and leaves no process behind; the drill's stop, and stdin's
 * end when pgdrill itself is killed, make every agent exit within seconds. PID 1 here does not reap
 * orphans, so "no process behind" is checked in /proc: an agent is found by its PGDRILL_AGENT_CONFIG,
 * which names this file's server port (other drills on the machine are left alone).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompleteEvent, HistoryEvent } from "../../harness/history/events.ts";
import { agentDir } from "../../harness/probe/driver/build.ts";
import { runDrill, type DrillOutcome } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { readEvents, tempRunDir } from "./helpers.ts";
import { startLocalPostgres, type LocalPostgres } from "./local-postgres.ts";

const PASSWORD = "agent-fail-pw-51c2";
const DRIVERS = ["libpq", "pgjdbc", "psycopg"] as const;
type Driver = (typeof DRIVERS)[number];

let server: LocalPostgres | null = null;

/** Live processes (not zombies) whose PGDRILL_AGENT_CONFIG dials this file's server: this file's agents. */
function agentProcesses(): Array<{ pid: number; probe: string; command: string }> {
  const found: Array<{ pid: number; probe: string; command: string }> = [];
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.startsWith("Z")) continue;
      const config = readFileSync(`/proc/${entry}/environ`, "utf8")
        .split("\0")
        .find((variable) => variable.startsWith("PGDRILL_AGENT_CONFIG="));
      if (!config?.includes(`"port":${server!.port}}`)) continue;
      const probe = (JSON.parse(config.slice("PGDRILL_AGENT_CONFIG=".length)) as { probe: { name: string } }).probe.name;
      found.push({ pid: Number(entry), probe, command: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim() });
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return found;
}

async function until<T>(what: string, ms: number, test: () => T | undefined | null | false): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = test();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A drill of the endpoint target (this file's server) with these probes, as a scenario file would say it. */
const scenarioInput = (name: string, probes: object[], duration = "8s") => ({
  name,
  target: { kind: "endpoint", url: server!.url },
  probes,
  steadyState: { window: "1s", minAvailability: 0 },
  duration,
});

const select1 = (driver: Driver, driverSettings?: Record<string, string>) => ({
  kind: "select1",
  driver,
  every: "100ms",
  timeout: "1s",
  ...(driverSettings ? { driverSettings } : {}),
});

/** The drill, with what it logged; `seen` has each probe that completed an operation and each phase begun, as they happen. */
async function drill(name: string, probes: object[], during?: (seen: Set<string>, abort: AbortController) => Promise<void>) {
  const logs: string[] = [];
  const seen = new Set<string>();
  const abort = new AbortController();
  const running = runDrill(validateScenario(scenarioInput(name, probes), "drivers-agent-failures.test.ts"), {
    source: "drivers-agent-failures.test.ts",
    outDir: tempRunDir(name),
    log: (line) => logs.push(line),
    signal: abort.signal,
    onEvent: (event: HistoryEvent) => {
      if (event.kind === "complete") seen.add(event.probe);
      if (event.kind === "phase") seen.add(`phase ${event.phase}`);
    },
  });
  // The test's own steps; a drill that fails first must not leave them waiting, and their failure says how the drill ended.
  const steps = during?.(seen, abort).catch((error: unknown) => error);
  const outcome: DrillOutcome = await running;
  const stepError = await steps;
  if (stepError) throw new Error(`${String(stepError)}; the drill: ${outcome.result.reason}\n${logs.join("\n")}`);
  const runEnd = readEvents(outcome.runDir).find((event) => event.kind === "run-end");
  return { ...outcome, logs, runEnd, ended: Date.now() };
}

beforeAll(async () => {
  server = await startLocalPostgres(PASSWORD);
  // Built (or found in the cache) before any drill, as `fixtures/setup.sh --with-drivers` does: no build is timed below.
  for (const driver of DRIVERS) await agentDir(driver);
}, 300_000);

afterAll(() => {
  server?.remove();
});

describe("a driver agent that goes wrong", { timeout: 90_000 }, () => {
  it.each([
    ["libpq", "no_such_keyword"],
    ["pgjdbc", "noSuchProperty"],
    ["psycopg", "no_such_keyword"],
  ] as const)("%s: a refused setting (%s) fails the drill naming it; the run directory keeps its History", async (driver, setting) => {
    const { result, runDir, runEnd } = await drill(`refused-${driver}`, [select1(driver, { [setting]: "1" })]);
    expect(result.verdict).toBe("errored");
    expect(result.reason).toContain(`the ${driver} agent of probe "select1-${driver}"`);
    expect(result.reason).toContain(setting);
    expect(existsSync(join(runDir, "history.jsonl"))).toBe(true);
    expect(runEnd).toMatchObject({ kind: "run-end", status: "errored" });
    expect(runEnd?.kind === "run-end" && runEnd.error).toContain(setting);
    expect(readFileSync(join(runDir, "history.jsonl"), "utf8")).not.toContain(PASSWORD);
    expect(agentProcesses()).toEqual([]);
  });

  it("psycopg: a value libpq refuses only when connecting ends the agent mid-run; the drill quotes its last error line", async () => {
    const { result } = await drill("bad-value-psycopg", [select1("psycopg", { keepalives_idle: "abc" })]);
    expect(result.verdict).toBe("errored");
    // How it ended (exit code 2), then its error line, naming the setting.
    expect(result.reason).toMatch(/exited before its probe was done \(exit code 2\): .*keepalives_idle/);
    expect(agentProcesses()).toEqual([]);
  });

  it.each(DRIVERS)("%s killed mid-run (SIGKILL) fails the drill with how it died; no agent of the drill is left", async (driver) => {
    let killedAt = 0;
    const { result, runEnd, ended } = await drill(
      `killed-${driver}`,
      DRIVERS.map((each) => select1(each)),
      async (seen) => {
        await until("every agent's first operation", 30_000, () => DRIVERS.every((each) => seen.has(`select1-${each}`)));
        const victim = await until(`the ${driver} agent's process`, 5000, () =>
          agentProcesses().find((agent) => agent.probe === `select1-${driver}`),
        );
        process.kill(victim.pid, "SIGKILL");
        killedAt = Date.now();
      },
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(result.verdict).toBe("errored");
    expect(result.reason).toContain(
      `the ${driver} agent of probe "select1-${driver}" exited before its probe was done (killed by SIGKILL)`,
    );
    expect(runEnd).toMatchObject({ status: "errored" });
    // The other agents were stopped when it failed, not left to their 8 s: the drill ended within seconds of the kill.
    expect(ended - killedAt).toBeLessThan(6000);
    expect(agentProcesses()).toEqual([]);
  });

  it("the drill's stop (an interrupt) makes every agent exit within seconds", async () => {
    let abortedAt = 0;
    let running: string[] = [];
    const { result, ended, logs } = await drill(
      "interrupted",
      DRIVERS.map((each) => select1(each)),
      async (seen, abort) => {
        await until("the drill phase, every agent probing", 30_000, () =>
          DRIVERS.every((each) => seen.has(`select1-${each}`) && seen.has("phase drill")),
        );
        running = agentProcesses().map((agent) => agent.probe);
        abort.abort(new Error("SIGINT"));
        abortedAt = Date.now();
      },
    );
    expect(running.sort(), logs.join("\n")).toEqual(DRIVERS.map((each) => `select1-${each}`));
    expect(result.complete).toBe(true);
    expect(result.reason).toContain("interrupted during the drill");
    // Each agent stops after its operation in flight (at most 1 s to answer here); the drill then heals and analyses.
    expect(ended - abortedAt).toBeLessThan(5000);
    expect(agentProcesses()).toEqual([]);
  });
});

/**
 * A subreaper around a command: what the command leaves behind when it is killed is reparented to
 * it (not to PID 1, which here reaps nothing), and it reports each process it reaps and when, on
 * stderr, then exits once none is left.
 */
const REAPER = `
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
child = subprocess.Popen(sys.argv[1:])
print(json.dumps({"started": child.pid}), file=sys.stderr, flush=True)
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    print(json.dumps({"reaped": pid, "atMs": time.time() * 1000}), file=sys.stderr, flush=True)
`;

describe("pgdrill killed mid-drill (SIGKILL)", { timeout: 90_000 }, () => {
  it("leaves no agent: each exits within 2 s of its stdin closing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-orphans-"));
    try {
      const file = join(dir, "scenario.json");
      writeFileSync(
        file,
        JSON.stringify(
          scenarioInput(
            "orphans",
            DRIVERS.map((each) => select1(each)),
            "60s",
          ),
        ),
      );
      writeFileSync(join(dir, "reaper.py"), REAPER);
      const out = join(dir, "run");
      const reaper = spawn("python3", [join(dir, "reaper.py"), process.execPath, "bin/pgdrill.js", "run", file, "--out", out, "--quiet"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      // The reaper's reports and pgdrill's own output (why it failed, when it did).
      let stderr = "";
      reaper.stdout.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      reaper.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const reaperExit = new Promise<number | null>((resolve) => reaper.on("exit", (code) => resolve(code)));
      const reports = () =>
        stderr
          .split("\n")
          .filter((line) => /^\{"(started|reaped)"/.test(line))
          .map((line) => JSON.parse(line) as { started?: number; reaped?: number; atMs?: number });
      const pgdrillPid = await until("pgdrill's pid", 10_000, () => reports().find((report) => report.started)?.started);
      // Every agent has completed an operation, so each is mid-run when pgdrill dies.
      await until("every agent's first operation", 60_000, () => {
        if (!existsSync(join(out, "history.jsonl"))) return false;
        const done = new Set(readEvents(out).flatMap((event) => (event.kind === "complete" ? [(event as CompleteEvent).probe] : [])));
        return DRIVERS.every((each) => done.has(`select1-${each}`));
      });
      const agents = agentProcesses();
      expect(agents.map((agent) => agent.probe).sort(), stderr).toEqual(DRIVERS.map((each) => `select1-${each}`));
      process.kill(pgdrillPid, "SIGKILL");
      const killedAt = Date.now();
      expect(await Promise.race([reaperExit, new Promise((resolve) => setTimeout(() => resolve("still waiting"), 15_000))])).toBe(0);
      for (const agent of agents) {
        const reaped = reports().find((report) => report.reaped === agent.pid);
        expect(reaped, `${agent.probe} (${agent.command}) was reaped:\n${stderr}`).toBeDefined();
        expect(reaped!.atMs! - killedAt, agent.probe).toBeLessThan(2000);
      }
      expect(agentProcesses()).toEqual([]);
    } finally {
      for (const agent of agentProcesses()) process.kill(agent.pid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
