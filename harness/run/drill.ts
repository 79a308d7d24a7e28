/**
 * One drill, start to finish, in the order STYLE.md gives: the Target starts → the steady state is
 * checked → probes and the Schedule run, both appending to the History → faults are healed, the
 * final state is read, the Target is torn down → the History is closed → Checkers, Gate, Reports.
 * Whatever happens in the middle, the `finally` heals, reads, tears down and closes the History, so
 * a drill that fails half-way still writes what it recorded and removes what it started.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { analyzeRunDir } from "../analyze.ts";
import { monotonicClock, roundMs, type Clock } from "../clock.ts";
import { toMs } from "../duration.ts";
import { InputError, errorMessage } from "../errors.ts";
import type { HistoryEvent, Phase, RunStartEvent } from "../history/events.ts";
import { HistoryWriter } from "../history/writer.ts";
import type { OperatorOptions } from "../operator/desk.ts";
import { startMonitoring, type DrillMonitoring } from "../monitoring/index.ts";
import type { AlertingObservation } from "../monitoring/watch.ts";
import { buildProbe, probeRecord, type Probe } from "../probe/index.ts";
import { localProbeRunner } from "../probe/local.ts";
import type { RunResult } from "../result.ts";
import type { Scenario } from "../scenario/schema.ts";
import { ScheduleRunner } from "../schedule/execute.ts";
import { checkManualSteps } from "../schedule/manual.ts";
import { firstDisruption } from "../scenario/monitoring-checks.ts";
import { planSchedule } from "../schedule/plan.ts";
import { buildTopology, removeRun, type SharedResources, type StartedTopology, type Topology } from "../targets/index.ts";
import type { Observation, ProbeRunner } from "../targets/types.ts";
import { VERSION } from "../version.ts";
import { breachReason, checkAbortIf } from "./abort.ts";
import { attendDrill } from "./attend.ts";
import { SteadyStateWindow } from "./steady-state.ts";
import { DrillStops } from "./stops.ts";
import { redactJson } from "../secrets.ts";

export interface DrillOptions {
  /** Where the scenario came from (file path), for the log. */
  source: string;
  /** Run directory; default reports/<scenario>/<run-id>/ under the current directory. */
  outDir?: string;
  image?: string;
  /** Extra gates from the command line, e.g. "failover.latencyMs<20000". */
  gateOverrides?: string[];
  /** Aborting ends the drill early; it still heals, tears down and writes its evidence. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Overall deadline in ms; default: twice the start-up timeout + the scenario's duration + 2 min. */
  deadlineMs?: number;
  /** Sees every History event as it is appended (live views). */
  onEvent?: (event: HistoryEvent) => void;
  /** The target, already built, instead of the one the scenario's `target` describes: a fake one in tests, or an embedder's own. */
  topology?: Topology;
  /** The drill's clock; default the monotonic one. Tests drive a virtual one, so a schedule of minutes runs in milliseconds. */
  clock?: Clock;
  /**
   * Ends the drill early as its duration would (`pgdrill watch`'s Ctrl-C): probes stop, steps not
   * yet due are skipped, and the run completes (not aborted). Before the probes have started there
   * is nothing to complete: what was started is removed, the History ends aborted ("cancelled"),
   * nothing is analysed, and runDrill throws CancelledBeforeMeasuring.
   */
  finish?: AbortSignal;
  /** Marks and manual steps' confirmations (operator/desk.ts); without `confirm`, a scenario with manual steps is refused. */
  operator?: OperatorOptions;
  /** What the drills of a series share (--share-cluster): the caller makes it and releases it after the last drill. */
  shared?: SharedResources;
}

export interface DrillOutcome {
  runDir: string;
  result: RunResult;
  /** What teardown removed, for the log. */
  removed: string[];
}

/**
 * What runDrill throws when its `finish` came before the probes started: nothing was measured, so
 * there is no result. Everything the drill started has been removed (`removed` says what) and the
 * History is closed; the run directory is the caller's to keep or remove.
 */
export class CancelledBeforeMeasuring extends Error {
  override readonly name = "CancelledBeforeMeasuring";
  readonly runDir: string;
  readonly removed: string[];
  /** What finished it, from the finish signal's reason (e.g. "SIGINT"); "" when it gave none. */
  readonly by: string;
  constructor(runDir: string, removed: string[], by: string) {
    super(`cancelled before anything was measured${by ? ` (${by})` : ""}`);
    this.runDir = runDir;
    this.removed = removed;
    this.by = by;
  }
}

/** Probe workers get this long past their window to finish their last operation. */
const PROBE_DRAIN_MS = 15_000;
/** Slack on top of start-up and the scenario's own length before the overall deadline ends a run. */
const DEADLINE_SLACK_MS = 120_000;

export async function runDrill(scenario: Scenario, options: DrillOptions): Promise<DrillOutcome> {
  const log = options.log ?? (() => undefined);
  // Building the topology and the probes reads what the scenario leaves to the environment (an
  // endpoint's DATABASE_URL, DATABASE_POOL_*): a missing or bad one is refused before anything is made.
  const topology = options.topology ?? buildTopology(scenario.target, scenario.probes);
  const probes: Probe[] = scenario.probes.map(buildProbe);
  const runId = makeRunId();
  const runDir = makeRunDir(scenario, options, runId);
  const history = HistoryWriter.open(join(runDir, "history.jsonl"));
  if (options.onEvent) history.onEvent(options.onEvent);
  const clock = options.clock ?? monotonicClock();
  const durationMs = toMs(scenario.duration);
  const steadyMs = toMs(scenario.steadyState.window);
  const runStart = runStartEvent(scenario, topology, runId, durationMs, steadyMs);
  history.append(runStart);
  log(`run ${runId}: ${scenario.name} from ${options.source} → ${runDir}`);

  const stops = new DrillStops({
    signal: options.signal,
    finish: options.finish,
    // Whatever hangs, the run ends: start-up (both nodes), the drill itself, then generous slack.
    deadlineMs: options.deadlineMs ?? 2 * toMs(scenario.target.startupTimeout) + durationMs + DEADLINE_SLACK_MS,
    log,
    cancellation: (by) => new CancelledBeforeMeasuring(runDir, [], by),
  });
  const { drill, probing, scheduling } = stops;
  const now = () => roundMs(clock.now());
  const phase = (name: Phase) => history.append({ kind: "phase", t: now(), phase: name });
  const interrupted = (where: string) => new Error(`interrupted ${where}`);
  let started: StartedTopology | null = null;
  let monitoring: DrillMonitoring | null = null;
  let probeRunner: ProbeRunner | null = null;
  let probeRun: Promise<void> | null = null;
  let schedule: ScheduleRunner | null = null;
  let status: "completed" | "aborted" | "errored" = "completed";
  let failure: string | undefined;
  let removed: string[] = [];
  const healAll = () => schedule?.healAll();
  const attendance = attendDrill({ scenario, runDir, runStart, history, clock, log, operator: options.operator, drill, healAll });

  try {
    phase("starting");
    const record = (observation: Observation) => history.append({ ...observation, t: now() } as HistoryEvent);
    const shared = options.shared ? { shared: options.shared } : {};
    const image = options.image;
    started = await topology.start({
      runId,
      scenario: scenario.name,
      image,
      log,
      signal: drill.signal,
      record,
      now,
      durationMs,
      ...shared,
    });
    if (scenario.monitoring) {
      // Before the probes: the rules that cannot fire are said, and recorded, before any fault.
      const alerting = (observation: AlertingObservation) => history.append({ ...observation, t: now() });
      const firstDisruptionAtMs = firstDisruption(scenario.schedule);
      const context = {
        runId,
        scenario: scenario.name,
        started,
        image,
        log,
        signal: drill.signal,
        record: alerting,
        durationMs,
        firstDisruptionAtMs,
      };
      monitoring = await startMonitoring(scenario.monitoring, context);
    }
    // A target that runs the probes elsewhere (cnpg: in the cluster) brings their History back itself.
    probeRunner = started.probeRunner ?? localProbeRunner(probes, started, log);
    await probeRunner.prepare({ history, clock, signal: probing.signal });
    if (drill.signal.aborted) throw interrupted("while starting");

    stops.probingStarted = true;
    const probeStart = clock.now();
    const steadyWindow = new SteadyStateWindow(runStart, probeStart + steadyMs);
    history.onEvent(steadyWindow.add);
    phase("steady-state");
    probeRun = probeRunner.run(probeStart + durationMs);
    monitoring?.start();
    // A probe that failed in the window (a driver agent that refused its settings or died) is why it has no operations: say so.
    const probeFailures: unknown[] = [];
    probeRun.catch((error: unknown) => probeFailures.push(error));
    await clock.sleepUntil(probeStart + steadyMs, scheduling.signal);
    if (drill.signal.aborted) throw interrupted("during the steady state");
    if (probeFailures.length > 0) throw probeFailures[0];
    const steady = steadyWindow.judge(scenario.steadyState.minAvailability);
    history.append({ kind: "steady-state", t: now(), ...steady });
    log(steady.message);
    if (!steady.ok) throw new Error(`steady state not met before any fault: ${steady.message}`);

    phase("drill");
    schedule = new ScheduleRunner({ runId, topology: started, history, clock, signal: scheduling.signal, log, operator: attendance.desk });
    const plan = planSchedule(scenario.schedule).map((step) => ({ ...step, at: probeStart + step.at }));
    await Promise.all([probeRun, schedule.run(plan)]);
    if (drill.signal.aborted) throw interrupted("during the drill");
    if (schedule.errors.length > 0) throw new Error(`the schedule did not run as planned: ${schedule.errors.join("; ")}`);
  } catch (error) {
    ({ status, failure } = stops.failed(error));
  } finally {
    stops.clearDeadline();
    probing.abort();
    await settleWithin(probeRun ? [probeRun] : [], PROBE_DRAIN_MS);
    if (started && probeRunner) {
      phase("healing");
      await attendance.breachHeal;
      await schedule?.healAll().catch((error: unknown) => log(`heal failed: ${errorMessage(error)}`));
      phase("final-read");
      await probeRunner.finalRead().catch((error: unknown) => log(`final read failed: ${errorMessage(error)}`));
      await probeRunner.close();
    }
    // Its last polls see the heal and the alerts resolving; then nothing more is recorded.
    await monitoring?.stop();
    phase("teardown");
    const monitoringRemoved = (await monitoring?.teardown()) ?? [];
    removed = await teardown(started, runId, scenario.target.kind).catch((error: unknown) => {
      log(`teardown failed: ${errorMessage(error)}`);
      return [];
    });
    removed = [...monitoringRemoved, ...removed];
    if (removed.length > 0 && stops.cancelledBy === null) log(`removed ${removed.join(", ")}`);
    attendance.stop();
    stops.detach();
    const breach = attendance.breach;
    if (breach && !stops.pastDeadline) {
      status = "aborted";
      failure = breachReason(breach);
    }
    history.append({ kind: "run-end", t: now(), status, ...(failure ? { error: failure } : {}) });
    history.close();
  }

  if (stops.cancelledBy !== null && !stops.pastDeadline) throw new CancelledBeforeMeasuring(runDir, removed, stops.cancelledBy);
  // An interrupt that stopped the drill must not also skip the analysis of what it recorded; one
  // that arrives after the drill ended (while analysing) stops the analysis.
  const analysisSignal = status === "aborted" ? undefined : options.signal;
  log("analysing the history");
  const result = await analyzeRunDir(runDir, {
    gateOverrides: options.gateOverrides ?? [],
    ...(analysisSignal ? { signal: analysisSignal } : {}),
  });
  return { runDir, result, removed };
}

/** The run directory, made, with the scenario in it; refused when it already holds a run. */
function makeRunDir(scenario: Scenario, options: DrillOptions, runId: string): string {
  const runDir = resolve(options.outDir ?? join("reports", scenario.name, runId));
  checkAbortIf(scenario.abortIf, scenario.probes.map(probeRecord));
  checkManualSteps(scenario.schedule, options.operator?.confirm, options.operator?.input !== undefined);
  // A history is only ever appended to: a second run into the same directory would mix two drills.
  if (existsSync(join(runDir, "history.jsonl"))) {
    throw new InputError(
      options.outDir ? "--out" : runDir,
      `${runDir} already holds a run (history.jsonl)`,
      "Give a new directory, or remove that one; `pgdrill report` re-analyses the run that is there.",
    );
  }
  mkdirSync(runDir, { recursive: true });
  // CI keeps run directories as artifacts, and `pgdrill trend` carries them: no password in them.
  writeFileSync(join(runDir, "scenario.json"), JSON.stringify(redactJson(scenario), null, 2) + "\n");
  return runDir;
}

function runStartEvent(scenario: Scenario, topology: Topology, runId: string, durationMs: number, steadyStateMs: number): RunStartEvent {
  return {
    kind: "run-start",
    t: 0,
    wallClock: new Date().toISOString(),
    runId,
    scenario: scenario.name,
    target: topology.kind,
    nodes: [...topology.nodes],
    primary: topology.initialPrimary,
    durationMs,
    steadyStateMs,
    version: VERSION,
    probes: scenario.probes.map(probeRecord),
  };
}

async function teardown(started: StartedTopology | null, runId: string, kind: Scenario["target"]["kind"]): Promise<string[]> {
  if (started) return started.teardown();
  // The target failed to start: it cleans up after itself, but make sure, as its registry entry says how.
  return removeRun(kind, runId);
}

async function settleWithin(tasks: Array<Promise<void>>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(tasks),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function makeRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}
