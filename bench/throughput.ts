/**
 * Benchmark 2 — probe throughput and interval jitter. One container pair; against its primary, in
 * turn: pgbench and pgdrill's own probes (the select1 and writes probes, held connections, no
 * interval: back to back), at 1 and 8 connections. pgbench runs in a container from the same image
 * on the host network, so both reach the server through the same published port. Then the probes
 * at their real job, every 10 ms, for jitter: actual start − planned start.
 *
 * pgdrill's rate counts operations whose History events were written (the harness's whole cost:
 * pg client, deadlines, History), over the window from the first invoke to the last completion.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { HistoryWriter } from "../harness/history/writer.ts";
import type { Endpoint } from "../harness/connection/endpoint.ts";
import { buildProbe } from "../harness/probe/index.ts";
import { SELECT_1_SQL } from "../harness/probe/select1.ts";
import { insertSql } from "../harness/probe/writes.ts";
import { monotonicClock } from "../harness/clock.ts";
import { containerPairTarget, probe as probeSchema } from "../harness/scenario/schema.ts";
import { buildTopology, type StartedTopology } from "../harness/targets/index.ts";
import { pgbench } from "./containers.ts";
import { JitterTracker, fmt, fmtDistribution, round, type Distribution } from "./stats.ts";

export interface ThroughputOptions {
  image: string;
  /** Seconds per measurement. */
  seconds: number;
  jitterSeconds: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface ThroughputRow {
  workload: "select1" | "write";
  connections: number;
  pgdrillOpsPerSec: number;
  pgbenchTps: number;
  ratio: number;
  pgdrillFailed: number;
  pgbenchLatencyMs: number | null;
  /**
   * The same statements through bare `pg` clients (no History, no deadlines): pgdrill's driver
   * alone, which splits the gap to pgbench into the driver's share and the harness's own.
   */
  pgDriverOpsPerSec: number;
  /** pgdrill / bare pg: what the harness itself costs. */
  harnessRatio: number;
  met: boolean;
}

export interface JitterResult {
  everyMs: number;
  probes: string[];
  seconds: number;
  jitterMs: Distribution;
  overruns: number;
  targetP99Ms: number;
  met: boolean | null;
}

/** The probes' own statements (which server answered included), so all three clients do the same work. */
const WRITE_SQL = insertSql("pgdrill.writes");
const SCRIPTS = {
  select1: { script: `${SELECT_1_SQL};`, protocol: "simple" },
  // Same table as the writes probe; a random key is as cheap as the probe's counter and never collides in practice.
  write: { script: `\\set id random(1000000000, 9000000000000000000)\n${WRITE_SQL.replace("$1", "'pgbench'").replace("$2", ":id")};`, protocol: "extended" },
} as const;

export async function throughputBench(options: ThroughputOptions): Promise<{ rows: ThroughputRow[]; jitter: JitterResult }> {
  const runId = `bench-${Date.now().toString(36)}`;
  const topology = buildTopology(containerPairTarget.parse({ kind: "container-pair", image: options.image }));
  const started = await topology.start({ runId, scenario: "bench-throughput", log: options.log, signal: options.signal });
  try {
    // The writes probe creates its table; pgbench's insert script uses the same one.
    await buildProbe(probeSchema.parse({ kind: "writes" })).prepare?.(started);
    const rows: ThroughputRow[] = [];
    for (const workload of ["select1", "write"] as const) {
      for (const connections of [1, 8]) {
        if (options.signal.aborted) throw new Error("interrupted");
        const endpoint = started.endpoint("rw");
        const bench = await pgbench({
          image: options.image,
          runId,
          port: endpoint.port,
          user: endpoint.user,
          password: endpoint.password,
          ...SCRIPTS[workload],
          clients: connections,
          seconds: options.seconds,
        });
        const ours = await probeRate(started, workload, connections, options);
        const driver = await driverRate(endpoint, workload, connections, options.seconds);
        const ratio = round(ours.opsPerSec / bench.tps, 3);
        const harnessRatio = round(ours.opsPerSec / driver, 3);
        rows.push({ workload, connections, pgdrillOpsPerSec: round(ours.opsPerSec, 1), pgbenchTps: round(bench.tps, 1), ratio, pgdrillFailed: ours.failed, pgbenchLatencyMs: bench.latencyMs, pgDriverOpsPerSec: round(driver, 1), harnessRatio, met: ratio >= 0.8 });
        options.log(`throughput ${workload} ×${connections}: pgdrill ${fmt(ours.opsPerSec)}/s, bare pg ${fmt(driver)}/s, pgbench ${fmt(bench.tps)}/s, ratio ${ratio} (harness/driver ${harnessRatio})`);
      }
    }
    const jitter = await probeJitter(started, options);
    options.log(`jitter every 10 ms: ${fmtDistribution(jitter.jitterMs, 3)}`);
    return { rows, jitter };
  } finally {
    await started.teardown();
  }
}

export function throughputTable(rows: ThroughputRow[], jitter: JitterResult): string[] {
  return [
    ...rows.map(
      (row) =>
        `  ${row.workload.padEnd(7)} ×${row.connections}: pgdrill ${fmt(row.pgdrillOpsPerSec, 0).padStart(6)}/s  bare pg ${fmt(row.pgDriverOpsPerSec, 0).padStart(6)}/s  pgbench ${fmt(row.pgbenchTps, 0).padStart(6)}/s  ` +
        `ratio ${row.ratio.toFixed(2)}  target ≥ 0.8: ${row.met ? "met" : "MISSED"}  (pgdrill/bare pg ${row.harnessRatio.toFixed(2)})`,
    ),
    `  jitter every ${jitter.everyMs} ms (${jitter.probes.join(", ")}): ${fmtDistribution(jitter.jitterMs, 3)}; target p99 ≤ ${jitter.targetP99Ms} ms: ${jitter.met ? "met" : "MISSED"}`,
  ];
}

/** Bare `pg` clients running the probe's statement back to back: the driver's own rate. */
async function driverRate(endpoint: Endpoint, workload: "select1" | "write", connections: number, seconds: number): Promise<number> {
  const clients = Array.from({ length: connections }, () => new pg.Client({ host: endpoint.host, port: endpoint.port, user: endpoint.user, password: endpoint.password, database: endpoint.database }));
  await Promise.all(clients.map((client) => client.connect()));
  const label = `bare-pg-${Date.now()}`;
  let next = 1;
  let done = 0;
  const until = performance.now() + seconds * 1000;
  try {
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        // Bounded by time, and by count in case the clock misbehaves.
        for (let i = 0; i < 10_000_000 && performance.now() < until; i += 1) {
          if (workload === "select1") await client.query(SELECT_1_SQL);
          else await client.query(WRITE_SQL, [label, next++]);
          done += 1;
        }
      }),
    );
    return done / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

/** Runs probes in this process exactly as a drill does, and counts what they recorded. */
async function runProbes(started: StartedTopology, specs: unknown[], seconds: number, signal: AbortSignal, listen: (history: HistoryWriter) => void) {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-bench-"));
  const history = HistoryWriter.open(join(dir, "history.jsonl"));
  listen(history);
  const clock = monotonicClock();
  const probes = specs.map((spec) => buildProbe(probeSchema.parse(spec)));
  const bound = AbortSignal.any([signal, AbortSignal.timeout((seconds + 30) * 1000)]);
  try {
    const start = clock.now();
    await Promise.all(probes.map((probe) => probe.run({ topology: started, history, clock, until: start + seconds * 1000, signal: bound })));
  } finally {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function probeRate(started: StartedTopology, workload: "select1" | "write", connections: number, options: ThroughputOptions) {
  const kind = workload === "select1" ? "select1" : "writes";
  const specs = Array.from({ length: connections }, (_, i) => ({ kind, name: `${kind}-x${connections}-${i}-${Date.now()}`, every: 0, connection: "held" }));
  let ok = 0;
  let failed = 0;
  let first = Infinity;
  let last = -Infinity;
  await runProbes(started, specs, options.seconds, options.signal, (history) =>
    history.onEvent((event) => {
      if (event.kind === "invoke") first = Math.min(first, event.t);
      if (event.kind !== "complete") return;
      last = Math.max(last, event.t);
      if (event.outcome === "ok") ok += 1;
      else failed += 1;
    }),
  );
  return { opsPerSec: ok / ((last - first) / 1000), failed };
}

async function probeJitter(started: StartedTopology, options: ThroughputOptions): Promise<JitterResult> {
  const everyMs = 10;
  const stamp = Date.now();
  const specs = [
    { kind: "select1", name: `jitter-select1-${stamp}`, every: `${everyMs}ms`, connection: "held" },
    { kind: "writes", name: `jitter-writes-${stamp}`, every: `${everyMs}ms` },
  ];
  const tracker = new JitterTracker(everyMs);
  await runProbes(started, specs, options.jitterSeconds, options.signal, (history) =>
    history.onEvent((event) => {
      if (event.kind === "invoke") tracker.invoke(event.probe, event.t);
      if (event.kind === "complete") tracker.complete(event.probe, event.t);
    }),
  );
  const jitterMs = tracker.histogram.summary();
  return { everyMs, probes: ["select1 (held)", "writes (held)"], seconds: options.jitterSeconds, jitterMs, overruns: tracker.overruns, targetP99Ms: 2, met: jitterMs.p99 === null ? null : jitterMs.p99 <= 2 };
}
