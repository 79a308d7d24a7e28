/** The command line: exit codes, one-line errors for bad input, and nothing started for them. */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main, type CliIO } from "../harness/cli/main.ts";
import { GATE_METRICS } from "../harness/gate/metrics.ts";
import { dockerClient, LABELS } from "../harness/targets/shared/docker.ts";

function capture(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  const err_ = (t: string) => (err += t);
  return { out: (t) => (out += t), err: err_, color: false, live: { write: err_, isTTY: false }, stdout: () => out, stderr: () => err };
}

async function pgdrillContainers(): Promise<number> {
  const docker = await dockerClient();
  return (await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } })).length;
}

describe("pgdrill CLI", { timeout: 60_000 }, () => {
  it("lists the shipped scenarios", async () => {
    const io = capture();
    expect(await main(["list"], io)).toBe(0);
    expect(io.stdout()).toMatch(/^pair-kill-primary\s+container-pair\s+12s/m);
    expect(io.stdout()).toMatch(/^pair-pause-primary\s+container-pair\s+10s/m);
  });

  it("exits 2 on bad input with the field named, and starts nothing", async () => {
    const before = await pgdrillContainers();
    const io = capture();
    expect(await main(["run", "test/fixtures/bad-scenarios/unknown-node.yaml"], io)).toBe(2);
    expect(io.stderr()).toBe(
      'pgdrill: test/fixtures/bad-scenarios/unknown-node.yaml: schedule[0].fault.node: unknown node "primry". The container-pair target\'s nodes are primary, standby.\n',
    );
    expect(await pgdrillContainers()).toBe(before);
  });

  it("refuses to run into a directory that already holds a run, and leaves that run as it was", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-reused-"));
    writeFileSync(join(dir, "history.jsonl"), '{"kind":"run-start","t":0}\n');
    const before = await pgdrillContainers();
    const io = capture();
    expect(await main(["run", "pair-kill-primary", "--out", dir], io)).toBe(2);
    expect(io.stderr()).toMatch(/^pgdrill: --out: .* already holds a run \(history\.jsonl\)\. Give a new directory/);
    expect(readFileSync(join(dir, "history.jsonl"), "utf8")).toBe('{"kind":"run-start","t":0}\n');
    expect(await pgdrillContainers()).toBe(before);
  });

  it("refuses a malformed --gate before loading anything", async () => {
    const io = capture();
    expect(await main(["run", "pair-kill-primary", "--gate", "failover.latencyMs about 3s"], io)).toBe(2);
    expect(io.stderr()).toMatch(/^pgdrill: --gate: /);
  });

  it("exits 2 for a report on a directory without a history", async () => {
    const io = capture();
    expect(await main(["report", "/nonexistent/run"], io)).toBe(2);
    expect(io.stderr()).toMatch(/history/);
  });

  it("prints help with examples, exit 0; an unknown command exits 2", async () => {
    const help = capture();
    expect(await main(["run", "--help"], help)).toBe(0);
    expect(help.stdout()).toMatch(/Examples:/);
    expect(help.stdout()).toMatch(/Exit codes: 0 pass, 1 deviated/);
    // Every gate metric with its definition: availability is said to be a share of time.
    for (const metric of Object.keys(GATE_METRICS)) expect(help.stdout()).toContain(`  ${metric} `);
    expect(help.stdout()).toMatch(/availability\.ratio +share of time the availability probe was served/);
    expect(await main(["explode"], capture())).toBe(2);
  });

  it("watch, mark and confirm have help; --confirm-manual takes ask, command or auto", async () => {
    for (const [command, text] of [["watch", /Ctrl-C \(or SIGTERM\) finishes it: completed/], ["mark", /operator-requests\.jsonl/], ["confirm", /confirm the manual step/]] as const) {
      const io = capture();
      expect(await main([command, "--help"], io)).toBe(0);
      expect(io.stdout()).toMatch(text);
    }
    const bad = capture();
    expect(await main(["run", "pair-kill-primary", "--confirm-manual", "maybe"], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/--confirm-manual.*Allowed choices are ask, command, auto/s);
  });

  it("an unknown command says so, with a suggestion when one is close, and exits 2, also with --help", async () => {
    for (const argv of [["frobnicate", "--help"], ["frobnicate", "-h"], ["--help", "frobnicate"], ["help", "frobnicate"], ["frobnicate"]]) {
      const io = capture();
      expect(await main(argv, io), argv.join(" ")).toBe(2);
      expect(io.stderr(), argv.join(" ")).toMatch(/^error: unknown command 'frobnicate'\n/);
      expect(io.stdout(), argv.join(" ")).toBe("");
    }
    const close = capture();
    expect(await main(["rn", "--help"], close)).toBe(2);
    expect(close.stderr()).toMatch(/unknown command 'rn'\n\(Did you mean run\?\)/);
    // Help for a command that exists is still help.
    for (const argv of [["run", "--help"], ["help", "run"], ["--help"]]) {
      const io = capture();
      expect(await main(argv, io), argv.join(" ")).toBe(0);
      expect(io.stdout(), argv.join(" ")).toMatch(/^Usage: pgdrill/);
    }
  });

  it("report --help names every report it rewrites", async () => {
    const io = capture();
    expect(await main(["report", "--help"], io)).toBe(0);
    const text = io.stdout().replace(/\s+/g, " ");
    expect(text).toContain("rewrites every report in it (result.json, report.md, junit.xml, report.html)");
    expect(text).not.toMatch(/rewrites result\.json and report\.md/);
  });

  it("works as the installed command through bin/pgdrill.js", async () => {
    const run = promisify(execFile);
    const error = await run(process.execPath, ["bin/pgdrill.js", "run", "test/fixtures/bad-scenarios/unknown-key.yaml"]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(2);
    expect(error?.stderr).toMatch(/probes\[0\]: unknown key "evrey". Did you mean "every"\?/);
  });

  it("prints the JSON Schema of scenarios, the same as the committed schema/scenario.schema.json", async () => {
    const io = capture();
    expect(await main(["schema"], io)).toBe(0);
    expect(io.stdout()).toBe(readFileSync("schema/scenario.schema.json", "utf8"));
    expect(JSON.parse(io.stdout())).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema", title: "pgdrill scenario" });
  });

  it("report on a saved run whose gate names an unknown metric suggests the metric meant", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-saved-"));
    cpSync("reports/examples/pair-kill-primary", dir, { recursive: true });
    const scenario = JSON.parse(readFileSync(join(dir, "scenario.json"), "utf8")) as { gate: Record<string, string> };
    scenario.gate = { "failover.latency": "< 30000" };
    writeFileSync(join(dir, "scenario.json"), JSON.stringify(scenario));
    const io = capture();
    expect(await main(["report", dir], io)).toBe(2);
    expect(io.stderr()).toMatch(/gate\.failover\.latency: unknown metric "failover\.latency"\. Did you mean "failover\.latencyMs"\?/);
  });

  it("loads a TypeScript scenario that Node cannot strip (an enum) through tsx", async () => {
    const run = promisify(execFile);
    const error = await run(process.execPath, ["bin/pgdrill.js", "run", "test/fixtures/bad-scenarios/enum-too-fast.ts"]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    // Reaching validation means the module was loaded and evaluated, enum included.
    expect(error?.code).toBe(2);
    expect(error?.stderr).toMatch(/probes\[0\]\.every: .*10 ms/);
  });
});

describe("pgdrill run --trials", { timeout: 60_000 }, () => {
  it("refuses a trial count that is not a whole number from 1 to 1000", async () => {
    const io = capture();
    expect(await main(["run", "pair-kill-primary", "--trials", "0"], io)).toBe(2);
    expect(io.stderr()).toMatch(/"0" is not a number of trials; give a whole number from 1 to 1000/);
  });

  it("refuses an unknown trial statistic", async () => {
    const io = capture();
    expect(await main(["run", "pair-kill-primary", "--trials", "3", "--trial-statistic", "p99"], io)).toBe(2);
    expect(io.stderr()).toMatch(/Allowed choices are worst, p95, median/);
  });
});

describe("pgdrill stop and pgdrill trend", { timeout: 60_000 }, () => {
  it("stop refuses what is not a running drill, exit 2, with what to give instead", async () => {
    const io = capture();
    expect(await main(["stop", "no-such-run-id"], io)).toBe(2);
    expect(io.stderr()).toBe('pgdrill: run: "no-such-run-id" is neither a run directory (with a history.jsonl) nor the id of a running drill. Give the run directory `pgdrill run` printed, or its run id (the last part of it).\n');
    const ended = capture();
    expect(await main(["stop", "reports/examples/pair-kill-primary"], ended)).toBe(2);
    expect(ended.stderr()).toMatch(/pair-kill-primary already ended \(completed\); nothing to stop\n$/);
    const wait = capture();
    expect(await main(["stop", "x", "--wait", "soon"], wait)).toBe(2);
    expect(wait.stderr()).toMatch(/"soon" is not a number of seconds/);
  });

  it("trend --help and stop --help say what they do, with examples and exit codes", async () => {
    const trend = capture();
    expect(await main(["trend", "--help"], trend)).toBe(0);
    expect(trend.stdout()).toMatch(/--regression <metric:±N%>/);
    expect(trend.stdout()).toMatch(/Exit codes: 0 no regression, 1 a regression gate breached, 2 bad input or no readable run\./);
    const stop = capture();
    expect(await main(["stop", "--help"], stop)).toBe(0);
    expect(stop.stdout()).toMatch(/It writes stop-request\.json into the run directory/);
  });

  it("trend over the shipped examples writes both pages and exits 0", async () => {
    const out = mkdtempSync(join(tmpdir(), "pgdrill-cli-trend-"));
    const io = capture();
    expect(await main(["trend", "reports/examples", "--out", out, "--regression", "failover.latencyMs:+25%"], io)).toBe(0);
    expect(io.stdout()).toMatch(/^2 runs of pair-kill-primary \(1\), pair-partition-then-kill \(1\)\n/);
    expect(readFileSync(join(out, "trend.md"), "utf8")).toMatch(/^## pgdrill trend: ok$/m);
  });
});
