/**
 * The GitHub Action (action.yml) outside GitHub: its files parse and agree with each other, and
 * its script (action/run-drills.sh) is run for real, with this repository's pgdrill CLI against
 * real containers, a GITHUB_OUTPUT and a GITHUB_STEP_SUMMARY of its own. Only the input-parsing
 * tests use a stub in place of pgdrill (a script that records its arguments); they say so.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunResult } from "../../harness/result.ts";
import { leftovers } from "./helpers.ts";

const root = resolve(import.meta.dirname, "../..");
const fixtures = join(root, "test/fixtures/action");

interface Run {
  code: number | null;
  output: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Runs one of action/*.sh in `cwd` with the given environment; bounded by `timeoutMs`. */
function runScript(name: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const githubOutput = join(cwd, "github-output");
  const stepSummary = join(cwd, "step-summary.md");
  writeFileSync(githubOutput, "");
  writeFileSync(stepSummary, "");
  const child = spawn("bash", [join(root, "action", name)], {
    cwd,
    env: { ...process.env, GITHUB_ACTIONS: "true", GITHUB_OUTPUT: githubOutput, GITHUB_STEP_SUMMARY: stepSummary, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      // SIGINT to the script's process group: pgdrill heals, tears down and exits, as on Ctrl-C.
      process.kill(-child.pid!, "SIGINT");
      reject(new Error(`${name} did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output, outputs: parseOutputs(readFileSync(githubOutput, "utf8")), summary: readFileSync(stepSummary, "utf8") });
    });
  });
}

function runDrills(cwd: string, env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return runScript("run-drills.sh", cwd, env, timeoutMs);
}

/** The GITHUB_OUTPUT file format: name=value lines and name<<DELIMITER … DELIMITER blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== delimiter; i += 1) value.push(lines[i]!);
      outputs[name] = value.join("\n");
    } else if (line.includes("=")) {
      outputs[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return outputs;
}

const temps: string[] = [];
/** A temporary directory, removed after the last test. */
function tempConsumer(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pgdrill-action-${prefix}-`));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function workflowFiles(): string[] {
  return readdirSync(join(root, ".github/workflows")).filter((file) => /\.ya?ml$/.test(file));
}

describe("action.yml and the workflows", () => {
  const action = parse(readFileSync(join(root, "action.yml"), "utf8")) as {
    inputs: Record<string, { default?: string; required?: boolean }>;
    outputs: Record<string, { value: string }>;
    runs: { using: string; steps: Array<{ id?: string; run?: string; uses?: string; if?: string; with?: Record<string, string> }> };
  };

  it("action.yml parses, declares every inputs.x it uses, and calls scripts that exist", () => {
    expect(action.runs.using).toBe("composite");
    const text = readFileSync(join(root, "action.yml"), "utf8");
    const used = new Set([...text.matchAll(/\binputs\.([A-Za-z0-9_-]+)/g)].map((match) => match[1]!));
    expect([...used].filter((name) => !(name in action.inputs))).toEqual([]);
    expect(Object.keys(action.inputs).sort()).toEqual(
      ["artifact-name", "fail-on", "gates", "node-version", "out", "scenarios", "trial-statistic", "trials", "version"].sort(),
    );
    // Every steps.<id> the outputs and steps name is a step of the action.
    const ids = new Set(action.runs.steps.map((step) => step.id).filter(Boolean));
    expect([...text.matchAll(/\bsteps\.([A-Za-z0-9_-]+)\./g)].map((match) => match[1]!).filter((id) => !ids.has(id))).toEqual([]);
    for (const step of action.runs.steps.filter((s) => s.run)) {
      const called = /\$GITHUB_ACTION_PATH\/([^"\s]+)/.exec(step.run!)?.[1];
      expect(called && existsSync(join(root, called)), step.run).toBeTruthy();
    }
    // The run directories are uploaded even when the drills step failed.
    const upload = action.runs.steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.if).toMatch(/^always\(\)/);
    expect(upload?.with?.path).toBe("${{ inputs.out }}");
  });

  it("every workflow parses, and each use of the action passes only inputs it declares", () => {
    const uses: string[] = [];
    for (const file of workflowFiles()) {
      const workflow = parse(readFileSync(join(root, ".github/workflows", file), "utf8")) as {
        jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>;
      };
      for (const job of Object.values(workflow.jobs)) {
        for (const step of job.steps.filter((s) => s.uses === "./")) {
          uses.push(file);
          expect(Object.keys(step.with ?? {}).filter((name) => !(name in action.inputs)), file).toEqual([]);
          expect(step.with?.scenarios, file).toBeTruthy();
        }
      }
    }
    expect(uses).toContain("drill.yml");
    expect(uses).toContain("action-check.yml");
  });
});

/**
 * STUB, for argument parsing only: this "pgdrill" runs no drill. It writes its arguments, one per
 * line, to a numbered file and exits 1 for a scenario whose name contains "deviates", 2 for one
 * containing "errors", else 0.
 */
function stubPgdrill(dir: string): string {
  const stub = join(dir, "stub-pgdrill.sh");
  writeFileSync(
    stub,
    [
      "#!/usr/bin/env bash",
      'n=$(ls "$STUB_CALLS" | wc -l)',
      'printf "%s\\0" "$@" > "$STUB_CALLS/$((n + 1))"',
      'case "$2" in *deviates*) exit 1 ;; *errors*) exit 2 ;; esac',
      "",
    ].join("\n"),
  );
  chmodSync(stub, 0o755);
  return stub;
}

function stubCalls(dir: string): string[][] {
  const calls = join(dir, "calls");
  return readdirSync(calls)
    .sort((a, b) => Number(a) - Number(b))
    .map((file) => readFileSync(join(calls, file), "utf8").split("\0").slice(0, -1));
}

describe("action/run-drills.sh input parsing (STUB pgdrill: records arguments, runs no drill)", () => {
  function stubbed(prefix: string): { dir: string; env: Record<string, string> } {
    const dir = tempConsumer(prefix);
    mkdirSync(join(dir, "calls"));
    return { dir, env: { PGDRILL_BIN: stubPgdrill(dir), STUB_CALLS: join(dir, "calls") } };
  }

  it("splits scenarios on newlines and spaces, keeps a path with spaces whole, and passes each gate line as --gate", async () => {
    const { dir, env } = stubbed("parse");
    mkdirSync(join(dir, "my drills"));
    writeFileSync(join(dir, "my drills", "kill it.yaml"), "");
    const run = await runDrills(
      dir,
      {
        ...env,
        INPUT_SCENARIOS: "pair-kill-primary pair-pause-primary\n\n  my drills/kill it.yaml  \r\n# a comment\n\tpair-kill-primary\tx|y\n",
        INPUT_GATES: "failover.latencyMs<20000\n\n  availability.ratio >= 0.99  \n",
        INPUT_TRIALS: "3",
        INPUT_TRIAL_STATISTIC: "p95",
      },
      10_000,
    );
    expect(run.code, run.output).toBe(0);
    const gates = ["--gate", "failover.latencyMs<20000", "--gate", "availability.ratio >= 0.99", "--trials", "3", "--trial-statistic", "p95"];
    expect(stubCalls(dir)).toEqual([
      ["run", "pair-kill-primary", "--out", "pgdrill-reports/pair-kill-primary", ...gates],
      ["run", "pair-pause-primary", "--out", "pgdrill-reports/pair-pause-primary", ...gates],
      ["run", "my drills/kill it.yaml", "--out", "pgdrill-reports/kill-it", ...gates],
      // The same scenario twice gets a second directory; characters a directory name should not carry become "-".
      ["run", "pair-kill-primary", "--out", "pgdrill-reports/pair-kill-primary-2", ...gates],
      ["run", "x|y", "--out", "pgdrill-reports/x-y", ...gates],
    ]);
    expect(run.outputs).toEqual({ verdict: "pass", results: join(dir, "pgdrill-reports") });
    expect(run.summary).toContain("| `my drills/kill it.yaml` | pass | 0 | `pgdrill-reports/kill-it` |");
    expect(run.summary).toContain("| `x\\|y` | pass | 0 | `pgdrill-reports/x-y` |");
  });

  it("with one trial passes neither --trials nor --trial-statistic, and no --gate without gates", async () => {
    const { dir, env } = stubbed("plain");
    const run = await runDrills(dir, { ...env, INPUT_SCENARIOS: "pair-pause-primary", INPUT_TRIAL_STATISTIC: "median", INPUT_OUT: "out dir" }, 10_000);
    expect(run.code, run.output).toBe(0);
    expect(stubCalls(dir)).toEqual([["run", "pair-pause-primary", "--out", "out dir/pair-pause-primary"]]);
    expect(run.outputs.results).toBe(join(dir, "out dir"));
    expect(readFileSync(join(dir, "out dir", "summary.md"), "utf8")).toContain("| `pair-pause-primary` | pass | 0 |");
  });

  it.each([
    ["deviated", "a-deviates b-errors c", 2, "errored"],
    ["deviated", "a-deviates c", 1, "deviated"],
    ["errored", "a-deviates c", 0, "deviated"],
    ["errored", "c b-errors", 2, "errored"],
    ["never", "a-deviates b-errors", 0, "errored"],
    ["deviated", "c", 0, "pass"],
  ])("fail-on %s with %s: runs every scenario, exits %i, verdict %s", async (failOn, scenarios, code, verdict) => {
    const { dir, env } = stubbed("fail-on");
    const run = await runDrills(dir, { ...env, INPUT_SCENARIOS: scenarios, INPUT_FAIL_ON: failOn }, 10_000);
    expect(run.code, run.output).toBe(code);
    expect(run.outputs.verdict).toBe(verdict);
    expect(stubCalls(dir).map((call) => call[1])).toEqual(scenarios.split(" "));
    if (scenarios.includes("deviates")) expect(run.output).toMatch(/^::(error|warning) title=pgdrill deviated::a-deviates \(exit 1\)/m);
  });

  it.each([
    ["no scenario", { INPUT_SCENARIOS: " \n# only a comment\n" }, /no scenario given/],
    ["trials 0", { INPUT_SCENARIOS: "c", INPUT_TRIALS: "0" }, /trials: "0" is not a whole number/],
    ["an unknown statistic", { INPUT_SCENARIOS: "c", INPUT_TRIAL_STATISTIC: "mean" }, /trial-statistic: "mean"/],
    ["an unknown fail-on", { INPUT_SCENARIOS: "c", INPUT_FAIL_ON: "sometimes" }, /fail-on: "sometimes"/],
  ])("refuses %s with exit 2 before running anything, even with fail-on never", async (_what, inputs, message) => {
    const { dir, env } = stubbed("bad");
    const run = await runDrills(dir, { INPUT_FAIL_ON: "never", ...env, ...inputs }, 10_000);
    expect(run.code).toBe(2);
    expect(run.output).toMatch(message);
    expect(run.outputs.verdict).toBe("errored");
    expect(run.summary).toMatch(message);
    expect(stubCalls(dir)).toEqual([]);
  });
});

describe("action/run-drills.sh with the real pgdrill on real containers", { timeout: 240_000 }, () => {
  // This repository's CLI, run by the Node that runs the tests (>= 22.12), as a command line.
  const pgdrillBin = `${process.execPath} ${join(root, "bin/pgdrill.js")}`;

  /** A consumer repository: the two fixture scenarios under drills/, one with a space in its name. */
  function consumer(prefix: string): string {
    const dir = tempConsumer(prefix);
    mkdirSync(join(dir, "drills"));
    copyFileSync(join(fixtures, "gate-passes.yaml"), join(dir, "drills", "gate-passes.yaml"));
    copyFileSync(join(fixtures, "gate-fails.yaml"), join(dir, "drills", "gate fails.yaml"));
    return dir;
  }

  async function expectRunDir(runDir: string, verdict: RunResult["verdict"]): Promise<void> {
    expect(existsSync(join(runDir, "result.json")), runDir).toBe(true);
    const result = JSON.parse(readFileSync(join(runDir, "result.json"), "utf8")) as RunResult;
    expect(result.verdict).toBe(verdict);
    for (const file of ["report.md", "junit.xml", "report.html"]) expect(existsSync(join(runDir, file)), file).toBe(true);
    expect(await leftovers(result.runId)).toEqual([]);
  }

  it("fail-on deviated: a passing and a deviating drill both run, exit 1, verdict deviated, a summary row and a run directory each", async () => {
    expect(pgdrillBin).not.toMatch(/\s.*\s/); // split on spaces into node and the script
    const dir = consumer("deviated");
    const run = await runDrills(
      dir,
      { PGDRILL_BIN: pgdrillBin, INPUT_SCENARIOS: "drills/gate-passes.yaml\ndrills/gate fails.yaml\n", INPUT_FAIL_ON: "deviated", INPUT_ARTIFACT_NAME: "drills" },
      200_000,
    );
    expect(run.code, run.output).toBe(1);
    expect(run.outputs).toEqual({ verdict: "deviated", results: join(dir, "pgdrill-reports") });
    await expectRunDir(join(dir, "pgdrill-reports", "gate-passes"), "pass");
    await expectRunDir(join(dir, "pgdrill-reports", "gate-fails"), "deviated");
    // The table first, then the report pgdrill wrote for each drill.
    expect(run.summary).toMatch(/^## pgdrill drills: deviated\n/);
    expect(run.summary).toContain("| `drills/gate-passes.yaml` | pass | 0 | `pgdrill-reports/gate-passes` |");
    expect(run.summary).toContain("| `drills/gate fails.yaml` | deviated | 1 | `pgdrill-reports/gate-fails` |");
    expect(run.summary).toContain("fail-on: deviated; the step fails (exit 1). The run directories are in the artifact `drills`.");
    expect(run.summary.indexOf("## ✅ action-gate-passes: pass")).toBeGreaterThan(run.summary.indexOf("| `drills/gate fails.yaml`"));
    expect(run.summary).toContain("## ❌ action-gate-fails: deviated");
    expect(run.output).toMatch(/^::error title=pgdrill deviated::drills\/gate fails.yaml \(exit 1\)/m);
  });

  it("fail-on never: the deviating drill exits 0 with verdict deviated; a --gate from gates makes it pass", async () => {
    const dir = consumer("never");
    const run = await runDrills(dir, { PGDRILL_BIN: pgdrillBin, INPUT_SCENARIOS: "drills/gate fails.yaml", INPUT_FAIL_ON: "never", INPUT_OUT: "reports" }, 120_000);
    expect(run.code, run.output).toBe(0);
    expect(run.outputs).toEqual({ verdict: "deviated", results: join(dir, "reports") });
    await expectRunDir(join(dir, "reports", "gate-fails"), "deviated");
    expect(run.summary).toContain("| `drills/gate fails.yaml` | deviated | 1 | `reports/gate-fails` |");
    expect(run.summary).toContain("fail-on: never; the step passes.");
    expect(run.output).toMatch(/^::warning title=pgdrill deviated::/m);

    // The same out directory again: the gate override replaces the impossible one, and the run
    // goes to a new directory beside the first.
    const again = await runDrills(
      dir,
      { PGDRILL_BIN: pgdrillBin, INPUT_SCENARIOS: "drills/gate fails.yaml", INPUT_GATES: "latency.maxMs<60000\n", INPUT_OUT: "reports" },
      120_000,
    );
    expect(again.code, again.output).toBe(0);
    expect(again.outputs.verdict).toBe("pass");
    await expectRunDir(join(dir, "reports", "gate-fails-2"), "pass");
  });
});

describe("action/install.sh with this repository packed (npm pack), then a drill through what it installed", { timeout: 600_000 }, () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  // setup-node's Node first on PATH: the one running the tests (>= 22.19), with its npm.
  const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
  let tarball: string;
  /** A consumer project and, beside it, the private prefix (not created): both removed afterwards. */
  function consumerAndPrefix(prefix: string): { dir: string; prefix: string } {
    const top = tempConsumer(prefix);
    mkdirSync(join(top, "consumer"));
    return { dir: join(top, "consumer"), prefix: join(top, "prefix") };
  }
  beforeAll(async () => {
    // PGDRILL_TEST_TARBALL: a tarball packed already (of this commit) instead of packing again.
    if (process.env.PGDRILL_TEST_TARBALL) {
      tarball = resolve(process.env.PGDRILL_TEST_TARBALL);
      return;
    }
    const packDir = tempConsumer("pack");
    // npm pack runs prepack, which builds dist/: the same tarball the workflows pass as version.
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) => {
      const child = spawn("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: root, env: { ...process.env, PATH }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGTERM"), 300_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolvePromise({ code, stdout, stderr });
      });
    });
    expect(result.code, result.stderr).toBe(0);
    const [info] = JSON.parse(result.stdout.slice(result.stdout.indexOf("["))) as [{ filename: string }];
    tarball = join(packDir, info.filename);
  }, 320_000);

  it("version: a tarball path installs it outside a project that does not depend on pgdrill, leaving its package.json and lockfile alone", async () => {
    const { dir, prefix } = consumerAndPrefix("install-private");
    const manifest = `${JSON.stringify({ name: "consumer", private: true }, null, 2)}\n`;
    const lock = `${JSON.stringify({ name: "consumer", lockfileVersion: 3, requires: true, packages: { "": { name: "consumer" } } }, null, 2)}\n`;
    writeFileSync(join(dir, "package.json"), manifest);
    writeFileSync(join(dir, "package-lock.json"), lock);
    mkdirSync(join(dir, "drills"));
    copyFileSync(join(fixtures, "gate-passes.yaml"), join(dir, "drills", "gate-passes.yaml"));

    const installed = await runScript("install.sh", dir, { PATH, INPUT_VERSION: tarball, PGDRILL_PREFIX: prefix }, 300_000);
    expect(installed.code, installed.output).toBe(0);
    expect(installed.outputs).toEqual({ bin: join(prefix, "node_modules/.bin/pgdrill"), version: pkg.version });
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(manifest);
    expect(readFileSync(join(dir, "package-lock.json"), "utf8")).toBe(lock);
    expect(existsSync(join(dir, "node_modules"))).toBe(false);

    const run = await runDrills(dir, { PATH, PGDRILL_BIN: installed.outputs.bin!, INPUT_SCENARIOS: "drills/gate-passes.yaml" }, 120_000);
    expect(run.code, run.output).toBe(0);
    expect(run.outputs.verdict).toBe("pass");
    const result = JSON.parse(readFileSync(join(dir, "pgdrill-reports/gate-passes/result.json"), "utf8")) as RunResult;
    expect(result.verdict).toBe("pass");
    expect(await leftovers(result.runId)).toEqual([]);
  });

  it("no version, a project that depends on pgdrill and has a lockfile: npm ci there and its own pgdrill, nothing installed elsewhere", async () => {
    const { dir, prefix } = consumerAndPrefix("install-project");
    writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "consumer", private: true, devDependencies: { pgdrill: `file:${tarball}` } }, null, 2)}\n`);
    const locked = spawnSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, env: { ...process.env, PATH }, encoding: "utf8", timeout: 180_000 });
    expect(locked.status, locked.stderr).toBe(0);
    const manifest = readFileSync(join(dir, "package.json"), "utf8");
    const lock = readFileSync(join(dir, "package-lock.json"), "utf8");

    const installed = await runScript("install.sh", dir, { PATH, INPUT_VERSION: "", PGDRILL_PREFIX: prefix }, 300_000);
    expect(installed.code, installed.output).toBe(0);
    expect(installed.output).toMatch(/package\.json depends on pgdrill .*: npm ci in /);
    expect(installed.outputs).toEqual({ bin: join(dir, "node_modules/.bin/pgdrill"), version: pkg.version });
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(manifest);
    expect(readFileSync(join(dir, "package-lock.json"), "utf8")).toBe(lock);
    expect(existsSync(prefix)).toBe(false);

    // Again, now that node_modules has it: nothing is installed, and a matching version keeps it too.
    for (const version of ["", pkg.version]) {
      const again = await runScript("install.sh", dir, { PATH, INPUT_VERSION: version, PGDRILL_PREFIX: prefix }, 60_000);
      expect(again.code, again.output).toBe(0);
      expect(again.output).toMatch(/the project's node_modules has pgdrill/);
      expect(again.outputs.bin).toBe(join(dir, "node_modules/.bin/pgdrill"));
    }
    expect(existsSync(prefix)).toBe(false);
  });
});
