/**
 * `pgdrill trend` over real run directories: the two examples in reports/examples, and nightly-like
 * histories generated from them (each a copy of an example with its numbers and startedAt
 * changed), in an artifact-like tree. Checks the boundary (a broken result.json is skipped, named
 * with its field), the series and the regression gate, and what trend.html and trend.md show.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, type CliIO } from "../../harness/cli/main.ts";
import type { RunResult } from "../../harness/result.ts";
import { buildTrend, checkRegressions, collectRuns, median, parseRegression, readRunResult } from "../../harness/trend/trend.ts";

const EXAMPLE = "reports/examples/pair-kill-primary";

function capture(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (t) => (out += t), err: (t) => (err += t), color: false, live: { write: (t: string) => (err += t), isTTY: false }, stdout: () => out, stderr: () => err };
}

/** A copy of the example run, its failover latency (and bounds), availability and start changed. */
function nightly(root: string, day: number, changes: { latencyMs?: number | null; ratio?: number; verdict?: RunResult["verdict"]; lost?: number }): string {
  const dir = join(root, `night-${day}`, "pair-kill-primary");
  mkdirSync(dir, { recursive: true });
  cpSync(EXAMPLE, dir, { recursive: true });
  const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as RunResult;
  result.runId = `202612${String(day).padStart(2, "0")}-033000-${String(day).padStart(4, "0")}`;
  result.startedAt = `2026-12-${String(day).padStart(2, "0")}T03:30:00.000Z`;
  if (changes.latencyMs !== undefined) {
    const f = result.metrics.failover;
    f.latencyMs = changes.latencyMs;
    f.latencyLowerMs = changes.latencyMs === null ? null : changes.latencyMs - 60;
    f.latencyUpperMs = changes.latencyMs;
  }
  if (changes.ratio !== undefined) result.metrics.availability.ratio = changes.ratio;
  if (changes.verdict) result.verdict = changes.verdict;
  if (changes.lost !== undefined) result.metrics.writes.lostAcknowledged = changes.lost;
  writeFileSync(join(dir, "result.json"), JSON.stringify(result, null, 2));
  return dir;
}

/** Six nights of pair-kill-primary, ~1.16 s each, then a slow seventh; plus the two examples. */
function artifacts(lastLatencyMs: number): string {
  const root = mkdtempSync(join(tmpdir(), "pgdrill-trend-"));
  const latencies = [1100, 1180, 1150, 1250, 1120, 1160];
  latencies.forEach((latencyMs, i) => nightly(root, i + 2, { latencyMs, ratio: 0.9 }));
  nightly(root, 8, { latencyMs: lastLatencyMs, ratio: 0.89 });
  cpSync("reports/examples", join(root, "examples"), { recursive: true });
  return root;
}

describe("reading run directories", () => {
  it("finds every run directory however deep, orders each scenario's runs by start, reads the same run once", () => {
    const root = artifacts(1200);
    cpSync(join(root, "night-3"), join(root, "copy-of-night-3"), { recursive: true });
    const { runs, skipped } = collectRuns([root]);
    expect(skipped).toEqual([]);
    // 7 nights + the pair-kill-primary example + pair-partition-then-kill; night-3's copy once.
    expect(runs).toHaveLength(9);
    const trend = buildTrend([root], [], 5);
    expect(trend.trends.map((t) => [t.scenario, t.runs.length])).toEqual([["pair-kill-primary", 8], ["pair-partition-then-kill", 1]]);
    const starts = trend.trends[0]!.runs.map((run) => run.result.startedAt);
    expect(starts).toEqual([...starts].sort());
    expect(starts[0]).toBe("2026-12-01T12:43:30.385Z");
  });

  it("skips a result.json it cannot use, naming the file and the field", () => {
    const root = artifacts(1200);
    const bad = join(root, "night-4", "pair-kill-primary", "result.json");
    const result = JSON.parse(readFileSync(bad, "utf8")) as Record<string, unknown> & { metrics: { failover: Record<string, unknown> } };
    result.metrics.failover.latencyMs = "1.2 s";
    writeFileSync(bad, JSON.stringify(result));
    const cut = join(root, "night-5", "pair-kill-primary", "result.json");
    writeFileSync(cut, '{"scenario": "pair-kill-pri');
    const noDate = join(root, "night-6", "pair-kill-primary", "result.json");
    writeFileSync(noDate, JSON.stringify({ ...JSON.parse(readFileSync(noDate, "utf8")), startedAt: "yesterday" }));
    const { runs, skipped } = collectRuns([root]);
    expect(runs).toHaveLength(6);
    expect(skipped).toEqual([
      { file: bad, reason: "metrics.failover.latencyMs: Invalid input: expected number, received string: not a pgdrill result.json, or one from a version whose results differ" },
      { file: cut, reason: expect.stringMatching(/^is not JSON \(/) },
      { file: noDate, reason: expect.stringMatching(/^startedAt: must be an ISO 8601 date and time/) },
    ]);
    expect(readRunResult(join(root, "nowhere.json"))).toEqual({ file: join(root, "nowhere.json"), reason: "cannot be read (ENOENT)" });
  });
});

describe("the regression gate", () => {
  it("parses metric:+N% and metric:-N%, refusing what it cannot mean", () => {
    expect(parseRegression("failover.latencyMs:+25%")).toEqual({ metric: "failover.latencyMs", direction: "+", amount: 25, relative: true, text: "failover.latencyMs:+25%" });
    expect(parseRegression("availability.ratio: -1%")).toMatchObject({ direction: "-", amount: 1, relative: true });
    expect(parseRegression("downtime.totalMs:+500")).toMatchObject({ amount: 500, relative: false });
    expect(() => parseRegression("failover.latencyMs>25%")).toThrow(/^--regression: "failover\.latencyMs>25%" is not metric:\+N% or metric:-N%\. Write e\.g\./);
    expect(() => parseRegression("failover.latency:+25%")).toThrow(/^--regression: unknown metric "failover\.latency"\. Did you mean "failover\.latencyMs"\?/);
  });

  it("compares the latest run with the median of the previous N, in the direction given", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const root = artifacts(1600);
    const trend = buildTrend([root], [parseRegression("failover.latencyMs:+25%"), parseRegression("availability.ratio:-1%"), parseRegression("writes.lostAcknowledged:+0")], 5);
    const checks = trend.checks.filter((check) => check.scenario === "pair-kill-primary");
    // The previous five: 1180, 1150, 1250, 1120, 1160 → median 1160; +25% → 1450; the latest 1600 is above.
    expect(checks[0]).toMatchObject({ baseline: 1160, baselineRuns: 5, limit: 1450, value: 1600, breached: true });
    // Availability 0.89 against a median 0.9 −1% = 0.891: below.
    expect(checks[1]).toMatchObject({ baseline: 0.9, breached: true });
    expect(checks[1]!.limit).toBeCloseTo(0.891, 6);
    expect(checks[2]).toMatchObject({ baseline: 0, value: 0, breached: false });
    // A scenario with one run has no baseline: not judged, not a breach.
    expect(trend.checks.find((check) => check.scenario === "pair-partition-then-kill")).toMatchObject({ breached: false, note: "no earlier run measured it: no baseline yet" });
    // --baseline 2: median of 1120 and 1160.
    expect(checkRegressions(trend.trends, [parseRegression("failover.latencyMs:+25%")], 2)[0]).toMatchObject({ baseline: 1140, baselineRuns: 2 });
  });

  it("never takes an errored run into a baseline, does not judge an errored latest run, and counts a metric the latest run did not measure as a breach", () => {
    const root = mkdtempSync(join(tmpdir(), "pgdrill-trend-"));
    [1000, 1000, 9000, 1000].forEach((latencyMs, i) => nightly(root, i + 2, { latencyMs, ...(latencyMs === 9000 ? { verdict: "errored" as const } : {}) }));
    nightly(root, 9, { latencyMs: null });
    const spec = parseRegression("failover.latencyMs:+10%");
    const [unmeasured] = buildTrend([root], [spec], 5).checks;
    expect(unmeasured).toMatchObject({ baseline: 1000, baselineRuns: 3, value: null, breached: true });
    nightly(root, 10, { latencyMs: 5000, verdict: "errored" });
    const [errored] = buildTrend([root], [spec], 5).checks;
    expect(errored).toMatchObject({ breached: false, note: expect.stringMatching(/^the latest run errored/) });
  });
});

describe("pgdrill trend", { timeout: 60_000 }, () => {
  it("writes trend.html (self-contained charts per scenario) and trend.md, exit 0 without a regression", async () => {
    const root = artifacts(1200);
    const out = mkdtempSync(join(tmpdir(), "pgdrill-trend-out-"));
    const io = capture();
    expect(await main(["trend", root, "--out", out, "--regression", "failover.latencyMs:+25%"], io)).toBe(0);
    expect(io.stdout()).toMatch(/^9 runs of pair-kill-primary \(8\), pair-partition-then-kill \(1\)\n/);
    expect(io.stdout()).toMatch(/^ok {9}pair-kill-primary: failover\.latencyMs 1\.20 s in run 20261208-033000-0008, at most 1\.45 s \(median 1\.16 s of 5 previous runs \+25%\)$/m);
    const html = readFileSync(join(out, "trend.html"), "utf8");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html.match(/<svg/g)?.length).toBe(2);
    for (const title of ["Failover latency", "Recovery latency", "Downtime of the availability probe", "Availability (share of time served)", "Lost acknowledged writes", "Verdict of each run"]) expect(html).toContain(title);
    // Every run is a row, linking its report.
    expect(html).toContain(`href="../${root.split("/").pop()}/night-8/pair-kill-primary/report.html"`);
    const md = readFileSync(join(out, "trend.md"), "utf8");
    expect(md).toMatch(/^## pgdrill trend: ok$/m);
    expect(md).toMatch(/^\| 2026-12-08T03:30:00\.000Z \| `20261208-033000-0008` \| pass \| 1\.20 s \+0\/−60\.0 ms \|/m);
    expect(md).toMatch(/^### pair-partition-then-kill$/m);
  });

  it("exits 1 with a line per breach; skipped files are reported, not fatal; no run at all exits 2", async () => {
    const root = artifacts(1600);
    // night-3 (1180 ms) unreadable: the previous five are 1100, 1150, 1250, 1120, 1160 → median 1150.
    writeFileSync(join(root, "night-3", "pair-kill-primary", "result.json"), "{}");
    const out = mkdtempSync(join(tmpdir(), "pgdrill-trend-out-"));
    const io = capture();
    expect(await main(["trend", root, "--out", out, "--regression", "failover.latencyMs:+25%", "--regression", "availability.ratio:-1%", "--baseline", "5"], io)).toBe(1);
    expect(io.stdout()).toMatch(/^REGRESSION pair-kill-primary: failover\.latencyMs 1\.60 s in run 20261208-033000-0008, above 1\.44 s \(median 1\.15 s of 5 previous runs \+25%\)$/m);
    expect(io.stdout()).toMatch(/^REGRESSION pair-kill-primary: availability\.ratio 89\.00% in run 20261208-033000-0008, below 89\.10% \(median 90\.00% of 5 previous runs -1%\)$/m);
    expect(io.stderr()).toMatch(/^pgdrill: skipped .*night-3\/pair-kill-primary\/result\.json: scenario: Invalid input: expected string, received undefined \(and \d+ more\)/m);
    expect(readFileSync(join(out, "trend.md"), "utf8")).toMatch(/^## pgdrill trend: \*\*regression\*\*$/m);
    expect(readFileSync(join(out, "trend.html"), "utf8")).toContain('<li class="bad">pair-kill-primary: failover.latencyMs 1.60 s in run 20261208-033000-0008, above 1.44 s');

    const empty = mkdtempSync(join(tmpdir(), "pgdrill-trend-empty-"));
    const none = capture();
    expect(await main(["trend", empty, "--out", out], none)).toBe(2);
    expect(none.stderr()).toMatch(/no readable result\.json under/);
    const bad = capture();
    expect(await main(["trend", root, "--regression", "failover.latencyMs+25%"], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/^pgdrill: --regression: "failover\.latencyMs\+25%" is not metric:\+N% or metric:-N%/);
    const baseline = capture();
    expect(await main(["trend", root, "--baseline", "0"], baseline)).toBe(2);
    expect(baseline.stderr()).toMatch(/^pgdrill: --baseline: "0" is not a number of runs/);
  });

  it("charts runs re-analysed by `pgdrill report` from a changed history", async () => {
    // A history whose fault came 200 ms later: `pgdrill report` recomputes every number from it.
    const root = mkdtempSync(join(tmpdir(), "pgdrill-trend-report-"));
    const dir = join(root, "rerun");
    cpSync(EXAMPLE, dir, { recursive: true });
    const lines = readFileSync(join(dir, "history.jsonl"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of lines) {
      if (event["kind"] === "run-start") {
        event["wallClock"] = "2026-12-02T03:30:00.000Z";
        event["runId"] = "20261202-033000-rr01";
      }
    }
    writeFileSync(join(dir, "history.jsonl"), `${lines.map((event) => JSON.stringify(event)).join("\n")}\n`);
    expect(await main(["report", dir], capture())).toBe(0);
    cpSync(EXAMPLE, join(root, "original"), { recursive: true });
    const io = capture();
    const out = join(root, "trend");
    expect(await main(["trend", root, "--out", out, "--regression", "failover.latencyMs:+1%"], io)).toBe(0);
    expect(io.stdout()).toMatch(/^2 runs of pair-kill-primary \(2\)/);
    expect(readFileSync(join(out, "trend.md"), "utf8")).toContain("`20261202-033000-rr01`");
  });
});
