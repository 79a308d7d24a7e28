/**
 * pgdrill's benchmarks: how precise, how fast, how light (issue 7). Each measures pgdrill side by
 * side with a reference in the same run — the server's own record, pgbench, the scenario's own
 * windows — and prints distributions and ratios against their targets. A full run writes
 * bench/results.json; --smoke is the short version CI runs (targets are printed, not enforced:
 * they depend on the machine; the exit code is non-zero only when a benchmark could not run).
 *
 *   node bench/run.ts [--smoke] [--only precision,throughput,overhead,startup,soak,history]
 *                     [--trials 10] [--baseline-trials 3] [--soak 600] [--seconds 10] [--out file]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LOCAL_IMAGE } from "../harness/targets/shared/image.ts";
import { CAPPED_HEAP_MIB, historyScaleBench } from "./history-scale.ts";
import { describeMachine, load } from "./machine.ts";
import { overheadBench, overheadTable } from "./overhead.ts";
import { patroniStartupBench, patroniStartupTable } from "./patroni-startup.ts";
import { precisionBench, precisionTable } from "./precision.ts";
import { soakBench } from "./soak.ts";
import { fmt, fmtDistribution } from "./stats.ts";
import { throughputBench, throughputTable } from "./throughput.ts";

const BENCHMARKS = ["precision", "throughput", "overhead", "startup", "soak", "history"] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    trials: { type: "string" },
    "baseline-trials": { type: "string" },
    intervals: { type: "string" },
    soak: { type: "string" },
    seconds: { type: "string" },
    "history-events": { type: "string" },
    out: { type: "string" },
  },
});

const smoke = values.smoke ?? false;
const number = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} must be a non-negative number, got "${raw}"`);
    process.exit(2);
  }
  return value;
};
const only = values.only ? values.only.split(",").map((name) => name.trim()) : [...BENCHMARKS];
for (const name of only) {
  if (!(BENCHMARKS as readonly string[]).includes(name)) {
    console.error(`--only: unknown benchmark "${name}"; use ${BENCHMARKS.join(", ")}`);
    process.exit(2);
  }
}
const settings = {
  smoke,
  only: only as Benchmark[],
  trials: number("trials", values.trials, smoke ? 1 : 10),
  baselineTrials: number("baseline-trials", values["baseline-trials"], smoke ? 0 : 3),
  intervalsMs: values.intervals ? values.intervals.split(",").map((each) => number("intervals", each, 0)) : smoke ? [20] : [100, 20, 10],
  soakSeconds: number("soak", values.soak, smoke ? 20 : 600),
  throughputSeconds: number("seconds", values.seconds, smoke ? 3 : 10),
  historyEvents: values["history-events"] ? [number("history-events", values["history-events"], 0)] : smoke ? [100_000] : [100_000, 1_000_000, 3_000_000],
};
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(values.out ?? (smoke ? join(tmpdir(), "pgdrill-bench-smoke.json") : join(root, "bench", "results.json")));
// A folder per invocation: a drill appends to an existing history, so run dirs must never be reused.
const reportsDir = join(root, "reports", "bench", new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, ""));
const image = process.env.PGDRILL_IMAGE ?? LOCAL_IMAGE;

// Ctrl-C stops the benchmark in progress; drills heal and tear down as they do for the CLI.
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort());
process.once("SIGTERM", () => interrupt.abort());
const log = (line: string) => console.error(`[bench] ${line}`);

const startedAt = new Date().toISOString();
const loadAtStart = load();
const results: Partial<Record<Benchmark, unknown>> = {};
const lines: string[] = [];
const failures: string[] = [];

async function section(name: Benchmark, title: string, body: () => Promise<string[]>) {
  if (!settings.only.includes(name) || interrupt.signal.aborted) return;
  const begin = Date.now();
  try {
    const table = await body();
    lines.push(`${title}  [${Math.round((Date.now() - begin) / 1000)} s, load ${load().join(" ")}]`, ...table, "");
  } catch (error) {
    failures.push(`${name}: ${String(error)}`);
    lines.push(`${title}: could not run: ${String(error)}`, "");
  }
}

await section("precision", "1. Precision of failover latency (measured write outage − the new primary's own record)", async () => {
  const { trials, summaries } = await precisionBench({ ...settings, outDir: join(reportsDir, "precision"), signal: interrupt.signal, log });
  results.precision = {
    definition: "error = pgdrill's writes downtime window − (first commit after promotion − last commit on the old timeline), server written_at",
    coverage:
      "fraction of trials whose server truth, minus the fault's wall time, lies within the bounds: for the failover, the first commit after promotion and the new primary's ready log line within failover.latencyLowerMs..latencyUpperMs; for the headline downtime window, the standby losing the old primary within startLowerMs..startUpperMs and the first commit within endLowerMs..endMs",
    summaries,
    trials,
  };
  return precisionTable(summaries);
});

await section("throughput", "2. Probe throughput vs pgbench, same server, same run; probe jitter", async () => {
  const { rows, jitter } = await throughputBench({ image, seconds: settings.throughputSeconds, jitterSeconds: settings.throughputSeconds, signal: interrupt.signal, log });
  results.throughput = { seconds: settings.throughputSeconds, rows, jitter };
  return throughputTable(rows, jitter);
});

await section("overhead", "3. Drill overhead (pair-kill-primary, wall time by phase)", async () => {
  const result = await overheadBench({ trials: smoke ? 1 : 3, outDir: join(reportsDir, "overhead"), signal: interrupt.signal, log });
  results.overhead = result;
  return overheadTable(result);
});

await section("startup", "3b. Patroni target start-up (3 nodes, 3 etcd members, HAProxy) vs the container pair's, same run", async () => {
  const result = await patroniStartupBench({ trials: smoke ? 1 : 3, signal: interrupt.signal, log });
  results.startup = result;
  return patroniStartupTable(result);
});

await section("soak", "4a. Memory: soak at 8 probes × 100/s", async () => {
  const result = await soakBench({ seconds: settings.soakSeconds, signal: interrupt.signal, log });
  results.soak = result;
  return [
    `  ${result.operations} operations in ${result.seconds} s (verdict ${result.verdict}); RSS after ${result.warmUpSeconds} s warm-up ${fmt(result.rssAfterWarmUpMiB)} MiB, at end ${fmt(result.rssAtEndMiB)} MiB, max ${fmt(result.rssMaxWhileProbingMiB)} MiB`,
    `  growth ${fmt(result.growthMiB)} MiB; target ≤ ${result.targetGrowthMiB} MiB: ${result.met === null ? "no data" : result.met ? "met" : "MISSED"}`,
    `  jitter of 8 probes every 10 ms: ${fmtDistribution(result.jitterMs, 3)}; target p99 ≤ 2 ms: ${result.jitterMs.p99 !== null && result.jitterMs.p99 <= 2 ? "met" : "MISSED"}`,
    `  analysing its own history afterwards: ${fmt(result.analysisMs, 0)} ms, process peak RSS ${fmt(result.maxRssMiB)} MiB`,
  ];
});

await section("history", "4b. Analysing and rendering a large history (pgdrill report)", async () => {
  const rows = await historyScaleBench({ sizes: settings.historyEvents, signal: interrupt.signal, log });
  results.history = rows;
  return rows.map(
    (row) =>
      `  ${String(row.events).padStart(8)} events (${row.historyMiB} MiB): ${row.wallMs} ms, peak RSS ${row.maxRssMiB} MiB; ` +
      `target ≤ ${row.targetMs} ms: ${row.met ? "met" : "MISSED"}; with a ${CAPPED_HEAP_MIB} MiB heap: ${row.cappedHeapOk ? "finished (bounded)" : "FAILED (memory grows with the history)"}`,
  );
});

const machine = describeMachine(image);
const report = { startedAt, finishedAt: new Date().toISOString(), machine, load: { start: loadAtStart, end: load() }, settings, failures, results };
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + "\n");

console.log(`pgdrill benchmarks${smoke ? " (smoke)" : ""} — ${machine.cores} cores ${machine.cpuModel}, Node ${machine.node}, Docker ${machine.docker}`);
console.log(`load average at start ${loadAtStart.join(" ")}, at end ${load().join(" ")}\n`);
console.log(lines.join("\n"));
console.log(`results: ${out}`);
if (failures.length > 0) {
  console.error(`benchmarks that could not run:\n  ${failures.join("\n  ")}`);
  process.exitCode = 1;
}
if (interrupt.signal.aborted) process.exitCode = 130;
