/**
 * `pgdrill watch`, marks and manual steps through a real pseudo-terminal (util-linux `script`),
 * against the primary of a real container pair that the test starts with the target runtime.
 * Keys are written to the terminal as a person would type them; the History says when each
 * landed, which the test compares with when it typed.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoint } from "../../harness/connection/endpoint.ts";
import { Session } from "../../harness/connection/session.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { buildTopology, type StartedTopology } from "../../harness/targets/index.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const runId = `watch-${Date.now().toString(36)}`;
let pair: StartedTopology;
let url: string;

/** `pgdrill <args>` in a pseudo-terminal: what it prints, keys to type, its exit. */
function inTerminal(args: string[]) {
  const command = [process.execPath, "bin/pgdrill.js", ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ");
  const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  /** Types `keys`; returns the wall clock (ms) when they were written. */
  const type = (keys: string) => {
    const at = Date.now();
    child.stdin.write(keys);
    return at;
  };
  return { waitFor, type, exit, output: () => output, kill: () => child.kill("SIGKILL") };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const wallOf = (events: HistoryEvent[], t: number) => {
  const start = events.find((e) => e.kind === "run-start");
  return Date.parse(start?.kind === "run-start" ? start.wallClock : "") + t;
};

async function schemasLike(prefix: string): Promise<string[]> {
  const session = await Session.connect(pair.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "test" });
  try {
    return (await session.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", [prefix], 5000)).rows.map((row) => row.nspname);
  } finally {
    await session.close();
  }
}

describe("pgdrill watch, marks and manual steps in a pseudo-terminal (a real container pair's primary)", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    const target = validateScenario({ name: "watched", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "10s" }, "test").target;
    pair = await buildTopology(target).start({ runId, scenario: "watch-test", log: () => undefined });
    const primary: Endpoint = pair.endpoint("primary");
    url = `postgresql://${encodeURIComponent(primary.user)}:${encodeURIComponent(primary.password)}@${primary.host}:${primary.port}/${primary.database}`;
  }, 120_000);
  afterAll(async () => {
    await pair?.teardown();
    expect(await leftovers(runId)).toEqual([]);
  });

  it("watch: m + a note + Enter marks the moment m was pressed; Ctrl-C ends it completed with every report, and its schema is gone", async () => {
    const out = tempRunDir("watch");
    const term = inTerminal(["watch", url, "--writes", "--every", "50ms", "--out", out]);
    await term.waitFor(/keys: m mark a moment/);
    await term.waitFor(/steady state:/);
    await sleep(1000);
    const pressed = term.type("m");
    await sleep(300);
    term.type("deleted the primary pod");
    await sleep(200);
    term.type("\r");
    await term.waitFor(/mark: deleted the primary pod/, 5000);
    // A second mark typed in one go (as pasted), and an arrow key and Esc that must not become notes.
    await sleep(500);
    term.type("\u001b[A");
    term.type("mnever mind\u001b");
    term.type("mpromoted by hand\r");
    await term.waitFor(/mark: promoted by hand/, 5000);
    await sleep(1000);
    const interrupted = term.type("\u0003");
    expect(await term.exit).toBe(0);
    const ended = Date.now();
    const events = readEvents(out);
    const marks = events.filter((e) => e.kind === "mark");
    expect(marks.map((e) => e.kind === "mark" && [e.note, e.by])).toEqual([["deleted the primary pod", "keyboard"], ["promoted by hand", "keyboard"]]);
    const markDelta = wallOf(events, marks[0]!.t) - pressed;
    console.log(`mark recorded ${markDelta.toFixed(1)} ms after m was typed; Ctrl-C to exit ${ended - interrupted} ms`);
    expect(Math.abs(markDelta)).toBeLessThan(250);
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "completed" });
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as { verdict: string; metrics: { writes: { acknowledged: number; lostAcknowledged: number } } };
    expect(result.verdict).toBe("pass");
    expect(result.metrics.writes.acknowledged).toBeGreaterThan(20);
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toContain("### Marks and manual steps");
    expect(md).toMatch(/\| mark \| deleted the primary pod \| keyboard \|/);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("deleted the primary pod");
    for (const file of ["junit.xml", "scenario.json", "history.jsonl"]) expect(readFileSync(join(out, file), "utf8").length).toBeGreaterThan(0);
    expect(await schemasLike("pgdrill_")).toEqual([]);
    expect(term.output()).toMatch(/finishing the watch and writing the reports/);
  });

  it("watch outside a terminal: `pgdrill mark <run-dir>` marks from elsewhere, --for ends it", async () => {
    const out = tempRunDir("watch-pipe");
    const child = spawn(process.execPath, ["bin/pgdrill.js", "watch", url, "--every", "100ms", "--for", "4s", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
    while (!/steady state:/.test(output)) await sleep(50);
    const sent = Date.now();
    const mark = spawnSync(process.execPath, ["bin/pgdrill.js", "mark", out, "failed over in the console"], { encoding: "utf8" });
    expect(mark.status).toBe(0);
    expect(await exit).toBe(0);
    const events = readEvents(out);
    const marked = events.find((e) => e.kind === "mark");
    expect(marked).toMatchObject({ note: "failed over in the console", by: "command" });
    console.log(`pgdrill mark recorded ${(wallOf(events, marked!.t) - sent).toFixed(0)} ms after it was run`);
    const after = spawnSync(process.execPath, ["bin/pgdrill.js", "mark", out, "too late"], { encoding: "utf8" });
    expect(after.status).toBe(2);
    expect(after.stderr).toMatch(/already ended \(completed\)/);
  });

  it("a manual step confirmed with Enter is the fault the checkers measure from; one not confirmed times out, recorded; outside a terminal it is refused", async () => {
    const scenarioFile = join(tempRunDir("manual-scenario"), "..", "game-day.json");
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        name: "game-day",
        target: { kind: "endpoint", url, allowWrites: true },
        probes: [
          { kind: "select1", every: "50ms", timeout: "500ms", connectTimeout: "500ms" },
          { kind: "writes", every: "50ms", timeout: "500ms", connectTimeout: "500ms" },
        ],
        steadyState: { window: "1s" },
        schedule: [
          { at: "2s", manual: { say: `Run: docker pause pgdrill-${runId}-primary`, timeout: "5s" } },
          { at: "6s", manual: { say: "Nobody does this one", timeout: "1s" } },
        ],
        duration: "9s",
      }),
    );
    const refused = spawnSync(process.execPath, ["bin/pgdrill.js", "run", scenarioFile], { encoding: "utf8", input: "" });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/schedule\[0\]\.manual.*docker pause.*not interactive.*--confirm-manual command.*--confirm-manual auto/s);

    const out = tempRunDir("manual");
    const term = inTerminal(["run", scenarioFile, "--out", out]);
    await term.waitFor(/>>> MANUAL STEP m1: Run: docker pause/);
    // The operator does it, then presses Enter; the primary is frozen for 1.5 s from then.
    expect(spawnSync("docker", ["pause", `pgdrill-${runId}-primary`]).status).toBe(0);
    const confirmed = term.type("\r");
    await sleep(1500);
    expect(spawnSync("docker", ["unpause", `pgdrill-${runId}-primary`]).status).toBe(0);
    await term.waitFor(/m2: not confirmed within 1\.00 s/, 20_000);
    const code = await term.exit;
    const events = readEvents(out);
    const fault = events.find((e) => e.kind === "fault" && e.phase === "inject");
    expect(fault).toMatchObject({ id: "m1", fault: "manual", label: `Run: docker pause pgdrill-${runId}-primary`, ok: true });
    const confirmDelta = wallOf(events, fault!.t) - confirmed;
    const shown = events.find((e) => e.kind === "action" && e.id === "m1" && e.phase === "start")!;
    expect(events.find((e) => e.kind === "action" && e.id === "m2" && e.phase === "end")).toMatchObject({ ok: false, error: "not confirmed within 1.00 s" });
    expect(events.filter((e) => e.kind === "fault").map((e) => e.kind === "fault" && e.id)).toEqual(["m1"]);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as { verdict: string; metrics: { failover: { firstFaultAt?: number }; recovery: { latencyMs: number | null }; downtime: { windows: Array<{ startMs: number; durationMs: number }> } } };
    console.log(`manual step: confirmed ${confirmDelta.toFixed(1)} ms after Enter (shown at +${shown.t.toFixed(0)} ms, confirmed at +${fault!.t.toFixed(0)} ms); recovery ${result.metrics.recovery.latencyMs} ms; downtime ${JSON.stringify(result.metrics.downtime.windows.map((w) => Math.round(w.durationMs)))}; exit ${code}`);
    expect(Math.abs(confirmDelta)).toBeLessThan(250);
    // Recovery is measured from the confirmation: the 1.5 s freeze, give or take the probes' 500 ms timeouts.
    expect(result.metrics.recovery.latencyMs).toBeGreaterThan(1000);
    expect(result.metrics.recovery.latencyMs).toBeLessThan(4000);
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toMatch(/\| manual confirmed \| m1 confirmed after [\d.]+ s: Run: docker pause .*\| keyboard \|/);
    expect(md).toMatch(/\| manual not done \| m2 not confirmed within 1\.00 s: Nobody does this one/);
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "completed" });
  });

  it("`pgdrill confirm --step` from another process: a late confirmation for m1 is refused while m2 waits; --not-done records m2 as not done, with why", async () => {
    const scenarioFile = join(tempRunDir("steps-scenario"), "..", "two-steps.json");
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        name: "two-steps",
        target: { kind: "endpoint", url },
        probes: [{ kind: "select1", every: "100ms", timeout: "500ms", connectTimeout: "500ms" }],
        steadyState: { window: "1s" },
        schedule: [
          { at: "1s", manual: { say: "Delete the primary pod", timeout: "1s" } },
          { at: "3s", manual: { say: "Promote the standby by hand", timeout: "8s" } },
        ],
        duration: "13s",
      }),
    );
    const out = tempRunDir("steps");
    const child = spawn(process.execPath, ["bin/pgdrill.js", "run", scenarioFile, "--confirm-manual", "command", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const deadline = Date.now() + 60_000;
    while (!/>>> MANUAL STEP m2: Promote the standby by hand/.test(output)) {
      if (Date.now() > deadline) throw new Error(`m2 was never shown:\n${output}`);
      await sleep(50);
    }
    const late = spawnSync(process.execPath, ["bin/pgdrill.js", "confirm", out, "--step", "m1", "pod deleted"], { encoding: "utf8" });
    expect(late.status).toBe(2);
    expect(late.stderr).toMatch(/^pgdrill: m1 is not waiting: it ended without an answer .* at [\d.]+ s into the run; m2 \("Promote the standby by hand"\) is waiting\. If you meant m2, send it again with --step m2; .*\n$/);
    const notDone = spawnSync(process.execPath, ["bin/pgdrill.js", "confirm", out, "--step", "2", "--not-done", "the standby was unreachable"], { encoding: "utf8" });
    expect(notDone.stderr).toBe("");
    expect(notDone.status).toBe(0);
    expect(notDone.stdout).toBe(`recorded m2 ("Promote the standby by hand") as not done: the standby was unreachable: ${out}\n`);
    expect(await exit).toBe(0);
    const events = readEvents(out);
    expect(events.filter((e) => e.kind === "fault")).toEqual([]);
    expect(events.filter((e) => e.kind === "mark")).toEqual([]);
    expect(events.filter((e) => e.kind === "action" && e.phase === "end").map((e) => e.kind === "action" && [e.id, e.ok, e.error])).toEqual([
      ["m1", false, "not confirmed within 1.00 s"],
      ["m2", false, "reported not done by command: the standby was unreachable"],
    ]);
    expect(events.some((e) => e.kind === "log" && e.level === "warn" && e.message.startsWith("`pgdrill confirm --step m1` refused: m1 is not waiting"))).toBe(true);
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toMatch(/\| manual not done \| m2 reported not done by command: the standby was unreachable: Promote the standby by hand \| command \|/);
  });
});
