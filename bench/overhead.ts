/**
 * Benchmark 3 — what a drill costs beyond its own windows. The shipped pair-kill-primary runs as
 * is; its phases come from the History's phase events and the log, stamped with this process's
 * monotonic clock as they happen:
 *   image check  run start → the image is chosen (reaper decision, orphan sweep, image lookup)
 *   start        → containers up, streaming, probes prepared (phase steady-state)
 *   steady state → phase drill              (the scenario's own window)
 *   fault window → phase healing            (the scenario's own window)
 *   heal + final read → phase teardown
 *   teardown     → run-end
 *   analysis     → runDrill returns (checkers, gate, report.md/json/html, junit)
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { toMs } from "../harness/duration.ts";
import { runDrill } from "../harness/run/drill.ts";
import { loadScenario } from "../harness/scenario/load.ts";
import { distribution, fmtDistribution, round, type Distribution } from "./stats.ts";

export interface OverheadOptions {
  trials: number;
  outDir: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

const SEGMENTS = ["imageCheck", "start", "steadyState", "faultWindow", "healAndFinalRead", "teardown", "analysis"] as const;
type Segment = (typeof SEGMENTS)[number];

export interface OverheadTrial {
  ok: boolean;
  verdict?: string;
  error?: string;
  totalMs?: number;
  scenarioMs?: number;
  overheadMs?: number;
  segmentsMs?: Partial<Record<Segment, number>>;
}

export interface OverheadResult {
  scenario: string;
  scenarioDurationMs: number;
  trials: OverheadTrial[];
  segmentsMs: Record<Segment, Distribution>;
  totalMs: Distribution;
  overheadMs: Distribution;
  targetMs: number;
  met: boolean | null;
}

export async function overheadBench(options: OverheadOptions): Promise<OverheadResult> {
  const { scenario, source } = await loadScenario("pair-kill-primary");
  const trials: OverheadTrial[] = [];
  for (let trial = 0; trial < options.trials && !options.signal.aborted; trial += 1) {
    const marks = new Map<string, number>();
    const mark = (name: string) => {
      if (!marks.has(name)) marks.set(name, performance.now());
    };
    const begin = performance.now();
    try {
      const { result } = await runDrill(scenario, {
        source,
        outDir: join(options.outDir, `trial-${trial}`),
        signal: options.signal,
        log: (line) => {
          if (line.startsWith("image ")) mark("image");
        },
        onEvent: (event) => {
          if (event.kind === "phase") mark(event.phase);
          if (event.kind === "run-end") mark("run-end");
        },
      });
      const end = performance.now();
      const at = (name: string) => marks.get(name) ?? null;
      const span = (from: number | null, to: number | null) => (from === null || to === null ? undefined : round(to - from, 1));
      const segmentsMs: Partial<Record<Segment, number>> = {
        imageCheck: span(begin, at("image")),
        start: span(at("image"), at("steady-state")),
        steadyState: span(at("steady-state"), at("drill")),
        faultWindow: span(at("drill"), at("healing")),
        healAndFinalRead: span(at("healing"), at("teardown")),
        teardown: span(at("teardown"), at("run-end")),
        analysis: span(at("run-end"), end),
      };
      const totalMs = round(end - begin, 1);
      const scenarioMs = toMs(scenario.duration);
      trials.push({ ok: true, verdict: result.verdict, totalMs, scenarioMs, overheadMs: round(totalMs - scenarioMs, 1), segmentsMs });
      options.log(`overhead trial ${trial + 1}/${options.trials}: total ${totalMs} ms, beyond the scenario's ${scenarioMs} ms: ${round(totalMs - scenarioMs, 1)} ms`);
    } catch (error) {
      trials.push({ ok: false, error: String(error) });
    }
  }
  const good = trials.filter((trial) => trial.ok);
  const overheadMs = distribution(good.map((trial) => trial.overheadMs!));
  const segmentsMs = Object.fromEntries(
    SEGMENTS.map((segment) => [segment, distribution(good.flatMap((trial) => (trial.segmentsMs?.[segment] === undefined ? [] : [trial.segmentsMs[segment]!])))]),
  ) as Record<Segment, Distribution>;
  return {
    scenario: scenario.name,
    scenarioDurationMs: toMs(scenario.duration),
    trials,
    segmentsMs,
    totalMs: distribution(good.map((trial) => trial.totalMs!)),
    overheadMs,
    targetMs: 5000,
    met: overheadMs.max === null ? null : overheadMs.max <= 5000,
  };
}

export function overheadTable(result: OverheadResult): string[] {
  return [
    ...SEGMENTS.map((segment) => `  ${segment.padEnd(17)} p50 ${result.segmentsMs[segment].p50 ?? "n/a"} ms (max ${result.segmentsMs[segment].max ?? "n/a"})`),
    `  total ${fmtDistribution(result.totalMs, 0)}; beyond the scenario's ${result.scenarioDurationMs} ms: ${fmtDistribution(result.overheadMs, 0)}; target ≤ ${result.targetMs} ms: ${result.met === null ? "no data" : result.met ? "met" : "MISSED"}`,
  ];
}
