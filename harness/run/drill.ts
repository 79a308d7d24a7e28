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
import { toMs } from "../duration.ts";
import { InputError, errorMessage } from "../errors.ts";
import type { HistoryEvent, RunStartEvent } from "../history/events.ts";
import { HistoryWriter } from "../history/writer.ts";
import { buildProbe, probeRecord, type Probe } from "../probe/index.ts";
import type { RunResult } from "../result.ts";
import type { Scenario } from "../scenario/schema.ts";
import { ScheduleRunner } from "../schedule/execute.ts";
import { planSchedule } from "../schedule/plan.ts";
import { buildTopology, removeRun, type SharedResources, type StartedTopology, type Topology } from "../targets/index.ts";
import { VERSION } from "../version.ts";
import { monotonicClock, roundMs, type Clock } from "../clock.ts";
import { SteadyStateWindow } from "./steady-state.ts";
import { breachReason, checkAbortIf, KillSwitch, stopBreach, watchForStop } from "./abort.ts";
import { checkManualSteps, manualSteps } from "../schedule/manual.ts";
import { OperatorDesk, type OperatorOptions } from "../operator/desk.ts";
import { watchOperatorRequests } from "../operator/requests.ts";

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
  const runDir = resolve(options.outDir ?? join("reports", scenario.name, runId));
  checkAbortIf(scenario.abortIf, scenario.probes.map(probeRecord));
  checkManualSteps(scenario.schedule, options.operator?.confirm, options.operator?.input !== undefined);
  // A history is only ever appended to: a second run into the same directory would mix two drills.
  if (existsSync(join(runDir, "history.jsonl"))) {
    throw new InputError(options.outDir ? "--out" : runDir, `${runDir} already holds a run (history.jsonl)`, "Give a new directory, or remove that one; `pgdrill report` re-analyses the run that is there.");
  }
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, "scenario.json"), JSON.stringify(scenario, null, 2) + "\n");

  const history = HistoryWriter.open(join(runDir, "history.jsonl"));
  if (options.onEvent) history.onEvent(options.onEvent);
  const clock = options.clock ?? monotonicClock();
  const durationMs = toMs(scenario.duration);
  const steadyMs = toMs(scenario.steadyState.window);
  const runStart: RunStartEvent = {
    kind: "run-start",
    t: 0,
    wallClock: new Date().toISOString(),
    runId,
    scenario: scenario.name,
    target: topology.kind,
    nodes: [...topology.nodes],
    primary: topology.initialPrimary,
    durationMs,
    steadyStateMs: steadyMs,
    version: VERSION,
    probes: scenario.probes.map(probeRecord),
  };
  history.append(runStart);
  log(`run ${runId}: ${scenario.name} from ${options.source} → ${runDir}`);

  // Two stops: `drill` ends everything early (interrupt); `probing` ends only the probe loops.
  const drill = new AbortController();
  const onAbort = () => drill.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const interrupted = (where: string) => new Error(`interrupted ${where}`);
  const probing = new AbortController();
  drill.signal.addEventListener("abort", () => probing.abort(), { once: true });
  // Whatever hangs, the run ends: start-up (both nodes), the drill itself, then generous slack.
  const deadlineMs = options.deadlineMs ?? 2 * toMs(scenario.target.startupTimeout) + durationMs + DEADLINE_SLACK_MS;
  let pastDeadline = false;
  const deadline = setTimeout(() => {
    pastDeadline = true;
    log(`the run passed its overall deadline of ${Math.round(deadlineMs / 1000)} s: stopping it`);
    drill.abort();
  }, deadlineMs);
  deadline.unref();

  const phase = (name: Extract<HistoryEvent, { kind: "phase" }>["phase"]) =>
    history.append({ kind: "phase", t: roundMs(clock.now()), phase: name });

  let started: StartedTopology | null = null;
  let status: "completed" | "aborted" | "errored" = "completed";
  let failure: string | undefined;
  let probeTasks: Array<Promise<void>> = [];
  let schedule: ScheduleRunner | null = null;
  let removed: string[] = [];

  // The kill switch (abortIf, run/abort.ts) and `pgdrill stop`: heal every fault at once, stop the
  // schedule and the probes, and end aborted with the reason. Acted on outside the append that noticed it.
  let breachHeal: Promise<void> | undefined;
  const killSwitch = new KillSwitch(scenario.abortIf, (breach) =>
    setImmediate(() => {
      history.append({ kind: "log", t: roundMs(clock.now()), level: "error", message: breachReason(breach) });
      log(`${breachReason(breach)}: healing every fault, stopping the drill`);
      drill.abort(new Error(breachReason(breach)));
      breachHeal = schedule?.healAll().catch((error: unknown) => log(`heal failed: ${errorMessage(error)}`));
    }),
  );
  killSwitch.add(runStart);
  history.onEvent(killSwitch.add);
  const stopWatching = watchForStop(runDir, runId, (request) => killSwitch.trip(stopBreach(request, roundMs(clock.now()))));
  // Marks and confirmations, from the keyboard (options.operator.input) and `pgdrill mark`/`confirm`.
  const warn = (message: string) => history.append({ kind: "log", t: roundMs(clock.now()), level: "warn", message });
  const desk = new OperatorDesk({
    mode: options.operator?.confirm ?? null,
    record: (mark) => history.append({ kind: "mark", ...mark }),
    now: () => clock.now(),
    log,
    warn,
    steps: manualSteps(scenario.schedule).map(({ id, say }) => ({ id, say })),
  });
  const stopRequests = watchOperatorRequests(runDir, (request) => desk.take(request), (problem) => {
    warn(`an operator request was refused: ${problem}`);
    log(`operator request refused: ${problem}`);
  });
  const detachInput = options.operator?.input?.attach(desk);
  // The schedule's own stop: the drill's, or a finish (which ends the run as its duration would).
  const scheduling = new AbortController();
  drill.signal.addEventListener("abort", () => scheduling.abort(), { once: true });
  let probingStarted = false;
  // Set from the finish listener; read through `cancelledBy()` (TypeScript does not see the closure assign it).
  let cancelled: CancelledBeforeMeasuring | null = null;
  const cancelledBy = (): CancelledBeforeMeasuring | null => cancelled;
  const onFinish = () => {
    // Before the probes started there is nothing to complete: the start-up is cancelled, not failed.
    if (!probingStarted) {
      cancelled = new CancelledBeforeMeasuring(runDir, [], finishCause(options.finish));
      return drill.abort(cancelled);
    }
    if (!drill.signal.aborted) log("finishing: the probes stop, the run ends completed");
    scheduling.abort();
    probing.abort();
  };
  options.finish?.addEventListener("abort", onFinish, { once: true });
  if (options.finish?.aborted) onFinish();

  try {
    phase("starting");
    started = await topology.start({
      runId,
      scenario: scenario.name,
      image: options.image,
      log,
      signal: drill.signal,
      record: (observation) => history.append({ ...observation, t: roundMs(clock.now()) } as HistoryEvent),
      durationMs,
      ...(options.shared ? { shared: options.shared } : {}),
    });
    // A target that runs the probes elsewhere (cnpg: in the cluster) brings their History back itself.
    const remote = started.probeRunner;
    if (remote) await remote.prepare({ history, clock, signal: probing.signal });
    else for (const probe of probes) await probe.prepare?.(started);
    if (drill.signal.aborted) throw interrupted("while starting");

    probingStarted = true;
    const probeStart = clock.now();
    const until = probeStart + durationMs;
    const steadyWindow = new SteadyStateWindow(runStart, probeStart + steadyMs);
    history.onEvent(steadyWindow.add);
    phase("steady-state");
    const context = { topology: started, history, clock, until, signal: probing.signal };
    probeTasks = remote ? [remote.run(until)] : probes.map((probe) => probe.run(context));

    await clock.sleepUntil(probeStart + steadyMs, scheduling.signal);
    if (drill.signal.aborted) throw interrupted("during the steady state");
    const steady = steadyWindow.judge(scenario.steadyState.minAvailability);
    history.append({ kind: "steady-state", t: roundMs(clock.now()), ...steady });
    log(steady.message);
    if (!steady.ok) throw new Error(`steady state not met before any fault: ${steady.message}`);

    phase("drill");
    schedule = new ScheduleRunner({ runId, topology: started, history, clock, signal: scheduling.signal, log, operator: desk });
    const plan = planSchedule(scenario.schedule).map((step) => ({ ...step, at: probeStart + step.at }));
    await Promise.all([...probeTasks, schedule.run(plan)]);
    if (drill.signal.aborted) throw interrupted("during the drill");
    if (schedule.errors.length > 0) throw new Error(`the schedule did not run as planned: ${schedule.errors.join("; ")}`);
  } catch (error) {
    status = drill.signal.aborted && !pastDeadline ? "aborted" : "errored";
    // An interruption says what stopped the drill (Ctrl-C, SIGTERM, the launcher gone), whichever phase noticed it.
    failure = pastDeadline
      ? `the run passed its overall deadline of ${Math.round(deadlineMs / 1000)} s (${errorMessage(error)})`
      : cancelledBy()
        ? cancelledBy()!.message
        : `${errorMessage(error)}${status === "aborted" ? abortCause(drill.signal) : ""}`;
    // A cancellation is no failure: the caller says so in its own words.
    if (!cancelledBy() || pastDeadline) log(`${status}: ${failure}`);
  } finally {
    clearTimeout(deadline);
    probing.abort();
    await settleWithin(probeTasks, PROBE_DRAIN_MS);
    if (started) {
      phase("healing");
      await breachHeal;
      await schedule?.healAll().catch((error: unknown) => log(`heal failed: ${errorMessage(error)}`));
      phase("final-read");
      if (started.probeRunner) {
        await started.probeRunner.finalRead().catch((error: unknown) => log(`final read failed: ${errorMessage(error)}`));
        await started.probeRunner.close();
      } else {
        for (const probe of probes) {
          await probe.finalRead?.({ topology: started, history, clock, signal: new AbortController().signal });
        }
      }
    }
    phase("teardown");
    removed = await teardown(started, runId, scenario.target.kind).catch((error: unknown) => {
      log(`teardown failed: ${errorMessage(error)}`);
      return [];
    });
    if (removed.length > 0 && !cancelledBy()) log(`removed ${removed.join(", ")}`);
    stopWatching();
    detachInput?.();
    stopRequests();
    options.finish?.removeEventListener("abort", onFinish);
    const breach = killSwitch.breach;
    if (breach && !pastDeadline) {
      status = "aborted";
      failure = breachReason(breach);
    }
    history.append({ kind: "run-end", t: roundMs(clock.now()), status, ...(failure ? { error: failure } : {}) });
    history.close();
    options.signal?.removeEventListener("abort", onAbort);
  }

  const cancellation = cancelledBy();
  if (cancellation && !pastDeadline) throw new CancelledBeforeMeasuring(runDir, removed, cancellation.by);
  // An interrupt that stopped the drill must not also skip the analysis of what it recorded; one
  // that arrives after the drill ended (while analysing) stops the analysis.
  const analysisSignal = status === "aborted" ? undefined : options.signal;
  log("analysing the history");
  const result = await analyzeRunDir(runDir, { gateOverrides: options.gateOverrides ?? [], ...(analysisSignal ? { signal: analysisSignal } : {}) });
  return { runDir, result, removed };
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

/** "SIGINT" from a finish reason like Error("finished: SIGINT"); "" when none was given. */
function finishCause(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
  return /This operation was aborted/.test(text) ? "" : text.replace(/^finished:\s*/, "");
}

/** " (SIGTERM)" from an abort reason like Error("interrupted: SIGTERM"); "" when none was given. */
function abortCause(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
  const cause = text.replace(/^interrupted:\s*/, "");
  return cause && !/This operation was aborted/.test(cause) ? ` (${cause})` : "";
}
