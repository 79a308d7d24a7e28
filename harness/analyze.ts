/**
 * From History to RunResult: Checkers measure, the Gate judges (gate/verdict.ts decides the
 * verdict), the Reports draw, and nothing touches a database, so `pgdrill report <run-dir>` can
 * re-run this on a saved run.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckSession, checkOperations, type Checkers, type ChecksResult } from "./checker/index.ts";
import { InputError, errorMessage } from "./errors.ts";
import { evaluateGate, parseGate, parseGateOverride, withOverrides, type GateMap, type GateSpec } from "./gate/gate.ts";
import { decideVerdict } from "./gate/verdict.ts";
import { ContextBuilder, type HistoryContext } from "./history/context.ts";
import type { HistoryEvent } from "./history/events.ts";
import { isOperationEvent, OperationSequencer } from "./history/operations.ts";
import { splitHistory } from "./history/read-model.ts";
import { HistoryFile } from "./history/reader.ts";
import { emptyReportContext, RENDERERS, reportModel } from "./report/index.ts";
import { TimelineFold } from "./report/timeline.ts";
import type { ReportFormat } from "./report/types.ts";
import type { RunResult } from "./result.ts";
import { gate as gateSchema, issueFix } from "./scenario/schema.ts";
import { secretMasker } from "./secrets.ts";
import { TARGET_OBSERVATIONS } from "./targets/registry.ts";

export interface AnalyzeOptions {
  /** The scenario's gate map, or gates already parsed (with overrides applied). */
  gate: GateMap | readonly GateSpec[];
  /** The history's last line was cut short (see HistoryFile). */
  truncated?: boolean;
  /** For tests: replace the checkers. */
  checkers?: Checkers;
}

/** Analyses a History held in memory (tests, and what an interrupted analysis had read). */
export function analyzeHistory(events: readonly HistoryEvent[], options: AnalyzeOptions): RunResult {
  const { context, operations } = splitHistory(events);
  return judge(context, checkOperations(context, operations, options.checkers), options);
}

/** The verdict and the gates, from the checkers' results and the run's own events. */
function judge(context: HistoryContext, checked: ChecksResult, options: AnalyzeOptions): RunResult {
  const specs = Array.isArray(options.gate) ? (options.gate as readonly GateSpec[]) : parseGate(options.gate as GateMap);
  const { metrics, checks, crashed } = checked;
  const gates = evaluateGate([...specs, ...impliedGates(specs, metrics)], metrics);

  const events = context.events;
  const runStart = context.runStart;
  const runEnd = events.findLast((event) => event.kind === "run-end");
  const steadyStateFailure = events.find((event) => event.kind === "steady-state" && !event.ok);
  const { verdict, reason } = decideVerdict({
    started: runStart !== null,
    runEnd: runEnd ?? null,
    steadyStateFailure: steadyStateFailure?.kind === "steady-state" ? steadyStateFailure : null,
    crashed,
    gates,
    truncated: options.truncated ?? false,
  });

  return {
    scenario: runStart?.scenario ?? "unknown",
    runId: runStart?.runId ?? "unknown",
    target: runStart?.target ?? "unknown",
    startedAt: runStart?.wallClock ?? "unknown",
    // What the run actually took, run-end included (the plan is in scenario.json).
    durationMs: runEnd?.t ?? context.lastT,
    verdict,
    reason,
    complete: runEnd !== undefined,
    checks,
    metrics,
    gates,
  };
}

/**
 * The gates a scenario states without a gate map: its monitoring's `expect` and `mustNotFire` are the
 * user's word on what must happen, so breaking one deviates the run as a gate would; a point-in-time
 * restore exists to leave out what came after its target, so a write after it that came back does
 * too. A gate the scenario writes on the same metric replaces each.
 */
function impliedGates(specs: readonly GateSpec[], metrics: ChecksResult["metrics"]): GateSpec[] {
  const named = (metric: string) => specs.some((spec) => spec.metric === metric);
  const alerts = "alerts.failedExpectations";
  const restore = "restore.presentAfterTarget";
  const { startedAtMs, target } = metrics.restore;
  const pointInTime = startedAtMs !== null && target !== null && target.type !== "latest" && metrics.writes.attempted > 0;
  return [
    ...(metrics.alerts.expectations === 0 || named(alerts) ? [] : parseGate({ [alerts]: "== 0" }, "monitoring")),
    ...(!pointInTime || named(restore) ? [] : parseGate({ [restore]: "== 0" }, "restore")),
  ];
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
 * the reports (`result.json`, `report.md`, …) into the run directory.
 *
 * The History is read twice and never held whole. The first pass keeps the context (everything
 * but the probe operations, which it skips without parsing); the second streams the operations,
 * in invoke order, through every checker and the timeline at once, each keeping only what it
 * measures. So memory stays flat however long the drill was.
 */
export async function analyzeRunDir(runDir: string, options: AnalyzeRunDirOptions = {}): Promise<RunResult> {
  const overrides = (options.gateOverrides ?? []).map(parseGateOverride);
  const scenario = await readScenarioJson(runDir);
  const gate = withOverrides(parseGate(scenarioGate(runDir, scenario), "scenario.json gate"), overrides);
  const signal = options.signal;
  const formats = options.formats ?? (Object.keys(RENDERERS) as ReportFormat[]);
  const file = new HistoryFile(join(runDir, "history.jsonl"), TARGET_OBSERVATIONS);
  const contextBuilder = new ContextBuilder();
  try {
    await file.scan((line) => {
      const t = line.operationTime();
      if (t === null) contextBuilder.add(line.parse());
      else contextBuilder.noteTime(t);
    }, signal);
    const context = contextBuilder.finish();

    const session = new CheckSession(context);
    const timeline = new TimelineFold(context.lastT);
    const sequencer = new OperationSequencer((operation) => {
      session.operation(operation);
      timeline.operation(operation);
    });
    await file.scan((line) => {
      // Lines the first pass parsed are few (no operations among them as pgdrill writes); an
      // operation written some other way is found by parsing.
      const event = line.parse();
      if (isOperationEvent(event)) sequencer.add(event);
    }, signal);
    sequencer.finish();
    await checkpoint(signal);

    const result = judge(context, session.finish(), { gate, truncated: file.truncated });
    // One model for every report; report.html lists the settings the run was drilled with.
    const model = reportModel(result, { history: context, points: timeline.points(), scenario });
    // Every report masked of the secrets known now, whatever carried one into the result.
    const mask = secretMasker();
    for (const format of formats) {
      await checkpoint(signal);
      const renderer = RENDERERS[format];
      await writeFile(join(runDir, renderer.file), mask(await renderer.render(model)));
    }
    return result;
  } catch (error) {
    if (!signal?.aborted) throw error;
    const result = interruptedResult(contextBuilder.finish(), runDir);
    // Nothing of the History to draw.
    const model = reportModel(result, emptyReportContext());
    const mask = secretMasker();
    for (const format of formats.filter((name) => name !== "html")) {
      const renderer = RENDERERS[format];
      await writeFile(join(runDir, renderer.file), mask(await renderer.render(model)));
    }
    return result;
  }
}

/** Lets a pending signal handler run, then stops if it aborted. */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

/**
 * What an interrupted analysis can still say, quickly: which run this was (from whatever of the
 * context was read), and that its numbers were not computed: every metric is empty.
 */
function interruptedResult(context: HistoryContext, runDir: string): RunResult {
  const bounds = context.events.filter((event) => event.kind === "run-start" || event.kind === "run-end");
  const result = analyzeHistory(bounds, { gate: [] });
  return {
    ...result,
    verdict: "errored",
    reason:
      `the analysis was interrupted before it finished, so no numbers were computed; the history is intact: run \`pgdrill ` +
      `report ${runDir}\` to analyse it`,
  };
}

/** `<runDir>/scenario.json`, parsed: the gate is checked by scenarioGate, the rest is shown as written. */
async function readScenarioJson(runDir: string): Promise<unknown> {
  const path = join(runDir, "scenario.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new InputError(
      path,
      "does not exist or cannot be read",
      "Pass a run directory written by `pgdrill run` (it holds scenario.json and history.jsonl)",
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(path, `is not valid JSON (${errorMessage(error)})`, "Restore the file from the run, or re-run the drill");
  }
}

/** The scenario's gate, checked against the schema: a bad one is refused with the schema's fix. */
function scenarioGate(runDir: string, scenario: unknown): GateMap {
  const path = join(runDir, "scenario.json");
  const raw = typeof scenario === "object" && scenario !== null ? (scenario as { gate?: unknown }).gate : undefined;
  const parsed = gateSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The schema's own fix ("Did you mean ...?") where it has one.
    const fix = issueFix(issue);
    throw new InputError(
      `${path}: gate${issue?.path.length ? `.${issue.path.join(".")}` : ""}`,
      issue?.message ?? "is invalid",
      fix !== undefined ? `${fix} Or pass --gate to override it` : "Fix the gate in the scenario and re-run, or pass --gate to override it",
    );
  }
  return parsed.data;
}
