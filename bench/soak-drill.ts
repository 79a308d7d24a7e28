/**
 * The soak's drill, in a process of its own so its RSS is the harness's alone: 7 select1 probes
 * and the writes probe (a drill has one: lost-write checking reads one table), each every 10 ms on
 * a held connection (8 probes × 100/s), no fault, for the given
 * length. Prints one JSON line: RSS samples while probing, the probes' jitter, and the cost of
 * analysing the history it wrote.
 *
 *   node bench/soak-drill.ts <run-dir> <seconds>
 */
import { performance } from "node:perf_hooks";
import { runDrill } from "../harness/run/drill.ts";
import { validateScenario } from "../harness/scenario/validate.ts";
import { JitterTracker, round } from "./stats.ts";

const [runDir, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!runDir || !Number.isFinite(seconds) || seconds <= 0) {
  console.error("usage: node bench/soak-drill.ts <run-dir> <seconds>");
  process.exit(2);
}

const EVERY_MS = 10;
const SAMPLE_EVERY_MS = 5000;
const probes = [
  ...Array.from({ length: 7 }, (_, i) => ({ kind: "select1", name: `select1-${i}`, every: `${EVERY_MS}ms`, connection: "held" })),
  { kind: "writes", every: `${EVERY_MS}ms` },
];
const scenario = validateScenario(
  { name: "bench-soak", target: { kind: "container-pair" }, probes, steadyState: { window: "2s" }, duration: `${seconds}s` },
  "bench/soak-drill.ts",
);

const jitter = new JitterTracker(EVERY_MS);
const samples: Array<{ s: number; rssMiB: number; heapMiB: number }> = [];
let probingSince: number | null = null;
let probing = false;
let operations = 0;
let probingEndedAt: number | null = null;
let historyClosedAt: number | null = null;
const sample = () => {
  if (!probing || probingSince === null) return;
  // Retained memory, not garbage V8 has not collected yet (the parent passes --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  samples.push({ s: round((performance.now() - probingSince) / 1000, 1), rssMiB: round(memory.rss / 2 ** 20, 1), heapMiB: round(memory.heapUsed / 2 ** 20, 1) });
};
const sampler = setInterval(sample, SAMPLE_EVERY_MS);

const { result } = await runDrill(scenario, {
  source: "bench/soak-drill.ts",
  outDir: runDir,
  log: (line) => console.error(line),
  onEvent: (event) => {
    if (event.kind === "phase" && event.phase === "steady-state") {
      probingSince = performance.now();
      probing = true;
      sample();
    }
    if (event.kind === "phase" && event.phase === "healing") {
      sample();
      probing = false;
      probingEndedAt = performance.now();
    }
    if (event.kind === "run-end") historyClosedAt = performance.now();
    if (event.kind === "invoke") jitter.invoke(event.probe, event.t);
    if (event.kind === "complete") {
      jitter.complete(event.probe, event.t);
      operations += 1;
    }
  },
});
clearInterval(sampler);
const analysisMs = historyClosedAt === null ? null : round(performance.now() - historyClosedAt, 0);
console.log(
  JSON.stringify({
    verdict: result.verdict,
    reason: result.reason,
    operations,
    probingSeconds: probingEndedAt !== null && probingSince !== null ? round((probingEndedAt - probingSince) / 1000, 1) : null,
    samples,
    jitterMs: jitter.histogram.summary(),
    overruns: jitter.overruns,
    analysisMs,
    maxRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
  }),
);
