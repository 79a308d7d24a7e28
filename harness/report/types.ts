/**
 * The contract between the analysis and the report renderers, in a module of its own (vitest's
 * `types` module): the report model a renderer is given (model.ts builds it) and what it returns.
 * Renderers import this, never the registry of renderers (index.ts), so the report modules import
 * each other one way only.
 */
import type { HistoryContext } from "../history/context.ts";
import type { LogEvent } from "../history/events.ts";
import type { CheckOutcome, Metrics, RoleChange, RunResult, Validity } from "../result.ts";
import type { ReportRow, ReportSpan } from "../targets/plugin.ts";

export type ReportFormat = "json" | "markdown" | "junit" | "html";

/** One point of the timeline charts: an operation, or the slowest of those drawn in one pixel column. */
export interface OpPoint {
  t: number;
  row: string;
  outcome: "ok" | "fail" | "info";
  latency: number;
  probe: string;
}

/**
 * What a renderer may draw besides the result: the History's context (faults and actions to mark),
 * the timeline's points, folded from the operations while the checkers ran, and the scenario.
 */
export interface ReportContext {
  history: HistoryContext;
  points: readonly OpPoint[];
  /**
   * The run's scenario.json, parsed but unchecked (an older run's may differ from today's schema),
   * for the settings it was drilled with; absent when a History is analysed without its run directory.
   */
  scenario?: unknown;
}

/**
 * What people said during the run: marks (`m`, `pgdrill mark`) and manual steps (shown, then
 * confirmed or not).
 */
export interface OperatorMoment {
  t: number;
  kind: "mark" | "manual shown" | "manual confirmed" | "manual not done";
  text: string;
  by: string;
}

/**
 * A fault or action of the drill as drawn: a fault from its inject to its heal (paired by id), an
 * action from its start to its end. `endMs` is the drill's end for a fault still active then
 * ("open": no heal recorded, or the heal failed), and the start itself for an instant (kill, stop:
 * nothing to heal) or a fault whose inject failed.
 */
export interface DrillStep {
  kind: "fault" | "action";
  id: string;
  label: string;
  color: string;
  startMs: number;
  endMs: number;
  end: "healed" | "open" | "heal failed" | "instant" | "not injected" | "ended" | "running";
  /** The inject or the action worked (an action without an end yet counts as working). */
  ok: boolean;
  error?: string;
}

export interface Renderer {
  /** File name inside the run directory. */
  file: string;
  /** Charts render asynchronously, so a renderer may return a promise. */
  render: (model: ReportModel) => string | Promise<string>;
}

/** Report text (plain, or parts set off) and a labelled row: the shapes a target's plugin contributes too. */
export type Span = ReportSpan;
export type Row = ReportRow;

/**
 * What every report draws, built once from the RunResult and the History's read model (model.ts),
 * as vitest's reporters all read one public model and never the raw tasks: so report.md,
 * report.html, the terminal summary and junit.xml say the same thing. Formats decide only how it
 * looks and how much of a long list they show.
 */
export interface ReportModel {
  /** What the model was built from: result.json is the result, the charts draw from it. */
  readonly result: RunResult;
  /** The History's context and the timeline's points (empty when the result came without them). */
  readonly context: ReportContext;
  readonly run: Pick<RunResult, "scenario" | "runId" | "target" | "startedAt" | "durationMs" | "verdict" | "reason" | "complete">;
  /** The one sentence of what was done and what clients saw; null without the History. */
  readonly sentence: string | null;
  /** The few numbers people look at first (the terminal's summary). */
  readonly headline: Headline;
  /** Generic rows first, then the target's own; `note` explains the error bars when a row has them. */
  readonly keyMetrics: { readonly rows: readonly Row[]; readonly note: string | null };
  readonly gates: readonly GateRow[];
  /** The guide's claims per HA strategy, the drilled one marked, and this run's failover beside it. */
  readonly claims: { readonly rows: readonly ClaimRow[]; readonly measured: readonly Span[] };
  /** Each client probe's view, when there are two or more to compare. */
  readonly clients: readonly ClientRow[];
  readonly downtime: readonly DowntimeRow[];
  /** Null when nothing was lost (or it is unknown). */
  readonly lostWrites: { readonly count: number; readonly node: string | null; readonly ids: readonly number[] } | null;
  /** Each role change, with its role as said: "primary", "primary (read-only)", "standby", "unreachable". */
  readonly roleChanges: ReadonlyArray<RoleChange & { readonly label: string }>;
  /** Marks and manual steps, with the time of day; empty without the History. */
  readonly marks: ReadonlyArray<OperatorMoment & { readonly timeOfDay: string | null }>;
  /** The run's own warnings and errors (its log events above info); empty without the History. */
  readonly warnings: readonly LogEvent[];
  readonly checks: ReadonlyArray<{ readonly name: string } & CheckOutcome>;
  /** The failover's phases per client path, or why there are none, in the result's own words. */
  readonly anatomy: { readonly observed: true; readonly phases: Metrics["anatomy"] } | { readonly observed: false; readonly why: string };
  /** What the drill did: the steady-state window and its check, then each fault and action; empty without the History. */
  readonly drill: { readonly steadyState: SteadyStateRow | null; readonly steps: readonly DrillStep[] };
  /** Did the alerts fire (metrics.alerts), worded; null when the run had no monitoring. */
  readonly alerts: AlertsSection | null;
  /** The restore drill (metrics.restore), worded; null when the run took no backups. */
  readonly restore: RestoreSection | null;
}

/** The restore's section: the check's own sentence, a row per figure, and a verdict per thing a restore must do (JUnit's test cases). */
export interface RestoreSection {
  /** What happened, in the restore check's words (its note), and that check's validity. */
  summary: string;
  valid: Validity;
  rows: readonly Row[];
  /** Same shape as the alerts' cases. */
  cases: readonly AlertCase[];
}

/** The alerts' section: a row per alerting rule, and a verdict per expectation and must-not-fire (JUnit's test cases). */
export interface AlertsSection {
  /** Whose Prometheus: "started by pgdrill", "the user's". */
  source: string;
  rows: readonly AlertRow[];
  cases: readonly AlertCase[];
  /** Said under the table: Prometheus was unreadable for a while, alerts the scenario named that no rule has. */
  notes: readonly string[];
}

/** One alerting rule, each cell worded ("—" when not seen). */
export interface AlertRow {
  alert: string;
  /** "yes", "no", "before the fault only". */
  fired: string;
  pendingAfter: string;
  /** Measured, then the earliest possible and the latest expected: "1.3 min (1.0 min / 1.9 min)". */
  firedAfter: string;
  notifiedAfter: string;
  resolvedAfterHeal: string;
  /** "within 2.0 min: met", "must not fire: fired", "—". */
  expected: string;
  /** An expectation missed or late, or a must-not-fire alert that fired. */
  bad: boolean;
  /** "cannot fire (series vanished): pg_up had 2 series before the fault and 1 during it: …", "already firing when the fault began". */
  note: string;
}

/** One expectation or must-not-fire, judged: a JUnit test case. */
export interface AlertCase {
  name: string;
  outcome: "pass" | "fail" | "skipped";
  /** Which alert and when, for a failure or a skip. */
  message: string | null;
}

export interface SteadyStateRow {
  startMs: number;
  endMs: number;
  /** The baseline check's outcome; null when it was not checked. */
  check: { ok: boolean; message: string } | null;
}

export interface Headline {
  availability: string;
  operations: string;
  downtime: string;
  /** "failover 1.16 s → standby", set off when a fault was never recovered from. */
  outage: Span;
  acknowledged: number;
  unknown: number;
  lost: Span;
  p99: string;
  lostIds: readonly number[];
  /** Two writable primaries, lost acknowledged writes, a probe that never recovered: said whatever the gates say (findings.ts). */
  findings: readonly string[];
}

export interface GateRow {
  pass: boolean;
  metric: string;
  expected: string;
  actual: number | null;
  /** The metric is a duration in ms, so a format may show its actual as one. */
  duration: boolean;
  note: string | null;
}

export interface ClaimRow {
  strategy: string;
  failover: string;
  rto: string;
  /** The strategy this run's target drills. */
  drilled: boolean;
  /** This run's failover against the claim's bound. */
  against: "within" | "slower" | null;
}

export interface ClientRow {
  probe: string;
  /** The client stack ("node-postgres", "pgjdbc", …) and its path ("rw, fresh connections"). */
  driver: string;
  via: string;
  ok: number;
  fail: number;
  info: number;
  downtime: string;
  longest: string;
  /** Fault → served again after its last outage: "6.12 s", "no outage", "never", "—" (no fault). */
  recovered: string;
  /** Operations abandoned because they hung past their timeout. */
  hung: number;
  /** Writes (or reads) a read-only node refused. */
  readOnly: number;
  /** Its most frequent errors: "57P01 terminating connection … ×12". */
  errors: readonly string[];
}

export interface DowntimeRow {
  probe: string;
  startMs: number;
  endMs: number;
  open: boolean;
  duration: string;
  failures: number;
  stalls: number;
}
