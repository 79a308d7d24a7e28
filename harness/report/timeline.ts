/**
 * The timeline charts of report.html, as Vega-Lite specs rendered to SVG in Node (no browser, no
 * network), so the page is self-contained. Computing stays in the checkers: this only reshapes the
 * History and the result into rows to draw.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { faultDisplay, UNKNOWN_FAULT_COLOR } from "../fault/catalog.ts";
import type { HistoryEvent } from "../history/events.ts";
import { isCompleted, type Operation } from "../history/operations.ts";
import type { RoleChange, RunResult } from "../result.ts";
import { alertLayers } from "./alerts-timeline.ts";
import { restoreLayers } from "./restore-timeline.ts";
import type { DrillStep, OperatorMoment, OpPoint, ReportContext } from "./types.ts";
import { wallClockOf } from "./wall-clock.ts";

const WIDTH = 860;
export const OUTCOME_COLORS = { ok: "#2ca02c", fail: "#d62728", info: "#ff7f0e" } as const;
const ROLE_COLORS = { primary: "#1f77b4", standby: "#9ecae1", unreachable: "#d62728" } as const;

/**
 * The points the outcome and latency charts draw, folded from the operations as they stream
 * past: per row, pixel column and outcome, the slowest operation. That is all a chart WIDTH pixels
 * wide can show (every column with a failure still shows it, and the latency chart keeps its
 * spikes), so a million-operation drill draws about as fast as a short one, in bounded memory.
 */
export class TimelineFold {
  private readonly columnMs: number;
  private readonly slowest = new Map<string, OpPoint>();

  /** `endT`: the History's last t, so the columns span the whole run. */
  constructor(endT: number) {
    this.columnMs = Math.max(1, endT / WIDTH);
  }

  operation(operation: Operation): void {
    if (!isCompleted(operation)) return;
    const row = operation.type === "role" ? `${operation.probe}: ${operation.node ?? "?"}` : operation.probe;
    const key = `${row}\u0000${operation.outcome}\u0000${Math.floor(operation.completeT / this.columnMs)}`;
    const latency = Math.max(operation.latencyMs, 0.01);
    const kept = this.slowest.get(key);
    if (kept && kept.latency >= latency) return;
    this.slowest.set(key, { t: operation.completeT / 1000, row, outcome: operation.outcome, latency, probe: operation.probe });
  }

  points(): OpPoint[] {
    return [...this.slowest.values()];
  }
}

/** The colours of what the timeline shades besides faults (the page's key under the chart uses them too). */
export const SHADE_COLORS = { steadyState: "#7f7f7f", downtime: "#d62728", action: "#17becf", mark: "#6a3d9a" } as const;

/** What people said during the run, in time order, for the report model's marks and the timeline's labelled rules. */
export function operatorMoments(events: readonly HistoryEvent[]): OperatorMoment[] {
  const moments: OperatorMoment[] = [];
  const shown = new Map<string, number>();
  for (const event of events) {
    if (event.kind === "mark") moments.push({ t: event.t, kind: "mark", text: event.note, by: event.by });
    if (event.kind !== "action" || event.action !== "manual") continue;
    const say = event.label.replace(/^manual: /, "");
    if (event.phase === "start") {
      shown.set(event.id, event.t);
      moments.push({ t: event.t, kind: "manual shown", text: `${event.id}: ${say}`, by: "schedule" });
    } else {
      const after = shown.has(event.id) ? ` after ${((event.t - shown.get(event.id)!) / 1000).toFixed(2)} s` : "";
      const confirmed = event.ok !== false;
      const by = events.find((e) => e.kind === "log" && e.message.startsWith(`manual step ${event.id} confirmed by `));
      moments.push({
        t: event.t,
        kind: confirmed ? "manual confirmed" : "manual not done",
        text: confirmed
          ? `${event.id} confirmed${after}: ${say} (a fault from here)`
          : `${event.id} ${event.error ?? "not confirmed"}: ${say}`,
        // A step reported not done (`n`, `pgdrill confirm --not-done`) says by whom in its error; a timeout is nobody's.
        by: confirmed
          ? by?.kind === "log"
            ? by.message.slice(`manual step ${event.id} confirmed by `.length).split(" ")[0]!
            : "operator"
          : (/^reported not done by (\w+)/.exec(event.error ?? "")?.[1] ?? ""),
      });
    }
  }
  return moments.sort((a, b) => a.t - b.t);
}

/** The History's faults and actions as steps, in history order; `endT` ends what is still active. */
export function drillSteps(events: readonly HistoryEvent[], endT: number): DrillStep[] {
  const steps: DrillStep[] = [];
  for (const event of events) {
    if (event.kind === "fault" && event.phase === "inject") {
      const heals = events.filter((e) => e.kind === "fault" && e.phase === "heal" && e.id === event.id);
      // A heal retried after a failure: the one that worked ends the fault.
      const heal = heals.find((e) => e.kind === "fault" && e.ok) ?? heals[0];
      const display = faultDisplay(event.fault);
      const color = display?.color ?? UNKNOWN_FAULT_COLOR;
      const base = {
        kind: "fault",
        id: event.id,
        label: event.label,
        color,
        startMs: event.t,
        ok: event.ok,
        ...(event.error ? { error: event.error } : {}),
      } as const;
      // kill and stop have nothing to heal (nor has a kind pgdrill does not know): they are
      // instants, drawn as a rule, not an interval.
      if (!event.ok) steps.push({ ...base, endMs: event.t, end: "not injected" });
      else if (display?.heals !== true || event.instant === true) steps.push({ ...base, endMs: event.t, end: "instant" });
      else if (heal === undefined) steps.push({ ...base, endMs: Math.max(endT, event.t), end: "open" });
      else if (heal.kind === "fault" && !heal.ok)
        steps.push({ ...base, endMs: Math.max(endT, event.t), end: "heal failed", ...(heal.error ? { error: heal.error } : {}) });
      else steps.push({ ...base, endMs: heal.t, end: "healed" });
    }
    if (event.kind === "action" && event.phase === "start") {
      const end = events.find((e) => e.kind === "action" && e.phase === "end" && e.id === event.id);
      const failed = end?.kind === "action" && end.ok === false;
      steps.push({
        kind: "action",
        id: event.id,
        label: event.label,
        color: SHADE_COLORS.action,
        startMs: event.t,
        endMs: end?.t ?? event.t,
        end: end === undefined ? "running" : "ended",
        ok: !failed,
        ...(end?.kind === "action" && end.error ? { error: end.error } : {}),
      });
    }
  }
  return steps;
}

/** The steps the chart marks: faults that took and every action, in seconds, labels staggered. */
export function faultIntervals(events: readonly HistoryEvent[], endT: number) {
  const intervals = drillSteps(events, endT)
    .filter((step) => step.kind === "action" || step.ok)
    .map((step) => ({
      start: step.startMs / 1000,
      end: step.endMs / 1000,
      label: step.label,
      color: step.color,
      kind: step.kind,
      state: step.end,
    }));
  // Labels of steps close together would overprint: stagger them on three lines.
  return intervals.map((interval, index) => ({ ...interval, line: index % 3 }));
}

/**
 * The steady-state window: the phase "steady-state" to the phase "drill" (its baseline check, before
 * the first fault). A History cut short before the drill began ends the window at run-start's
 * planned steadyStateMs. Null when the History has no steady-state phase.
 */
export function steadyStateWindow(events: readonly HistoryEvent[]): { startMs: number; endMs: number } | null {
  const start = events.find((e) => e.kind === "phase" && e.phase === "steady-state");
  if (start === undefined) return null;
  const drill = events.find((e) => e.kind === "phase" && e.phase === "drill" && e.t >= start.t);
  const runStart = events.find((e) => e.kind === "run-start");
  const planned = runStart?.kind === "run-start" ? start.t + runStart.steadyStateMs : null;
  const endMs = drill?.t ?? planned;
  return endMs === null ? null : { startMs: start.t, endMs };
}

/** Who was primary, as bars: each node's role from one change of role to the next. */
function roleSegments(changes: readonly RoleChange[], endT: number) {
  const segments: Array<{ node: string; role: keyof typeof ROLE_COLORS; start: number; end: number }> = [];
  const open = new Map<string, { role: keyof typeof ROLE_COLORS; start: number }>();
  for (const change of changes) {
    const current = open.get(change.node);
    if (current?.role === change.role) continue; // a new timeline or server, same role
    if (current) segments.push({ node: change.node, role: current.role, start: current.start, end: change.t / 1000 });
    open.set(change.node, { role: change.role, start: change.t / 1000 });
  }
  for (const [node, current] of open) segments.push({ node, role: current.role, start: current.start, end: endT / 1000 });
  return segments;
}

/**
 * Square legend swatches. Vega-Lite draws a legend's symbols with the opacity of the layer that
 * owns the legend, and a layered chart merges the legends of every layer on the channel: the
 * outcome swatches came out at the faults' 0.12 shading, all but invisible. So the shading layers
 * have no legend (and resolve theirs apart), and the layers with one are drawn opaque.
 */
const LEGEND = { symbolType: "square", symbolSize: 120, symbolStrokeWidth: 0 } as const;

/** One SVG with three charts sharing the time axis: outcomes, latency, and who was primary. */
export async function renderTimelineSvg(result: RunResult, report: ReportContext): Promise<string> {
  const endT = report.history.lastT;
  const points = report.points;
  const faults = faultIntervals(report.history.events, endT);
  const heals = faults.filter((f) => f.state === "healed").map((f) => ({ ...f, text: `healed: ${f.label}` }));
  // A fault never healed (no heal recorded, or none that worked) stays active to the end, and says so there.
  const open = faults
    .filter((f) => f.state === "open" || f.state === "heal failed")
    .map((f) => ({ ...f, text: `${f.label}: ${f.state === "open" ? "no heal recorded" : "heal failed"}` }));
  const steady = steadyStateWindow(report.history.events);
  const steadyRows = steady === null ? [] : [{ start: steady.startMs / 1000, end: steady.endMs / 1000, text: "steady state" }];
  const downtime = result.metrics.downtime.windows.map((w) => ({ start: w.startMs / 1000, end: w.endMs / 1000, probe: w.probe }));
  const roles = roleSegments(result.metrics.roles.changes, endT);
  const clock = wallClockOf(report.history.runStart);
  // Marks: a labelled rule at each, the note along the chart's middle (faults label the top, heals the foot).
  const marks = operatorMoments(report.history.events)
    .filter((moment) => moment.kind === "mark")
    .map((moment, index) => ({
      start: moment.t / 1000,
      text: `\u270e ${moment.text.length > 60 ? `${moment.text.slice(0, 57)}...` : moment.text}`,
      line: index % 3,
      color: SHADE_COLORS.mark,
    }));
  // Client probes first, then one row per node of the role probe.
  const rows = [...new Set(points.map((p) => p.row))].sort(
    (a, b) => Number(a.includes(": ")) - Number(b.includes(": ")) || a.localeCompare(b),
  );
  // Not rounded up ("nice"): every chart, and the wall-clock axis, spans exactly the run, so they line up.
  const x = {
    field: "t",
    type: "quantitative",
    title: "seconds since the run started",
    scale: { domain: [0, endT / 1000], nice: false },
  } as const;
  const outcomesHeight = Math.max(60, rows.length * 26 + 36);
  const span = { x: { field: "start", type: "quantitative" }, x2: { field: "end" } } as const;
  const shading = [
    {
      name: "steady_state",
      data: { values: steadyRows },
      mark: { type: "rect", color: SHADE_COLORS.steadyState, opacity: 0.1 },
      encoding: span,
    },
    { name: "downtime", data: { values: downtime }, mark: { type: "rect", color: SHADE_COLORS.downtime, opacity: 0.08 }, encoding: span },
    {
      name: "fault_spans",
      data: { values: faults },
      mark: { type: "rect", opacity: 0.12 },
      encoding: { ...span, color: { field: "color", type: "nominal", scale: null, legend: null } },
    },
  ];
  // Text along the chart's foot, right of (or, aligned right, left of) the time it names.
  const footText = (name: string, values: unknown[], field: "start" | "end", align: "left" | "right") => ({
    name,
    data: { values },
    mark: { type: "text", align, dx: align === "left" ? 3 : -3, baseline: "bottom", fontSize: 10 },
    encoding: {
      x: { field, type: "quantitative" },
      y: { value: outcomesHeight - 2 },
      text: { field: "text" },
      color: { field: "color", type: "nominal", scale: null, legend: null },
    },
  });
  // The time of day (UTC) on an axis of its own under the charts, to line the drill up with dashboards.
  const wallAxis =
    clock.originMs === null
      ? []
      : [
          {
            name: "wall_clock",
            width: WIDTH,
            height: 1,
            data: { values: [{ at: clock.originMs }] },
            mark: { type: "rule", opacity: 0 },
            encoding: {
              x: {
                field: "at",
                type: "temporal",
                title: "UTC, time of day",
                scale: { type: "utc", domain: [clock.originMs, clock.originMs + endT], nice: false },
                axis: { format: "%H:%M:%S", grid: false },
              },
            },
          },
        ];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: { font: "system-ui, sans-serif", axis: { labelFontSize: 11, titleFontSize: 11 }, view: { stroke: "#ddd" } },
    vconcat: [
      {
        title: {
          text: "Every probe operation, by outcome; faults from inject to heal, actions marked, steady state and downtime shaded",
          anchor: "start",
          fontSize: 13,
        },
        width: WIDTH,
        height: outcomesHeight,
        layer: [
          ...shading,
          {
            name: "fault_starts",
            data: { values: faults },
            mark: { type: "rule", strokeWidth: 2 },
            encoding: {
              x: { field: "start", type: "quantitative" },
              color: { field: "color", type: "nominal", scale: null, legend: null },
            },
          },
          {
            name: "heals",
            data: { values: heals },
            mark: { type: "rule", strokeWidth: 2, strokeDash: [4, 3] },
            encoding: { x: { field: "end", type: "quantitative" }, color: { field: "color", type: "nominal", scale: null, legend: null } },
          },
          footText("heal_labels", heals, "end", "right"),
          footText("open_labels", open, "end", "right"),
          footText(
            "steady_state_label",
            steadyRows.map((r) => ({ ...r, color: SHADE_COLORS.steadyState })),
            "start",
            "left",
          ),
          {
            name: "marks",
            data: { values: marks },
            mark: { type: "rule", strokeWidth: 1.5, strokeDash: [1, 2], color: SHADE_COLORS.mark },
            encoding: { x: { field: "start", type: "quantitative" } },
          },
          {
            name: "mark_labels",
            data: { values: marks },
            mark: { type: "text", align: "left", dx: 3, baseline: "middle", fontSize: 10, fontStyle: "italic", color: SHADE_COLORS.mark },
            encoding: {
              x: { field: "start", type: "quantitative" },
              y: {
                field: "line",
                type: "quantitative",
                scale: { type: "linear", domain: [-1, 3], range: [outcomesHeight / 2 - 14, outcomesHeight / 2 + 26] },
                axis: null,
              },
              text: { field: "text" },
            },
          },
          ...alertLayers(report.history.events, outcomesHeight),
          ...restoreLayers(report.history.events, outcomesHeight),
          {
            name: "step_labels",
            data: { values: faults },
            mark: { type: "text", align: "left", dx: 3, baseline: "top", fontSize: 10, fontWeight: "bold" },
            encoding: {
              x: { field: "start", type: "quantitative" },
              y: { field: "line", type: "quantitative", scale: { type: "linear", domain: [0, 3], range: [2, 38] }, axis: null },
              text: { field: "label" },
              color: { field: "color", type: "nominal", scale: null, legend: null },
            },
          },
          {
            data: { values: points },
            mark: { type: "tick", thickness: 1.5, size: 16, opacity: 1 },
            encoding: {
              x,
              y: { field: "row", type: "nominal", title: null, sort: rows },
              color: {
                field: "outcome",
                type: "nominal",
                title: "outcome",
                legend: LEGEND,
                scale: { domain: Object.keys(OUTCOME_COLORS), range: Object.values(OUTCOME_COLORS) },
              },
            },
          },
        ],
        // The shading's colours are the faults' own (no scale): only the outcomes have a legend.
        resolve: { legend: { color: "independent" } },
      },
      {
        title: { text: "Latency of each operation (ms, log scale)", anchor: "start", fontSize: 13 },
        width: WIDTH,
        height: 160,
        layer: [
          ...shading.slice(0, 2),
          {
            data: { values: points.filter((p) => !p.row.includes(": ")) },
            mark: { type: "point", size: 10, filled: true, opacity: 0.7 },
            encoding: {
              x,
              y: { field: "latency", type: "quantitative", scale: { type: "log" }, title: "ms" },
              shape: {
                field: "probe",
                type: "nominal",
                title: "probe",
                legend: { symbolOpacity: 1, symbolFillColor: "#555", symbolStrokeWidth: 0 },
              },
              color: {
                field: "outcome",
                type: "nominal",
                legend: null,
                scale: { domain: Object.keys(OUTCOME_COLORS), range: Object.values(OUTCOME_COLORS) },
              },
            },
          },
        ],
      },
      {
        title: { text: "Who was primary (role probe)", anchor: "start", fontSize: 13 },
        width: WIDTH,
        height: Math.max(40, new Set(roles.map((r) => r.node)).size * 26),
        data: { values: roles },
        mark: { type: "bar", height: 16 },
        encoding: {
          x: {
            field: "start",
            type: "quantitative",
            title: "seconds since the run started",
            scale: { domain: [0, endT / 1000], nice: false },
          },
          x2: { field: "end" },
          y: { field: "node", type: "nominal", title: null },
          color: {
            field: "role",
            type: "nominal",
            title: "role",
            legend: LEGEND,
            scale: { domain: Object.keys(ROLE_COLORS), range: Object.values(ROLE_COLORS) },
          },
        },
      },
      ...wallAxis,
    ],
    resolve: { scale: { color: "independent", shape: "independent" } },
  };
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
