/**
 * The import rules of .dependency-cruiser.cjs, enforced: harness/ must break none of them, and
 * each rule must catch the import it is there to forbid (so a pattern that matches nothing cannot
 * pass for a rule). Runs the dependency-cruiser CLI, as `npm run deps` does.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const CONFIG = resolve(".dependency-cruiser.cjs");
const RULES: string[] = (require(CONFIG) as { forbidden: Array<{ name: string }> }).forbidden.map((rule) => rule.name);
const CLI = resolve("node_modules/dependency-cruiser/bin/dependency-cruiser.mjs");

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: Array<{ name: string }>;
  via?: Array<{ name: string }>;
}

/** The violations of the rules in `cwd`'s harness/, one line each. */
function cruise(cwd: string): string[] {
  const run = spawnSync(process.execPath, [CLI, "harness", "--config", CONFIG, "--output-type", "json"], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (!run.stdout) throw new Error(`depcruise printed nothing (exit ${run.status}): ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("import rules (.dependency-cruiser.cjs)", { timeout: 60_000 }, () => {
  it("hold in harness/", () => {
    expect(cruise(process.cwd())).toEqual([]);
  });

  it("each catch the import they forbid", () => {
    const root = mkdtempSync(join(tmpdir(), "pgdrill-import-rules-"));
    tempDirs.push(root);
    const files: Record<string, string> = {
      "harness/gate/cycle-a.ts": 'import "./cycle-b.ts";',
      "harness/gate/cycle-b.ts": 'import "./cycle-a.ts";',
      "harness/history/reads-a-checker.ts": 'import "../checker/plain.ts";',
      "harness/checker/plain.ts": "export {};",
      "harness/checker/loads-faults.ts": 'import "../fault/run.ts";',
      "harness/fault/run.ts": "export {};",
      "harness/fault/catalog.ts": "export {};",
      "harness/fault/kinds/runs-a-shell.ts": 'import "../run.ts";',
      "harness/targets/cnpg/faults/loads-yaml.ts": 'import "yaml";',
      "harness/report/colours.ts": 'import "../fault/catalog.ts";',
      "harness/gate/draws.ts": 'import "../report/colours.ts";',
      "harness/report/computes.ts": 'import "../checker/plain.ts";',
      "harness/report/indirectly.ts": 'import "../scenario/validate.ts";',
      "harness/scenario/validate.ts": 'import "../targets/runtime.ts";',
      "harness/targets/plain.ts": "export {};",
      // A target runtime is what leads to a package that drives a live target.
      "harness/targets/runtime.ts": 'import "pg";',
      "harness/probe/reads-results.ts": 'import "../checker/plain.ts";',
      "harness/probe/plain.ts": "export {};",
      "harness/connection/above.ts": 'import "../probe/plain.ts";',
      "harness/targets/probes.ts": 'import "../probe/plain.ts";',
      "harness/targets/cnpg/plugin.ts": 'import "./events.ts"; import "./faults/loads-yaml.ts";',
      "harness/targets/cnpg/events.ts": 'import "../runtime.ts";',
      "harness/targets/patroni/plugin.ts": 'import "../../report/colours.ts";',
      "harness/targets/registry.ts": 'import "yaml";',
      "harness/targets/endpoint/plugin.ts": 'import "zod"; import "./check.ts";',
      // A plugin's own pure modules, under any name, may use the checker contract.
      "harness/targets/endpoint/check.ts": 'import "../../checker/checker.ts"; import "../plain.ts";',
      "harness/checker/checker.ts": "export {};",
      "harness/report/claims.ts": 'import "../targets/endpoint/plugin.ts";',
      "harness/cli/main.ts": "export {};",
      "harness/cli/drills.ts": 'import "../run/plain.ts";',
      "harness/run/plain.ts": "export {};",
      "harness/schedule/drills.ts": 'import "../run/plain.ts";',
      "harness/schedule/plain.ts": "export {};",
      "harness/operator/schedules.ts": 'import "../schedule/plain.ts";',
      "harness/run/starts-the-cli.ts": 'import "../cli/main.ts";',
      "harness/index.ts": "export {};",
      "harness/run/barrel.ts": 'import "../index.ts";',
      "harness/run/test-helper.ts": 'import "../../test/helper.ts";',
      "test/helper.ts": "export {};",
      "harness/run/missing.ts": 'import "./not-there.ts";',
      "harness/run/dev-dependency.ts": 'import "vitest";',
      "harness/run/undeclared.ts": 'import "ajv";',
      "package.json": JSON.stringify({ name: "canary", type: "module", dependencies: { pg: "*", yaml: "*", zod: "*" }, devDependencies: { vitest: "*" } }),
      "tsconfig.json": JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", allowImportingTsExtensions: true, noEmit: true } }),
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), `${text}\n`);
    }
    symlinkSync(resolve("node_modules"), join(root, "node_modules"), "dir");

    const expected: Record<string, string> = {
      "no-circular": "harness/gate/cycle-a.ts → harness/gate/cycle-b.ts",
      "history-is-the-record": "harness/history/reads-a-checker.ts → harness/checker/plain.ts",
      "checkers-read-only-the-history": "harness/checker/loads-faults.ts → harness/fault/run.ts",
      "gate-judges-only-metrics": "harness/gate/draws.ts → harness/report/colours.ts",
      "reports-only-draw": "harness/report/computes.ts → harness/checker/plain.ts",
      "analysis-never-reaches-the-drill": "harness/report/indirectly.ts → node_modules/pg/",
      "drill-side-does-not-read-results": "harness/probe/reads-results.ts → harness/checker/plain.ts",
      "connection-below-probes-and-targets": "harness/connection/above.ts → harness/probe/plain.ts",
      "targets-do-not-import-probes": "harness/targets/probes.ts → harness/probe/plain.ts",
      "target-plugins-are-pure": "harness/targets/cnpg/plugin.ts → node_modules/pg/",
      "target-plugins-do-not-draw-or-judge": "harness/targets/patroni/plugin.ts → harness/report/colours.ts",
      "target-plugins-load-only-zod": "harness/targets/registry.ts → node_modules/yaml/",
      "run-is-on-top": "harness/schedule/drills.ts → harness/run/plain.ts",
      "operator-desk-below-the-schedule": "harness/operator/schedules.ts → harness/schedule/plain.ts",
      "only-entry-points-import-the-cli": "harness/run/starts-the-cli.ts → harness/cli/main.ts",
      "nothing-imports-the-entry-points": "harness/run/barrel.ts → harness/index.ts",
      "harness-does-not-import-tests": "harness/run/test-helper.ts → test/helper.ts",
      "not-to-unresolvable": "harness/run/missing.ts → ./not-there.ts",
      "not-to-dev-dep": "harness/run/dev-dependency.ts → node_modules/vitest/",
      "no-non-package-json": "harness/run/undeclared.ts → node_modules/ajv/",
    };
    expect(Object.keys(expected).sort()).toEqual([...RULES].sort());
    const found = cruise(root);
    for (const [rule, edge] of Object.entries(expected)) {
      const [from, to] = edge.split(" → ") as [string, string];
      // A package resolves to wherever node_modules really is: match its part of the path.
      expect(found.some((line) => line.startsWith(`${rule}: ${from} → `) && line.includes(to)), `${rule} should catch ${edge}; found:\n${found.join("\n")}`).toBe(true);
    }
    // Fault modules, core or a target's, are as pure as plugins: no fault runtime, no package but zod.
    expect(found.some((line) => line.startsWith("target-plugins-are-pure: harness/fault/kinds/runs-a-shell.ts → harness/fault/run.ts"))).toBe(true);
    // A target's own fault is checked through the plugin that lists it: whatever a plugin reaches.
    const loadsYaml = (line: string) => line.startsWith("target-plugins-load-only-zod: harness/targets/cnpg/plugin.ts → ") && line.includes("node_modules/yaml/");
    expect(found.some(loadsYaml), found.join("\n")).toBe(true);
    // The catalog is a part of fault/ a report may import.
    expect(found.filter((line) => line.includes("harness/report/colours.ts →"))).toEqual([]);
    // So is a target's plugin (pure data) with what it reaches, and a plugin may load zod.
    const pure = ["harness/report/claims.ts →", "harness/targets/endpoint/plugin.ts →", "harness/targets/endpoint/check.ts →"];
    expect(found.filter((line) => pure.some((from) => line.includes(from)))).toEqual([]);
    // The CLI drives drills: it may import run/.
    expect(found.filter((line) => line.includes("harness/cli/drills.ts →"))).toEqual([]);
  });
});
