/**
 * `pgdrill watch` and Ctrl-C: once it measures, Ctrl-C finishes it completed with every report;
 * while it is still starting there is nothing to finish, so it removes what it started and its run
 * directory, says so in one line, and exits 130 (143 for SIGTERM), as an interrupted command does.
 * The SIGINT is the watch's own handler's (process.emit), the target a fake one.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { watchCommand } from "../../harness/cli/watch.ts";
import { monotonicClock } from "../../harness/clock.ts";
import type { Topology, TopologyStartOptions } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";

const URL = "postgresql://app:secret@127.0.0.1:9/app";

function io() {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => (out += t), err: (t: string) => (err += t), color: false, live: { write: () => true } }, out: () => out, err: () => err };
}

/** A target whose start runs `starting` (given the start's options) before it returns a fake started target. */
function target(starting: (options: TopologyStartOptions) => Promise<void>) {
  const started = new FakeTarget({ clock: monotonicClock() });
  let startCalls = 0;
  const topology: Topology = {
    kind: "endpoint",
    nodes: ["primary"],
    initialPrimary: "primary",
    start: async (options) => {
      startCalls += 1;
      await starting(options);
      return started;
    },
  };
  return { topology, started, startCalls: () => startCalls };
}

const aborted = (signal: AbortSignal | undefined) => new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener("abort", () => resolve(), { once: true })));

describe("pgdrill watch: Ctrl-C while it is still starting", { timeout: 30_000 }, () => {
  it("while connecting (the start gives up when told): exit 130 within moments, one line, no run directory left", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "pgdrill-watch-cancel-")), "run");
    const fake = target(async (options) => {
      setImmediate(() => process.emit("SIGINT", "SIGINT"));
      await aborted(options.signal);
      throw new Error("the endpoint 127.0.0.1:9 did not answer before the start-up timeout (aborted)");
    });
    const cli = io();
    const began = Date.now();
    const outcome = await watchCommand(URL, { every: "100ms", gate: [], out }, cli.io, fake.topology);
    expect(Date.now() - began).toBeLessThan(5000);
    expect(outcome).toEqual({ exitCode: 130, runDir: null });
    expect(cli.err()).toBe(`pgdrill: watch stopped (SIGINT) while it was still starting, before anything was measured: no report; removed its run directory ${out}\n`);
    // No summary, no "errored", no "aborted" on stdout: it is not presented as a failed run.
    expect(cli.out()).toBe("");
    expect(existsSync(out)).toBe(false);
    expect(fake.started.tornDown).toBe(0);
  });

  it("after the start made something (a schema, a container) but before the probes: it is torn down, and an --out that was there keeps only what it had", async () => {
    const out = mkdtempSync(join(tmpdir(), "pgdrill-watch-cancel-out-"));
    const fake = target(async (options) => {
      // The start finishes what it is doing (as creating the writes' schema does), then the drill sees the stop.
      process.emit("SIGTERM", "SIGTERM");
      await aborted(options.signal);
    });
    const cli = io();
    const outcome = await watchCommand(URL, { every: "100ms", gate: [], out }, cli.io, fake.topology);
    expect(outcome.exitCode).toBe(143);
    expect(fake.started.tornDown).toBe(1);
    expect(cli.err()).toMatch(/^pgdrill: watch stopped \(SIGTERM\) while it was still starting, before anything was measured: no report; removed fake target, its files in .*\n$/);
    expect(cli.err().trim().split("\n")).toHaveLength(1);
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(out)).toEqual([]);
  });

  it("once it measures, Ctrl-C still finishes it completed, with every report (the contrast)", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "pgdrill-watch-finish-")), "run");
    const fake = target(async () => undefined);
    const cli = io();
    const watching = watchCommand(URL, { every: "100ms", gate: [], out }, cli.io, fake.topology);
    const deadline = Date.now() + 10_000;
    while (!(existsSync(join(out, "history.jsonl")) && readFileSync(join(out, "history.jsonl"), "utf8").includes('"steady-state"'))) {
      if (Date.now() > deadline) throw new Error("the watch never began to measure");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.emit("SIGINT", "SIGINT");
    const outcome = await watching;
    expect(outcome.runDir).toBe(out);
    expect([0, 1]).toContain(outcome.exitCode);
    const lines = readFileSync(join(out, "history.jsonl"), "utf8").trim().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ kind: "run-end", status: "completed" });
    for (const file of ["result.json", "report.md", "report.html", "junit.xml"]) expect(existsSync(join(out, file))).toBe(true);
    expect(fake.started.tornDown).toBe(1);
    expect(cli.out()).toContain(`run directory: ${out}`);
  });
});
