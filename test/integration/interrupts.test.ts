/**
 * What pgdrill promises when things go wrong, tested by doing them to a real pgdrill process:
 * Ctrl-C at different phases, SIGKILL followed by `reap` and `report`, and secrets kept out of
 * everything it writes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import type { RunResult } from "../../harness/result.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import { dockerClient, LABELS } from "../../harness/targets/shared/docker.ts";
import { writeSyntheticHistory } from "../../fixtures/histories/synthetic.ts";
import { leftovers, pgdrill, readEvents, tempRunDir } from "./helpers.ts";

const silent = { out: () => undefined, err: () => undefined, color: false, live: { write: () => true, isTTY: false } };

describe("when things go wrong", { timeout: 120_000 }, () => {
  it.each([
    ["while the pair is starting", /image pgdrill|image postgres/, /interrupted while starting \(SIGINT\)/],
    ["while the primary is frozen", /fault f1: pause primary/, /interrupted during the drill \(SIGINT\)/],
  ])("Ctrl-C %s heals, removes everything, writes an errored result and exits 2", async (_phase, when, why) => {
    const out = tempRunDir("sigint");
    const child = pgdrill(["run", "pair-pause-primary", "--out", out]);
    await child.waitFor(when);
    const interruptedAt = Date.now();
    child.process.kill("SIGINT");
    const { code } = await child.exit;
    expect(code).toBe(2);
    expect(Date.now() - interruptedAt).toBeLessThan(20_000);
    expect(child.output()).toMatch(/SIGINT: stopping the drill, healing faults and removing containers/);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/aborted/);
    expect(result.reason).toMatch(why);
    expect(readEvents(out).at(-1)).toMatchObject({ kind: "run-end", status: "aborted" });
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("a second Ctrl-C exits at once, leaving what is left to `pgdrill reap`", async () => {
    const out = tempRunDir("second-sigint");
    const child = pgdrill(["run", "pair-pause-primary", "--out", out]);
    await child.waitFor(/fault f1: pause primary/);
    const runId = (readEvents(out)[0] as { runId: string }).runId;
    child.process.kill("SIGINT");
    await child.waitFor(/press Ctrl-C again to exit at once/);
    const secondAt = Date.now();
    child.process.kill("SIGINT");
    const { code } = await child.exit;
    expect(code).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(2_000);
    expect(child.output()).toMatch(/exiting without cleaning up; `pgdrill reap` removes what was left/);
    // Whatever the first interrupt had not yet removed, reap finds by label and removes.
    expect(await main(["reap"], silent)).toBe(0);
    expect(await leftovers(runId)).toEqual([]);
  });

  it("Ctrl-C after the drill ended stops the analysis, not the cleanup: an errored result says the analysis was interrupted", async () => {
    const { scenario, source } = await loadScenario("pair-pause-primary");
    const interrupt = new AbortController();
    const outcome = await runDrill({ ...scenario, duration: "5s", schedule: [{ at: "3s", for: "1s", fault: { kind: "pause", node: "primary" } }] }, {
      source,
      outDir: tempRunDir("sigint-analysis"),
      signal: interrupt.signal,
      // The moment the history closes, the user presses Ctrl-C.
      onEvent: (event) => {
        if (event.kind === "run-end") interrupt.abort(new Error("interrupted by SIGINT"));
      },
    });
    expect(readEvents(outcome.runDir).at(-1)).toMatchObject({ kind: "run-end", status: "completed" });
    expect(outcome.result.verdict).toBe("errored");
    expect(outcome.result.reason).toMatch(/the analysis was interrupted before it finished/);
    expect(await leftovers(outcome.result.runId)).toEqual([]);
    // The evidence is whole: analysing again gives the drill's real verdict.
    expect(await main(["report", outcome.runDir], silent)).toBe(0);
  });

  it("Ctrl-C while `pgdrill report` analyses a million events stops within seconds, with an errored result", async () => {
    const dir = tempRunDir("report-sigint");
    await writeSyntheticHistory(dir, { events: 1_000_000 });
    const child = pgdrill(["report", dir]);
    await child.waitFor(/analysing/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const interruptedAt = Date.now();
    child.process.kill("SIGINT");
    const { code } = await child.exit;
    expect(code).toBe(2);
    expect(Date.now() - interruptedAt).toBeLessThan(3_000);
    expect(child.output()).toMatch(/SIGINT: stopping the analysis/);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as RunResult;
    expect(result).toMatchObject({ verdict: "errored", runId: "synthetic" });
    expect(result.reason).toMatch(/the analysis was interrupted/);
  });

  it("after SIGKILL, reap removes what was left and report still renders the evidence, marked incomplete", async () => {
    const out = tempRunDir("sigkill");
    const child = pgdrill(["run", "pair-pause-primary", "--out", out]);
    await child.waitFor(/fault f1: pause primary/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the history flush a little more
    child.process.kill("SIGKILL");
    await child.exit;
    const runId = readEvents(out)[0]!.kind === "run-start" ? (readEvents(out)[0] as { runId: string }).runId : "";
    expect(runId).not.toBe("");
    expect((await leftovers(runId)).length).toBeGreaterThan(0);

    let reapOutput = "";
    expect(await main(["reap"], { ...silent, out: (text) => (reapOutput += text) })).toBe(0);
    expect(reapOutput).toContain(`container pgdrill-${runId}-primary`);
    expect(await leftovers(runId)).toEqual([]);

    expect(await main(["report", out], silent)).toBe(2);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
    expect(result.complete).toBe(false);
    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/the history has no run-end/);
    expect(result.metrics.availability.ok).toBeGreaterThan(0);
  });

  it("reap never touches containers without pgdrill's labels", async () => {
    const docker = await dockerClient();
    const foreign = await docker.createContainer({ Image: "pgdrill/postgres:15-local", Cmd: ["sleep", "30"], Labels: { "some.other.tool": "true" } });
    try {
      expect(await main(["reap", "--all"], silent)).toBe(0);
      expect((await foreign.inspect()).Id).toBe(foreign.id);
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it("writes no password into the history, the reports or the log", async () => {
    const { scenario, source } = await loadScenario("pair-pause-primary");
    const secrets = new Set<string>();
    let log = "";
    const docker = await dockerClient();
    const outcome = await runDrill({ ...scenario, duration: "6s", schedule: [{ at: "3s", for: "1s", fault: { kind: "pause", node: "primary" } }] }, {
      source,
      outDir: tempRunDir("secrets"),
      log: (line) => {
        log += `${line}\n`;
        if (/standby up/.test(line)) {
          // Read the passwords this run's pair was started with, from Docker itself (other test
          // files run pairs at the same time: their containers are not this run's).
          const runId = /^run (\S+):/m.exec(log)![1]!;
          void docker.listContainers({ filters: { label: [`${LABELS.run}=${runId}`] } }).then(async (containers) => {
            for (const info of containers) {
              const env = (await docker.getContainer(info.Id).inspect()).Config.Env ?? [];
              for (const entry of env) if (/PASSWORD=/.test(entry)) secrets.add(entry.split("=").slice(1).join("="));
            }
          });
        }
      },
    });
    expect(secrets.size).toBe(2);
    const texts = [log, ...readdirSync(outcome.runDir).map((file) => readFileSync(join(outcome.runDir, file), "utf8"))];
    for (const secret of secrets) for (const text of texts) expect(text.includes(secret)).toBe(false);
  });
});
