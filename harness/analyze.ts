/**
 * From History to RunResult: Checkers measure, the Gate judges, and nothing touches a database,
 * so `pgdrill report <run-dir>` can re-run this on a saved run.
 *
 * The verdict, worst first:
 * - errored: the history has no run-start or no run-end (the harness was killed: `complete` is
 *   false), the run ended "errored" or "aborted", the steady state was not met, or a checker
 *   crashed. The drill's numbers cannot be trusted as a result.
 * - deviated: a gate failed. A checker that is `unknown` only for lack of data (no final read, no
 *   role probe) is not a broken harness: its metrics are null, and any gate on them fails.
 * - pass: otherwise, including with an empty gate.
 * A check that is invalid (lost writes, split brain) deviates the run only through a gate on its
 * metric: the gate is the user's statement of what matters, and the report shows every check.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CHECKERS, runChecks, type Checkers } from "./checker/index.ts";
import { ViewBuilder, attachView } from "./checker/operations.ts";
import { InputError, errorMessage } from "./errors.ts";
import { evaluateGate, parseGate, parseGateOverride, withOverrides, type GateMap, type GateSpec } from "./gate/gate.ts";
import type { HistoryEvent } from "./history/events.ts";
import { HistoryReader } from "./history/reader.ts";
import { formatActual } from "./report/format.ts";
import { RENDERERS, type ReportFormat } from "./report/index.ts";
import type { GateResult, RunResult, Verdict } from "./result.ts";
import { gate as gateSchema } from "./scenario/schema.ts";

export interface AnalyzeOptions {
  /** The scenario's gate map, or gates already parsed (with overrides applied). */
  gate: GateMap | readonly GateSpec[];
  /** The history's last line was cut short (see HistoryReader). */
  truncated?: boolean;
  /** For tests: replace the checkers. */
  checkers?: Checkers;
}

export function analyzeHistory(events: readonly HistoryEvent[], options: AnalyzeOptions): RunResult {
  const specs = Array.isArray(options.gate) ? (options.gate as readonly GateSpec[]) : parseGate(options.gate as GateMap);
  const { metrics, checks, crashed } = runChecks(events, options.checkers ?? CHECKERS);
  const gates = evaluateGate(specs, metrics);

  const runStart = events.find((event) => event.kind === "run-start");
  const runEnd = events.findLast((event) => event.kind === "run-end");
  const steadyFailure = events.find((event) => event.kind === "steady-state" && !event.ok);
  const lastT = events.reduce((latest, event) => Math.max(latest, event.t), 0);
  const truncatedNote = options.truncated ? " (its last line was cut short)" : "";

  let errored: string | null = null;
  if (!runStart) errored = `the history has no run-start event${truncatedNote}: it is not a pgdrill history or it was cut off`;
  else if (!runEnd) errored = `the history has no run-end${truncatedNote}: the harness was killed or crashed mid-run; numbers cover what was recorded`;
  else if (runEnd.status !== "completed") errored = `the run ${runEnd.status}${runEnd.error ? `: ${runEnd.error}` : ""}`;
  else if (steadyFailure?.kind === "steady-state") errored = `steady state not met before any fault: ${steadyFailure.message}`;
  else if (crashed.length > 0) errored = crashed.map((crash) => `${crash.check} ${crash.reason}`).join("; ");

  const failed = gates.filter((gate) => !gate.pass);
  const verdict: Verdict = errored ? "errored" : failed.length > 0 ? "deviated" : "pass";
  const reason = errored ?? (failed.length > 0 ? describeFailedGates(failed) : null);

  return {
    scenario: runStart?.scenario ?? "unknown",
    runId: runStart?.runId ?? "unknown",
    target: runStart?.target ?? "unknown",
    startedAt: runStart?.wallClock ?? "unknown",
    // What the run actually took, run-end included (the plan is in scenario.json).
    durationMs: runEnd?.t ?? lastT,
    verdict,
    reason,
    complete: runEnd !== undefined,
    checks,
    metrics,
    gates,
  };
}

function describeFailedGates(failed: readonly GateResult[]): string {
  const parts = failed.map((gate) => `${gate.metric} ${gate.expected} (actual ${formatActual(gate.actual)})`);
  return `${failed.length} gate${failed.length === 1 ? "" : "s"} failed: ${parts.join("; ")}`;
}

export interface AnalyzeRunDirOptions {
  /** `--gate` values, e.g. "failover.latencyMs<20000": replace the scenario's gate on that metric. */
  gateOverrides?: readonly string[];
  /** Which reports to write next to the history; default all of RENDERERS. */
  formats?: readonly ReportFormat[];
  /**
   * Ctrl-C while analysing: stop at the next checkpoint and write an `errored` result saying the
   * analysis was interrupted (the History itself is complete and untouched; `pgdrill report` redoes it).
   */
  signal?: AbortSignal;
}

/**
 * Reads `<runDir>/history.jsonl` and the gate from `<runDir>/scenario.json`, analyses, and writes
 * the reports (`result.json`, `report.md`) into the run directory.
 */
export async function analyzeRunDir(runDir: string, options: AnalyzeRunDirOptions = {}): Promise<RunResult> {
  const overrides = (options.gateOverrides ?? []).map(parseGateOverride);
  const gate = withOverrides(parseGate(await readScenarioGate(runDir), "scenario.json gate"), overrides);
  const signal = options.signal;
  const formats = options.formats ?? (Object.keys(RENDERERS) as ReportFormat[]);
  const events: HistoryEvent[] = [];
  try {
    // Streamed through a ViewBuilder: the client operations' invoke and complete events (nearly
    // all of a long History) live on only as the view's operations, not as events too. Read
    // here, event by event, so an interrupt still knows which run this was.
    const reader = new HistoryReader(join(runDir, "history.jsonl"));
    const view = new ViewBuilder();
    let count = 0;
    for await (const event of reader) {
      view.add(event);
      if (!isClientOperationEvent(event)) events.push(event);
      if (++count % CHECK_SIGNAL_EVERY === 0) signal?.throwIfAborted();
    }
    attachView(events, view.finish());
    await checkpoint(signal);
    const result = analyzeHistory(events, { gate, truncated: reader.truncated });
    for (const format of formats) {
      await checkpoint(signal);
      const renderer = RENDERERS[format];
      await writeFile(join(runDir, renderer.file), await renderer.render(result, { events }));
    }
    return result;
  } catch (error) {
    if (!signal?.aborted) throw error;
    const result = interruptedResult(events, runDir);
    for (const format of formats.filter((name) => name !== "html")) {
      const renderer = RENDERERS[format];
      await writeFile(join(runDir, renderer.file), await renderer.render(result, { events: [] }));
    }
    return result;
  }
}

/** select1 and write operations: every checker and report reads them from the view, never as events. */
function isClientOperationEvent(event: HistoryEvent): boolean {
  return (event.kind === "invoke" || event.kind === "complete") && event.type !== "role";
}

/** How many events are read between looks at the interrupt signal. */
const CHECK_SIGNAL_EVERY = 10_000;

/** Lets a pending signal handler run, then stops if it aborted. */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

/**
 * What an interrupted analysis can still say, quickly: which run this was, and that its numbers
 * were not computed. Checkers run over the run's start and end only, so every metric is empty.
 */
function interruptedResult(events: readonly HistoryEvent[], runDir: string): RunResult {
  const bounds = events.filter((event) => event.kind === "run-start" || event.kind === "run-end");
  const result = analyzeHistory(bounds, { gate: [] });
  return {
    ...result,
    verdict: "errored",
    reason: `the analysis was interrupted before it finished, so no numbers were computed; the history is intact: run \`pgdrill report ${runDir}\` to analyse it`,
  };
}

async function readScenarioGate(runDir: string): Promise<GateMap> {
  const path = join(runDir, "scenario.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new InputError(path, "does not exist or cannot be read", "Pass a run directory written by `pgdrill run` (it holds scenario.json and history.jsonl)");
  }
  let scenario: unknown;
  try {
    scenario = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `is not valid JSON (${errorMessage(error)})`, "Restore the file from the run, or re-run the drill");
  }
  const raw = typeof scenario === "object" && scenario !== null ? (scenario as { gate?: unknown }).gate : undefined;
  const parsed = gateSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${path}: gate${issue?.path.length ? `.${issue.path.join(".")}` : ""}`, issue?.message ?? "is invalid", "Fix the gate in the scenario and re-run, or pass --gate to override it");
  }
  return parsed.data;
}
