/**
 * The drill's own probes behind the ProbeRunner interface (probe/local.ts): prepared against the
 * started target, run until the drill's t, read back after the heal; a probe that fails stops the
 * others and fails the run once they have settled.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HistoryWriter } from "../../harness/history/writer.ts";
import { localProbeRunner } from "../../harness/probe/local.ts";
import type { Probe, ProbeContext } from "../../harness/probe/probe.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

const dirs: string[] = [];
const writers: HistoryWriter[] = [];
afterEach(() => {
  for (const writer of writers.splice(0)) writer.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function history(): HistoryWriter {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-local-probes-"));
  dirs.push(dir);
  const writer = HistoryWriter.open(join(dir, "history.jsonl"));
  writers.push(writer);
  return writer;
}

/** A probe that notes what it was asked to do; `run` waits for the signal unless `fails`. */
function probe(name: string, calls: string[], fails?: Error): Probe {
  return {
    name,
    type: "select1",
    async prepare() {
      calls.push(`${name} prepare`);
    },
    async run(context: ProbeContext) {
      calls.push(`${name} run until ${context.until}`);
      if (fails) throw fails;
      await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
      calls.push(`${name} stopped`);
    },
    async finalRead(context) {
      calls.push(`${name} final read, signal ${context.signal.aborted ? "aborted" : "live"}`);
    },
  };
}

describe("localProbeRunner", () => {
  it("prepares, runs and reads back every probe, in the drill's order", async () => {
    const clock = new VirtualClock();
    const calls: string[] = [];
    const runner = localProbeRunner([probe("a", calls), probe("b", calls)], new FakeTarget({ clock }));
    const probing = new AbortController();
    await runner.prepare({ history: history(), clock, signal: probing.signal });
    const running = runner.run(5000);
    probing.abort();
    await running;
    await runner.finalRead();
    await runner.close();
    expect(calls).toEqual([
      "a prepare",
      "b prepare",
      "a run until 5000",
      "b run until 5000",
      "a stopped",
      "b stopped",
      "a final read, signal live",
      "b final read, signal live",
    ]);
  });

  it("stops the other probes when one fails, and fails with its error once they settled", async () => {
    const clock = new VirtualClock();
    const calls: string[] = [];
    const runner = localProbeRunner([probe("a", calls), probe("b", calls, new Error("b broke"))], new FakeTarget({ clock }));
    await runner.prepare({ history: history(), clock, signal: new AbortController().signal });
    await expect(runner.run(5000)).rejects.toThrow("b broke");
    expect(calls).toContain("a stopped");
  });

  it("refuses to run before it is prepared", async () => {
    const runner = localProbeRunner([], new FakeTarget({ clock: new VirtualClock() }));
    await expect(runner.run(1000)).rejects.toThrow("not prepared");
  });
});
