/** `--trials`: fresh targets per trial, a distribution, and reports for the set. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import type { TrialsResult } from "../../harness/trials.ts";
import { leftovers, tempRunDir } from "./helpers.ts";

describe("pgdrill run --trials", { timeout: 240_000 }, () => {
  it("runs the drill twice on fresh pairs and writes the distribution, per-trial runs and JUnit", async () => {
    const out = tempRunDir("trials");
    let stdout = "";
    const sink = { write: () => true, isTTY: false };
    const code = await main(["run", "pair-pause-primary", "--trials", "2", "--out", out, "--quiet"], {
      out: (text) => (stdout += text),
      err: () => undefined,
      color: false,
      live: sink,
    });
    const trials = JSON.parse(readFileSync(join(out, "trials.json"), "utf8")) as TrialsResult;
    expect(trials.trials).toBe(2);
    expect(code).toBe({ pass: 0, deviated: 1, errored: 2 }[trials.verdict]);
    expect(trials.verdict).toBe("pass");
    // Two different targets, each with its own complete run directory.
    expect(new Set(trials.perTrial.map((trial) => trial.runId)).size).toBe(2);
    for (const n of [1, 2]) expect(existsSync(join(out, `trial-${n}`, "history.jsonl"))).toBe(true);
    const downtime = trials.distributions["availability.ratio"]!;
    expect(downtime.count).toBe(2);
    expect(downtime.min!).toBeLessThanOrEqual(downtime.max!);
    expect(readFileSync(join(out, "junit.xml"), "utf8").match(/<testsuite /g)).toHaveLength(2);
    expect(readFileSync(join(out, "trials.md"), "utf8")).toMatch(/\| 2 \| `[^`]+` \| pass \|/);
    expect(stdout).toMatch(/PASS pair-pause-primary × 2 trials/);
    const page = readFileSync(join(out, "trials.html"), "utf8");
    expect(page).toContain('<a href="trial-2/report.html">2</a>');
    expect(existsSync(join(out, "trial-2", "report.html"))).toBe(true);
    for (const trial of trials.perTrial) expect(await leftovers(trial.runId)).toEqual([]);
  });
});
