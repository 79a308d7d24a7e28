/**
 * A drill that is interrupted half-way still heals its faults, writes what it recorded, reports
 * `errored`, and removes every container and network it started.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDrill } from "../../harness/run/drill.ts";
import { scenario as scenarioSchema } from "../../harness/scenario/schema.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

describe("an interrupted drill", { timeout: 120_000 }, () => {
  it("heals the pause, records run-end aborted, reports errored and leaves nothing in Docker", async () => {
    const scenario = scenarioSchema.parse({
      name: "interrupted",
      target: { kind: "container-pair" },
      probes: [{ kind: "select1", every: "50ms" }, { kind: "writes", every: "50ms" }],
      steadyState: { window: "1s" },
      schedule: [{ at: "1s", fault: { kind: "pause", node: "primary" } }],
      duration: "30s",
      gate: { "writes.lostAcknowledged": "== 0" },
    });
    const controller = new AbortController();
    const logs: string[] = [];
    const outDir = tempRunDir("interrupted");
    const drill = runDrill(scenario, {
      source: "test",
      outDir,
      signal: controller.signal,
      log: (line) => {
        logs.push(line);
        // Interrupt while the primary is frozen: the worst moment to leave things behind.
        if (line.includes("fault f1: pause primary")) setTimeout(() => controller.abort(), 500);
      },
    });
    const { runDir, result } = await drill;

    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/aborted/);
    for (const file of ["history.jsonl", "result.json", "report.md"]) expect(existsSync(join(runDir, file))).toBe(true);
    const events = readEvents(runDir);
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "aborted" });
    // The pause was healed before teardown, and the final read reached the unfrozen primary.
    expect(events.some((e) => e.kind === "fault" && e.phase === "heal" && e.fault === "pause" && e.ok)).toBe(true);
    expect(events.find((e) => e.kind === "final-read")).toMatchObject({ ok: true, node: "primary" });
    expect(result.metrics.writes.lostAcknowledged).toBe(0);
    // Ended long before the 30 s the scenario asked for.
    expect(result.durationMs).toBeLessThan(20_000);
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("ends at its overall deadline as errored, still healing and removing everything", async () => {
    const scenario = scenarioSchema.parse({
      name: "deadline",
      target: { kind: "container-pair" },
      probes: [{ kind: "writes", every: "50ms" }],
      steadyState: { window: "1s" },
      schedule: [{ at: "1s", fault: { kind: "pause", node: "primary" } }],
      duration: "60s",
    });
    const started = Date.now();
    const { runDir, result } = await runDrill(scenario, { source: "test", outDir: tempRunDir("deadline"), deadlineMs: 9000 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/passed its overall deadline of 9 s/);
    const events = readEvents(runDir);
    expect(events.some((e) => e.kind === "fault" && e.phase === "heal" && e.ok)).toBe(true);
    expect(await leftovers(result.runId)).toEqual([]);
  });
});
