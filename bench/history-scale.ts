/**
 * Benchmark 4b — analysing and rendering a large History: `pgdrill report <dir>` (checkers, gate,
 * report.json/md/html, junit) on synthetic histories of the pair-kill-primary story
 * (fixtures/histories/synthetic.ts), in a child process: wall time and peak RSS. Two sizes show
 * whether memory is bounded (flat) or grows with the history.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { writeSyntheticHistory } from "../fixtures/histories/synthetic.ts";
import { round } from "./stats.ts";

export interface HistoryScaleOptions {
  sizes: number[];
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface HistoryScaleRow {
  events: number;
  historyMiB: number;
  wallMs: number;
  maxRssMiB: number;
  exitCode: number;
  targetMs: number;
  met: boolean;
}

const CLI = fileURLToPath(new URL("../bin/pgdrill.js", import.meta.url));
const PRELOAD = fileURLToPath(new URL("./max-rss.ts", import.meta.url));

export async function historyScaleBench(options: HistoryScaleOptions): Promise<HistoryScaleRow[]> {
  const rows: HistoryScaleRow[] = [];
  for (const events of options.sizes) {
    if (options.signal.aborted) break;
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-history-"));
    try {
      const runDir = join(dir, "run");
      const synthetic = await writeSyntheticHistory(runDir, { events });
      const historyMiB = round(statSync(join(runDir, "history.jsonl")).size / 2 ** 20, 1);
      const rssFile = join(dir, "max-rss");
      const begin = performance.now();
      const exitCode = await new Promise<number>((resolve, reject) => {
        execFile(
          process.execPath,
          ["--import", PRELOAD, CLI, "report", runDir],
          { timeout: 300_000, maxBuffer: 16 * 2 ** 20, signal: options.signal, env: { ...process.env, PGDRILL_BENCH_RSS_FILE: rssFile } },
          (error) => {
            const code = error && "code" in error && typeof error.code === "number" ? error.code : error ? null : 0;
            // 1 is a deviated gate (the synthetic story loses writes): the report was still made.
            if (code === 0 || code === 1) resolve(code);
            else reject(error);
          },
        );
      });
      const wallMs = round(performance.now() - begin, 0);
      const maxRssMiB = round(Number(readFileSync(rssFile, "utf8")) / 1024, 1);
      rows.push({ events: synthetic.events, historyMiB, wallMs, maxRssMiB, exitCode, targetMs: 5000, met: wallMs <= 5000 });
      options.log(`history ${synthetic.events} events (${historyMiB} MiB): report in ${wallMs} ms, peak RSS ${maxRssMiB} MiB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
