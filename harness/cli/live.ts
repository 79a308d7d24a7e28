/**
 * What people watching a drill see while it runs. In a terminal: a status block redrawn in place
 * (phase, elapsed and remaining time, rolling availability, active faults, the last errors) with
 * log lines scrolling above it. Elsewhere (CI, pipes): plain timestamped lines, no escape codes.
 * The state is folded from History events, so the view shows exactly what is being recorded.
 *
 * The rolling availability is availability.ratio's share of time, not a count of operations: the
 * headline probe's downtime windows (checker/downtime.ts's WindowTracker, slo stalls included)
 * over the trailing window, as checker/availability.ts's shareServed clips them. Only operations
 * that completed are seen, so a client still waiting shows up when its operation ends.
 */
import { createLogUpdate } from "log-update";
import picocolors from "picocolors";
import { shareServed } from "../checker/availability.ts";
import { WindowTracker } from "../checker/downtime.ts";
import { ProbeList } from "../checker/probes.ts";
import type { HistoryEvent, Phase } from "../history/events.ts";
import { completedFrom, type CompletedOperation } from "../history/operations.ts";

/** Availability is shown over this trailing window, so recovery shows up as it happens. */
const ROLLING_MS = 2000;
const REDRAW_MS = 200;
const KEPT_ERRORS = 3;

export interface LiveState {
  phase: Phase | "starting";
  scenario: string;
  /** t at which probing started and how long it lasts, once known. */
  probeStart: number | null;
  durationMs: number | null;
  lastT: number;
  /** Completed operations (role probes excepted) that ended in the trailing window, in completion order. */
  recent: CompletedOperation[];
  /** Per probe, the latest-invoked operation that ended before the window: whether an outage was already open when it began. */
  before: Map<string, CompletedOperation>;
  probes: ProbeList;
  /** Each probe's slo, from run-start. */
  slos: Map<string, number>;
  activeFaults: Map<string, string>;
  errors: Array<{ t: number; probe: string; error: string }>;
}

/** Faults that happen in an instant (nothing stays active to show): a kill, a stop, a confirmed manual step. */
const INSTANT_FAULTS: readonly string[] = ["kill", "stop", "manual"];

export function initialState(): LiveState {
  return {
    phase: "starting",
    scenario: "",
    probeStart: null,
    durationMs: null,
    lastT: 0,
    recent: [],
    before: new Map(),
    probes: new ProbeList(),
    slos: new Map(),
    activeFaults: new Map(),
    errors: [],
  };
}

/** Folds one History event into the view's state. */
export function applyEvent(state: LiveState, event: HistoryEvent): void {
  state.lastT = Math.max(state.lastT, event.t);
  switch (event.kind) {
    case "run-start":
      state.scenario = event.scenario;
      state.durationMs = event.durationMs;
      for (const probe of event.probes ?? []) if (probe.sloMs !== undefined) state.slos.set(probe.name, probe.sloMs);
      break;
    case "phase":
      state.phase = event.phase;
      if (event.phase === "steady-state") state.probeStart = event.t;
      break;
    case "complete":
      if (event.type === "role") break;
      {
        const operation = completedFrom(event);
        state.probes.note(operation);
        state.recent.push(operation);
      }
      if (event.outcome !== "ok" && event.error) {
        state.errors.push({ t: event.t, probe: event.probe, error: event.error });
        if (state.errors.length > KEPT_ERRORS) state.errors.shift();
      }
      break;
    case "fault":
      // Faults that last until healed; a kill, a stop or a manual step is an instant.
      if (event.phase === "inject" && event.ok && !INSTANT_FAULTS.includes(event.fault)) state.activeFaults.set(event.id, event.label);
      if (event.phase === "heal") state.activeFaults.delete(event.id);
      break;
    default:
      break;
  }
  while (state.recent.length > 0 && state.recent[0]!.completeT < state.lastT - ROLLING_MS) {
    const dropped = state.recent.shift()!;
    const kept = state.before.get(dropped.probe);
    if (!kept || dropped.invokeT >= kept.invokeT) state.before.set(dropped.probe, dropped);
  }
}

/** The headline probe's share of the trailing window it was served (availability.ratio's definition), and its downtime there. */
export function rollingAvailability(state: LiveState): { probe: string; share: number | null; downMs: number; spanMs: number } | null {
  const headline = state.probes.headline;
  if (!headline) return null;
  const from = state.lastT - ROLLING_MS;
  const before = state.before.get(headline.name);
  const recent = state.recent.filter((operation) => operation.probe === headline.name);
  const operations = [...(before ? [before] : []), ...recent].sort((a, b) => a.invokeT - b.invokeT);
  const tracker = new WindowTracker(headline.name, state.slos.get(headline.name) ?? null);
  for (const operation of operations) tracker.add(operation);
  const timeline = tracker.finish();
  const share = shareServed(timeline, from);
  const spanMs = timeline.observed ? Math.max(0, timeline.observed.toMs - Math.max(from, timeline.observed.fromMs)) : 0;
  return { probe: headline.name, share, downMs: share === null ? 0 : (1 - share) * spanMs, spanMs };
}

export function renderStatus(state: LiveState, color: boolean): string {
  const c = picocolors.createColors(color);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const rolling = rollingAvailability(state);
  const availability = rolling?.share ?? null;
  const paint = availability === null ? c.dim : availability >= 0.99 ? c.green : availability >= 0.5 ? c.yellow : c.red;
  const remaining =
    state.probeStart !== null && state.durationMs !== null ? Math.max(0, state.probeStart + state.durationMs - state.lastT) : null;
  const left = remaining !== null ? `  remaining ${seconds(remaining)}` : "";
  const served = paint(availability === null ? "—" : `${(availability * 100).toFixed(1)}%`);
  const lines = [
    `${c.bold(state.scenario || "pgdrill")}  ${c.cyan(state.phase)}  elapsed ${seconds(state.lastT)}${left}`,
    `availability (${rolling ? `${rolling.probe}, ` : ""}share of time served, last ${seconds(ROLLING_MS)}): ${served}` +
      (rolling && availability !== null ? ` (down ${Math.round(rolling.downMs)} ms of ${Math.round(rolling.spanMs)} ms)` : "") +
      (state.activeFaults.size > 0 ? `  faults: ${c.magenta([...state.activeFaults.values()].join(", "))}` : ""),
    ...state.errors.map((e) => c.dim(`  ${seconds(e.t)} ${e.probe}: ${e.error.slice(0, 100)}`)),
  ];
  return lines.join("\n");
}

export interface LiveViewOptions {
  stream: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean };
  color: boolean;
  quiet: boolean;
}

export class LiveView {
  private readonly state = initialState();
  private readonly started = Date.now();
  private readonly options: LiveViewOptions;
  private readonly update: ReturnType<typeof createLogUpdate> | null;
  private readonly timer: NodeJS.Timeout | null;
  private stopped = false;
  /** A line under the status: what the keyboard is doing (cli/keys.ts: a mark being typed, a manual step waiting). */
  private prompt: string | null = null;

  constructor(options: LiveViewOptions) {
    this.options = options;
    const interactive = Boolean(options.stream.isTTY) && !options.quiet;
    this.update = interactive ? createLogUpdate(options.stream as NodeJS.WriteStream) : null;
    this.timer = interactive ? setInterval(() => this.redraw(), REDRAW_MS) : null;
    this.timer?.unref();
  }

  onEvent = (event: HistoryEvent): void => {
    applyEvent(this.state, event);
  };

  log = (line: string): void => {
    if (this.options.quiet) return;
    const stamped = `[+${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`;
    if (!this.update) {
      this.options.stream.write(stamped);
      return;
    }
    this.update.clear();
    this.options.stream.write(stamped);
    this.redraw();
  };

  /** Shows `text` under the status block at once (null removes it); only in a terminal. */
  setPrompt(text: string | null): void {
    this.prompt = text;
    if (!this.stopped) this.redraw();
  }

  /** Idempotent: the CLI stops the view before printing the summary and again in `finally`. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.update?.clear();
    this.update?.done();
  }

  private redraw(): void {
    this.update?.(`${renderStatus(this.state, this.options.color)}${this.prompt === null ? "" : `\n${this.prompt}`}`);
  }
}
