/**
 * Benchmark 4b — analysing and rendering a large History: `pgdrill report <dir>` (checkers, gate,
 * report.json/md/html, junit) on synthetic histories of the pair-kill-primary story
 * (fixtures/histories/synthetic.ts), in a child process: wall time and peak RSS. Sizes ten times
 * apart show whether memory is bounded (flat) or grows with the history; each size is analysed a
 * second time with V8's heap capped at CAPPED_HEAP_MIB, which only a bounded analysis survives.
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
  /** The same report with the heap capped at CAPPED_HEAP_MIB finished (it would crash out of memory otherwise). */
  cappedHeapOk: boolean;
}

/** Far below what holding a 1M-event history takes (about 0.5 GiB). */
export const CAPPED_HEAP_MIB = 64;

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
      const report = (nodeFlags: string[]) =>
        new Promise<number | null>((resolve, reject) => {
          execFile(
            process.execPath,
            [...nodeFlags, "--import", PRELOAD, CLI, "report", runDir],
            { timeout: 300_000, maxBuffer: 16 * 2 ** 20, signal: options.signal, env: { ...process.env, PGDRILL_BENCH_RSS_FILE: rssFile } },
            (error) => {
              const code = error && "code" in error && typeof error.code === "number" ? error.code : error ? null : 0;
              // 1 is a deviated gate (the synthetic story loses writes): the report was still made.
              if (code === 0 || code === 1) resolve(code);
              else if (options.signal.aborted) reject(error);
              else resolve(null);
            },
          );
        });
      const begin = performance.now();
      const exitCode = await report([]);
      if (exitCode === null) throw new Error(`pgdrill report failed on the ${synthetic.events}-event history`);
      const wallMs = round(performance.now() - begin, 0);
      const maxRssMiB = round(Number(readFileSync(rssFile, "utf8")) / 1024, 1);
      const cappedHeapOk = (await report([`--max-old-space-size=${CAPPED_HEAP_MIB}`])) !== null;
      // The target is 5 s for 1M events; larger histories get the same rate.
      const targetMs = 5000 * Math.max(1, synthetic.events / 1_000_000);
      rows.push({ events: synthetic.events, historyMiB, wallMs, maxRssMiB, exitCode, targetMs: round(targetMs, 0), met: wallMs <= targetMs, cappedHeapOk });
      options.log(`history ${synthetic.events} events (${historyMiB} MiB): report in ${wallMs} ms, peak RSS ${maxRssMiB} MiB; with a ${CAPPED_HEAP_MIB} MiB heap: ${cappedHeapOk ? "finished" : "FAILED"}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
