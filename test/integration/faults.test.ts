/** Faults the shipped scenarios do not use, each run for real on a container pair. */
import { describe, expect, it } from "vitest";
import { runDrill } from "../../harness/run/drill.ts";
import { scenario as scenarioSchema, type ScenarioInput } from "../../harness/scenario/schema.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

async function drill(input: Omit<ScenarioInput, "target" | "probes" | "steadyState">) {
  const scenario = scenarioSchema.parse({
    target: { kind: "container-pair" },
    probes: [{ kind: "select1", every: "50ms", timeout: "500ms" }, { kind: "writes", every: "50ms", timeout: "500ms" }, { kind: "role" }],
    steadyState: { window: "2s" },
    ...input,
  });
  const outcome = await runDrill(scenario, { source: "test", outDir: tempRunDir(scenario.name) });
  expect(await leftovers(outcome.result.runId)).toEqual([]);
  return outcome;
}

describe("faults on a container pair", { timeout: 120_000 }, () => {
  it("a graceful (fast) stop of the primary loses nothing, even with async replication: shutdown ships all WAL first", async () => {
    const { result } = await drill({
      name: "stop-primary",
      schedule: [
        { at: "2s", fault: { kind: "stop", node: "primary", mode: "fast" } },
        { at: "2s", action: { kind: "promote", node: "standby", after: "500ms" } },
      ],
      // Room for a slow promotion: with other test files' pairs on 2 cores it once took 5 s.
      duration: "14s",
    });
    expect(result.metrics.failover.faultLabel).toBe("stop primary (fast shutdown)");
    expect(result.metrics.failover.newPrimary).toBe("standby");
    expect(result.metrics.failover.happened).toBe(true);
    expect(result.metrics.failover.latencyMs).toBeGreaterThan(500);
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("isolating the primary cuts clients off for as long as the cut lasts, then they recover on the same primary", async () => {
    const { result, runDir } = await drill({
      name: "isolate-primary",
      schedule: [{ at: "2s", for: "2s", fault: { kind: "partition", isolate: "primary" } }],
      duration: "7s",
    });
    const events = readEvents(runDir);
    expect(events.filter((e) => e.kind === "fault" && e.ok).map((e) => e.kind === "fault" && e.phase)).toEqual(["inject", "heal"]);
    const select1 = result.metrics.downtime.windows.filter((w) => w.probe === "select1");
    expect(select1).toHaveLength(1);
    expect(select1[0]!.durationMs).toBeGreaterThan(1500);
    expect(select1[0]!.durationMs).toBeLessThan(3500);
    // The same primary came back: a recovery as long as the cut, not a failover.
    expect(result.metrics.failover).toMatchObject({ happened: false, latencyMs: null, newPrimary: "primary" });
    expect(result.metrics.recovery.node).toBe("primary");
    expect(result.metrics.recovery.latencyMs).toBeGreaterThan(1500);
    expect(result.metrics.recovery.latencyMs).toBeLessThan(4000);
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
  });

  it("a one-way cut (the standby stops hearing the primary) leaves clients untouched", async () => {
    const { result } = await drill({
      name: "one-way",
      schedule: [{ at: "2s", for: "2s", fault: { kind: "partition", between: ["standby", "primary"], oneWay: true } }],
      duration: "6s",
    });
    expect(result.metrics.availability.ratio).toBe(1);
    expect(result.metrics.downtime.windows).toEqual([]);
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
  });
});
