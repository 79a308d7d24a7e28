/**
 * Benchmark 4a — memory over a long drill: 8 probes × 100/s for the soak length, in a child
 * process (bench/soak-drill.ts) so the RSS is the harness's alone, sampled after a full garbage
 * collection so it measures what is retained. Growth is the mean of the last
 * three samples minus the mean of the three after warm-up (the first minute, or a quarter of a
 * shorter soak), so one noisy sample neither hides nor fakes growth.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { round, type Distribution } from "./stats.ts";

const run = promisify(execFile);

export interface SoakOptions {
  seconds: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface SoakResult {
  seconds: number;
  probes: string;
  verdict: string;
  operations: number;
  warmUpSeconds: number;
  rssAfterWarmUpMiB: number | null;
  rssAtEndMiB: number | null;
  rssMaxWhileProbingMiB: number | null;
  growthMiB: number | null;
  samples: Array<{ s: number; rssMiB: number; heapMiB: number }>;
  jitterMs: Distribution;
  overruns: number;
  /** Analysing and rendering the soak's own (real) history at the end of the drill. */
  analysisMs: number | null;
  maxRssMiB: number;
  targetGrowthMiB: number;
  met: boolean | null;
}

export async function soakBench(options: SoakOptions): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-soak-"));
  try {
    const script = fileURLToPath(new URL("./soak-drill.ts", import.meta.url));
    options.log(`soak: 8 probes × 100/s for ${options.seconds} s`);
    // --expose-gc: each sample first collects garbage, so it shows what the harness keeps, not
    // how lazily V8 collects (without it, heapUsed climbs for minutes and then drops).
    const { stdout } = await run(process.execPath, ["--expose-gc", script, join(dir, "run"), String(options.seconds)], {
      timeout: (options.seconds + 300) * 1000,
      maxBuffer: 16 * 2 ** 20,
      signal: options.signal,
      killSignal: "SIGINT", // the drill heals and tears down on SIGINT like the CLI
      encoding: "utf8",
    });
    const child = JSON.parse(stdout.trim().split("\n").at(-1)!) as Omit<SoakResult, "seconds" | "probes" | "warmUpSeconds" | "rssAfterWarmUpMiB" | "rssAtEndMiB" | "rssMaxWhileProbingMiB" | "growthMiB" | "targetGrowthMiB" | "met">;
    const warmUpSeconds = Math.min(60, options.seconds / 4);
    const afterWarmUp = child.samples.filter((sample) => sample.s >= warmUpSeconds);
    const mean = (values: number[]) => (values.length === 0 ? null : round(values.reduce((a, b) => a + b, 0) / values.length, 1));
    const rssAfterWarmUpMiB = mean(afterWarmUp.slice(0, 3).map((sample) => sample.rssMiB));
    const rssAtEndMiB = mean(afterWarmUp.slice(-3).map((sample) => sample.rssMiB));
    const growthMiB = rssAfterWarmUpMiB === null || rssAtEndMiB === null ? null : round(rssAtEndMiB - rssAfterWarmUpMiB, 1);
    return {
      ...child,
      seconds: options.seconds,
      probes: "7 select1 + 1 writes, held connections, every 10 ms",
      warmUpSeconds,
      rssAfterWarmUpMiB,
      rssAtEndMiB,
      rssMaxWhileProbingMiB: child.samples.length ? Math.max(...child.samples.map((sample) => sample.rssMiB)) : null,
      growthMiB,
      targetGrowthMiB: 20,
      met: growthMiB === null ? null : growthMiB <= 20,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
