/**
 * `pgdrill validate`: the checks `run` makes before it starts anything, then the plan; exit 0 when
 * every scenario is valid, 2 otherwise. DOCKER_HOST points at nothing, so a validate that reached
 * for an engine would fail here instead of passing by luck.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, extname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { main, type CliIO } from "../../harness/cli/main.ts";

const NO_DOCKER = { DOCKER_HOST: "unix:///nonexistent/pgdrill-validate-must-not-use-docker.sock" };

async function spawnCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = promisify(execFile);
  return run(process.execPath, ["bin/pgdrill.js", ...args], { env: { ...process.env, ...NO_DOCKER, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

function capture(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  const toErr = (t: string) => (err += t);
  return { out: (t) => (out += t), err: toErr, color: false, live: { write: toErr, isTTY: false }, stdout: () => out, stderr: () => err };
}

const dir = mkdtempSync(join(tmpdir(), "pgdrill-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pgdrill validate (spawned as the installed command)", { timeout: 60_000 }, () => {
  it("prints each valid scenario's plan: probes and endpoints, what is injected and healed when, actions, gates; exit 0", async () => {
    const { code, stdout, stderr } = await spawnCli(["validate", "pair-kill-primary", "scenarios/pair-partition-then-kill.ts"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n").map((line) => line.trimEnd());
    expect(lines).toContain("pair-kill-primary (scenarios/pair-kill-primary.ts): valid");
    expect(lines).toContain("  target    container-pair: nodes primary, standby; initial primary primary");
    expect(lines).toContain("  duration  12s of probing; the first 3s are the steady state (availability ≥ 1)");
    expect(lines).toContain("  probes    select1 → rw (fresh), every 50ms, timeout 500ms");
    expect(lines).toContain("            role → every node, every 200ms, timeout 500ms");
    expect(lines).toContain("              3s  f1  inject  kill primary (SIGKILL)");
    expect(lines).toContain("              3s  a1  action  promote standby (after 1s)");
    expect(lines).toContain("  gates     availability.ratio >= 0.7");
    // A fault with a heal and no `for` is healed when the drill ends.
    expect(lines).toContain("              6.5s  a1  action  promote standby");
    expect(lines).toContain("               end  f1  heal    partition primary ↔ standby");
    expect(lines.at(-2)).toBe("2 of 2 scenarios valid");
  });

  it("names the field and the fix of an invalid scenario, still plans the valid ones, and exits 2", async () => {
    const { code, stdout, stderr } = await spawnCli(["validate", "pair-kill-primary", "test/fixtures/bad-scenarios/unknown-node.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      '\npgdrill: test/fixtures/bad-scenarios/unknown-node.yaml: schedule[0].fault.node: unknown node "primry". ' +
        "The container-pair target's nodes are primary, standby.\n",
    );
    expect(stdout).toContain("pair-kill-primary (scenarios/pair-kill-primary.ts): valid");
    expect(stdout).toMatch(/1 of 2 scenarios valid\n$/);
  });

  it("--json: one document with each plan and each problem", async () => {
    const args = ["validate", "pair-pause-primary", "test/fixtures/bad-scenarios/several-problems.yaml", "--json"];
    const { code, stdout, stderr } = await spawnCli(args);
    expect(code).toBe(2);
    expect(stderr).toBe("");
    const report = JSON.parse(stdout) as { valid: boolean; scenarios: Array<Record<string, unknown>> };
    expect(report.valid).toBe(false);
    const plan = { name: "pair-pause-primary", target: { kind: "container-pair" } };
    expect(report.scenarios[0]).toMatchObject({ scenario: "pair-pause-primary", valid: true, plan });
    expect(report.scenarios[1]).toMatchObject({ valid: false });
    expect((report.scenarios[1]!.problems as string[]).length).toBe(4);
  });
});

describe("pgdrill validate (in process)", { timeout: 60_000 }, () => {
  const bad = readdirSync("test/fixtures/bad-scenarios");

  it.each(bad)("refuses bad-scenarios/%s with exit 2 and a pgdrill: line, as run does", async (file) => {
    const io = capture();
    expect(await main(["validate", join("test/fixtures/bad-scenarios", file)], io)).toBe(2);
    expect(io.stderr()).toMatch(/^pgdrill: /);
    expect(io.stdout()).toBe("");
  });

  it("accepts every shipped scenario (the endpoint ones with DATABASE_URL set, as run needs)", async () => {
    // rules/ holds the rules files scenarios name, not scenarios.
    const names = readdirSync("scenarios", { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => basename(entry.name, extname(entry.name)));
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgresql://app:secret@db.example.com:5432/app";
    try {
      const io = capture();
      expect(await main(["validate", ...names], io), io.stderr()).toBe(0);
      expect(io.stdout()).toContain(`${names.length} of ${names.length} scenarios valid`);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  it("an endpoint scenario without DATABASE_URL is refused as run refuses it", async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      const io = capture();
      expect(await main(["validate", "endpoint-observe"], io)).toBe(2);
      expect(io.stderr()).toMatch(/^pgdrill: target\.url: no URL: .*DATABASE_URL is not set/);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  it("checks --gate as run does, and shows the gates it would judge", async () => {
    const refused = capture();
    expect(await main(["validate", "pair-kill-primary", "--gate", "failover.latency<5000"], refused)).toBe(2);
    expect(refused.stderr()).toMatch(/^pgdrill: --gate: unknown metric "failover.latency"/);
    const io = capture();
    const gates = ["--gate", "failover.latencyMs<5000", "--gate", "writes.lostAcknowledged==0"];
    expect(await main(["validate", "pair-kill-primary", ...gates], io)).toBe(0);
    const shown = ["availability.ratio >= 0.7", "failover.latencyMs <5000", "writes.lostAcknowledged ==0"];
    expect(io.stdout()).toContain(`  gates     ${shown.join("\n            ")}\n`);
  });

  it("a manual step needs someone to confirm it, as for run: refused without a terminal, valid with --confirm-manual auto", async () => {
    const file = join(dir, "game-day.yaml");
    writeFileSync(
      file,
      [
        "name: game-day",
        "target: { kind: container-pair }",
        "probes: [{ kind: select1 }]",
        "steadyState: { window: 2s }",
        "schedule:",
        "  - { at: 3s, manual: { say: delete the primary pod, timeout: 5s } }",
        "  - { at: 4s, fault: { kind: pause, node: standby }, for: 2s }",
        "  - { at: 7s, fault: { kind: partition, isolate: standby } }",
        "  - { at: 8s, action: { kind: heal } }",
        "  - { at: 9s, fault: { kind: partition, isolate: standby } }",
        "duration: 10s",
      ].join("\n"),
    );
    const refused = capture();
    expect(await main(["validate", file], refused)).toBe(2);
    expect(refused.stderr()).toMatch(/schedule\[0\]\.manual: is a manual step .* not interactive .*--confirm-manual auto/);
    const io = capture();
    expect(await main(["validate", file, "--confirm-manual", "auto"], io), io.stderr()).toBe(0);
    expect(io.stdout()).toContain("3s  m1  manual  delete the primary pod (waits up to 5s for a confirmation)");
    expect(io.stdout()).toContain("4s  f1  inject  pause standby");
    expect(io.stdout()).toContain("6s  f1  heal    pause standby");
    // The heal action heals f2; f3 comes after it and is healed when the drill ends.
    expect(io.stdout()).toContain("8s  a1  action  heal all faults");
    expect(io.stdout()).not.toContain("end  f2");
    expect(io.stdout()).toContain("end  f3  heal    isolate standby");
  });

  it("has help with examples and exit codes", async () => {
    const io = capture();
    expect(await main(["validate", "--help"], io)).toBe(0);
    expect(io.stdout()).toContain("pgdrill validate pair-kill-primary");
    expect(io.stdout()).toContain("Exit codes: 0 every scenario is valid, 2 one or more is not");
  });
});
