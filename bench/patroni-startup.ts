/**
 * Benchmark 3b — how long the patroni target takes to become healthy: from `start()` to a leader
 * that is primary, every replica streaming from it and HAProxy's rw on the leader alone (what the
 * target waits for before a drill may begin), with Patroni's defaults (3 nodes, 3 etcd members).
 * The peer, measured in the same run and on the same engine: the container pair's start (a
 * primary and a streaming standby), so the ratio says what Patroni's stack costs on top.
 */
import { performance } from "node:perf_hooks";
import { containerPair } from "../harness/targets/container-pair/pair.ts";
import { containerPairTarget } from "../harness/targets/container-pair/plugin.ts";
import { patroniTopology } from "../harness/targets/patroni/patroni.ts";
import { patroniTarget } from "../harness/targets/patroni/plugin.ts";
import type { Topology } from "../harness/targets/types.ts";
import { distribution, fmtDistribution, round, type Distribution } from "./stats.ts";

export interface PatroniStartupOptions {
  trials: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface PatroniStartupResult {
  /** Start → healthy (ms), per trial. */
  patroniMs: Distribution;
  /** The container pair's start → streaming (ms), in the same trials. */
  pairMs: Distribution;
  /** patroni p50 / pair p50. */
  ratio: number | null;
  targetMs: number;
  met: boolean | null;
  errors: string[];
}

async function timedStart(topology: Topology, runId: string, signal: AbortSignal): Promise<number> {
  const begin = performance.now();
  const started = await topology.start({ runId, scenario: "bench-startup", log: () => undefined, signal });
  const took = performance.now() - begin;
  await started.teardown();
  return round(took, 1);
}

export async function patroniStartupBench(options: PatroniStartupOptions): Promise<PatroniStartupResult> {
  const patroni: number[] = [];
  const pair: number[] = [];
  const errors: string[] = [];
  for (let trial = 0; trial < options.trials && !options.signal.aborted; trial += 1) {
    const id = `bench${Date.now().toString(36)}${trial}`;
    try {
      patroni.push(await timedStart(patroniTopology(patroniTarget.parse({ kind: "patroni" })), `${id}p`, options.signal));
      pair.push(await timedStart(containerPair(containerPairTarget.parse({ kind: "container-pair" })), `${id}c`, options.signal));
      options.log(`patroni start-up trial ${trial + 1}/${options.trials}: patroni ${patroni.at(-1)} ms, container pair ${pair.at(-1)} ms`);
    } catch (error) {
      errors.push(String(error));
    }
  }
  const patroniMs = distribution(patroni);
  const pairMs = distribution(pair);
  return {
    patroniMs,
    pairMs,
    ratio: patroniMs.p50 !== null && pairMs.p50 ? round(patroniMs.p50 / pairMs.p50, 2) : null,
    targetMs: 15_000,
    met: patroniMs.max === null ? null : patroniMs.max <= 15_000,
    errors,
  };
}

export function patroniStartupTable(result: PatroniStartupResult): string[] {
  return [
    `  patroni (3 nodes, 3 etcd members, HAProxy) start → healthy: ${fmtDistribution(result.patroniMs, 0)}; target ≤ ${result.targetMs} ms: ${result.met === null ? "no data" : result.met ? "met" : "MISSED"}`,
    `  container pair start → streaming (same run): ${fmtDistribution(result.pairMs, 0)}; patroni / pair (p50): ${result.ratio ?? "n/a"}`,
    ...result.errors.map((error) => `  error: ${error}`),
  ];
}
