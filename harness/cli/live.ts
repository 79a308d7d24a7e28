/**
 * What people watching a drill see while it runs. In a terminal: a status block redrawn in place
 * (phase, elapsed and remaining time, rolling availability, active faults, the last errors) with
 * log lines scrolling above it. Elsewhere (CI, pipes): plain timestamped lines, no escape codes.
 * The state is folded from History events, so the view shows exactly what is being recorded.
 */
import { createLogUpdate } from "log-update";
import picocolors from "picocolors";
import type { HistoryEvent, Phase } from "../history/events.ts";

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
  recent: Array<{ t: number; ok: boolean }>;
  activeFaults: Map<string, string>;
  errors: Array<{ t: number; probe: string; error: string }>;
}

export function initialState(): LiveState {
  return { phase: "starting", scenario: "", probeStart: null, durationMs: null, lastT: 0, recent: [], activeFaults: new Map(), errors: [] };
}

/** Folds one History event into the view's state. */
export function applyEvent(state: LiveState, event: HistoryEvent): void {
  state.lastT = Math.max(state.lastT, event.t);
  switch (event.kind) {
    case "run-start":
      state.scenario = event.scenario;
      state.durationMs = event.durationMs;
      break;
    case "phase":
      state.phase = event.phase;
      if (event.phase === "steady-state") state.probeStart = event.t;
      break;
    case "complete":
      if (event.type === "role") break;
      state.recent.push({ t: event.t, ok: event.outcome === "ok" });
      if (event.outcome !== "ok" && event.error) {
        state.errors.push({ t: event.t, probe: event.probe, error: event.error });
        if (state.errors.length > KEPT_ERRORS) state.errors.shift();
      }
      break;
    case "fault":
      if (event.phase === "inject" && event.ok && event.fault !== "kill" && event.fault !== "stop") state.activeFaults.set(event.id, event.label);
      if (event.phase === "heal") state.activeFaults.delete(event.id);
      break;
    default:
      break;
  }
  while (state.recent.length > 0 && state.recent[0]!.t < state.lastT - ROLLING_MS) state.recent.shift();
}

export function renderStatus(state: LiveState, color: boolean): string {
  const c = picocolors.createColors(color);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const ok = state.recent.filter((sample) => sample.ok).length;
  const availability = state.recent.length > 0 ? ok / state.recent.length : null;
  const paint = availability === null ? c.dim : availability >= 0.99 ? c.green : availability >= 0.5 ? c.yellow : c.red;
  const remaining =
    state.probeStart !== null && state.durationMs !== null ? Math.max(0, state.probeStart + state.durationMs - state.lastT) : null;
  const lines = [
    `${c.bold(state.scenario || "pgdrill")}  ${c.cyan(state.phase)}  elapsed ${seconds(state.lastT)}${remaining !== null ? `  remaining ${seconds(remaining)}` : ""}`,
    `availability (last ${seconds(ROLLING_MS)}): ${paint(availability === null ? "—" : `${(availability * 100).toFixed(1)}%`)} (${ok}/${state.recent.length})` +
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

  /** Idempotent: the CLI stops the view before printing the summary and again in `finally`. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.update?.clear();
    this.update?.done();
  }

  private redraw(): void {
    this.update?.(renderStatus(this.state, this.options.color));
  }
}
