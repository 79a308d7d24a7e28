/**
 * The action's validate step (action/validate.sh) with this repository's real pgdrill: no Docker is
 * needed (DOCKER_HOST points at nothing), so a bad scenario fails the job in seconds, before the
 * image step or any drill. The drills themselves are test/integration/action.test.ts's.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "pgdrill-action-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Step {
  code: number;
  log: string;
  output: string;
  summary: string;
}

function validateStep(inputs: Record<string, string>): Promise<Step> {
  const output = join(dir, "github-output");
  const summary = join(dir, "step-summary.md");
  writeFileSync(output, "");
  writeFileSync(summary, "");
  const env = {
    ...process.env,
    GITHUB_ACTIONS: "true",
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    PGDRILL_BIN: `${process.execPath} ${join(root, "bin/pgdrill.js")}`,
    DOCKER_HOST: "unix:///nonexistent/pgdrill-validate-must-not-use-docker.sock",
    ...inputs,
  };
  return new Promise((done) => {
    execFile("bash", [join(root, "action/validate.sh")], { cwd: root, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, log: stdout + stderr, output: readFileSync(output, "utf8"), summary: readFileSync(summary, "utf8") });
    });
  });
}

describe("action.yml", () => {
  it("validates right after installing pgdrill: before the image step and the drills", () => {
    const action = parse(readFileSync(join(root, "action.yml"), "utf8")) as { runs: { steps: Array<{ id?: string; run?: string }> } };
    const scripts = action.runs.steps.flatMap((step) => (step.run ? [/action\/([\w-]+\.sh)/.exec(step.run)?.[1]] : []));
    expect(scripts).toEqual(["install.sh", "validate.sh", "ensure-image.sh", "run-drills.sh"]);
  });
});

describe("action/validate.sh (the real pgdrill validate, no Docker)", { timeout: 60_000 }, () => {
  it("passes valid scenarios, a path and a shipped name, with the plans in the log", async () => {
    const scenarios = "test/fixtures/action/gate-passes.yaml\npair-kill-primary";
    const step = await validateStep({ INPUT_SCENARIOS: scenarios, INPUT_GATES: "failover.latencyMs<20000" });
    expect(step.code, step.log).toBe(0);
    expect(step.log).toContain("action-gate-passes (test/fixtures/action/gate-passes.yaml): valid");
    expect(step.log).toContain("failover.latencyMs <20000");
    expect(step.log).toContain("pgdrill-action: 2 scenario(s) valid");
    expect(step.output).toBe("");
  });

  it("fails with exit 2 on a typo: an error annotation, verdict errored and the problem in the job summary", async () => {
    const step = await validateStep({ INPUT_SCENARIOS: "pair-kill-primary test/fixtures/bad-scenarios/unknown-node.yaml" });
    expect(step.code).toBe(2);
    const problem = "pgdrill: test/fixtures/bad-scenarios/unknown-node.yaml: schedule[0].fault.node";
    expect(step.log).toContain(`\n::error title=pgdrill: invalid scenario::${problem}`);
    expect(step.output).toBe("verdict=errored\n");
    expect(step.summary).toContain("## pgdrill drills: errored before any drill started");
    expect(step.summary).toContain('unknown node "primry"');
  });

  it("refuses a bad gates input and an empty scenarios input", async () => {
    const gate = await validateStep({ INPUT_SCENARIOS: "pair-kill-primary", INPUT_GATES: "failover.latency<1" });
    expect(gate.code).toBe(2);
    expect(gate.summary).toContain('--gate: unknown metric "failover.latency"');
    const none = await validateStep({ INPUT_SCENARIOS: "\n# only a comment\n" });
    expect(none.code).toBe(2);
    expect(none.log).toContain("no scenario given");
  });
});
