/**
 * The netem fault end to end, through the shipped scenario: under synchronous replication a delay
 * on the standby's network shows up in the primary's commit latency, by about the delay, and goes
 * away when the fault heals. Measured from the History, as a user's report would.
 */
import { describe, expect, it } from "vitest";
import type { CompleteEvent, FaultEvent } from "../../harness/history/events.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { scenario as scenarioSchema } from "../../harness/scenario/schema.ts";
import shipped from "../../scenarios/pair-slow-network-to-standby.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe("netem on a container pair", { timeout: 120_000 }, () => {
  it("a 100 ms delay on the sync standby raises write latency by about 100 ms; heal restores it; reads do not notice", async () => {
    const scenario = scenarioSchema.parse(shipped);
    const { result, runDir } = await runDrill(scenario, { source: "test", outDir: tempRunDir(scenario.name) });
    expect(await leftovers(result.runId)).toEqual([]);

    const events = readEvents(runDir);
    const faults = events.filter((e): e is FaultEvent => e.kind === "fault");
    expect(faults.map((e) => [e.phase, e.ok])).toEqual([["inject", true], ["heal", true]]);
    const [inject, heal] = faults as [FaultEvent, FaultEvent];
    expect(inject.label).toBe("netem standby (delay 100 ms)");
    // This kernel has no netem qdisc, so the pair says it used pgdrill's delayer; a kernel with one says tc netem.
    expect(inject.output).toMatch(/applied with (tc netem|pgdrill's NFQUEUE delayer)/);

    // Write latency as commits saw it: before the fault, while it held (after a moment to settle), after the heal.
    const writes = events.filter((e): e is CompleteEvent => e.kind === "complete" && e.probe === "writes" && e.outcome === "ok");
    const startedAt = (e: CompleteEvent) => e.t - e.latencyMs;
    const before = writes.filter((e) => startedAt(e) > 1000 && e.t < inject.t).map((e) => e.latencyMs);
    const during = writes.filter((e) => startedAt(e) > inject.t + 500 && e.t < heal.t).map((e) => e.latencyMs);
    const after = writes.filter((e) => startedAt(e) > heal.t + 500).map((e) => e.latencyMs);
    for (const window of [before, during, after]) expect(window.length).toBeGreaterThan(5);
    const rise = median(during) - median(before);
    expect(rise, `median write latency before ${median(before)} ms, during ${median(during)} ms`).toBeGreaterThan(80);
    expect(rise).toBeLessThan(250);
    expect(median(after) - median(before), `median write latency after the heal ${median(after)} ms`).toBeLessThan(20);

    // Reads on the primary do not wait for the standby.
    const reads = events.filter((e): e is CompleteEvent => e.kind === "complete" && e.probe === "select1" && e.outcome === "ok");
    const readsDuring = reads.filter((e) => e.t > inject.t + 500 && e.t < heal.t).map((e) => e.latencyMs);
    expect(median(readsDuring)).toBeLessThan(50);

    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    expect(result.verdict).toBe("pass");
  });
});
