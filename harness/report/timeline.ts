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
import type { OpPoint, ReportContext } from "./types.ts";

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

export function faultIntervals(events: readonly HistoryEvent[], endT: number) {
  const intervals: Array<{ start: number; end: number; label: string; color: string }> = [];
  for (const event of events) {
    if (event.kind === "fault" && event.phase === "inject" && event.ok) {
      const heal = events.find((e) => e.kind === "fault" && e.phase === "heal" && e.id === event.id);
      const display = faultDisplay(event.fault);
      // kill and stop have nothing to heal: they are instants, drawn as a rule, not an interval.
      const end = display?.heals ? (heal?.t ?? endT) : event.t;
      intervals.push({ start: event.t / 1000, end: end / 1000, label: event.label, color: display?.color ?? UNKNOWN_FAULT_COLOR });
    }
    if (event.kind === "action" && event.phase === "start") {
      const end = events.find((e) => e.kind === "action" && e.phase === "end" && e.id === event.id);
      intervals.push({ start: event.t / 1000, end: (end?.t ?? event.t) / 1000, label: event.label, color: "#17becf" });
    }
  }
  // Labels of steps close together would overprint: stagger them on three lines.
  return intervals.map((interval, index) => ({ ...interval, line: index % 3 }));
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

/** One SVG with three charts sharing the time axis: outcomes, latency, and who was primary. */
export async function renderTimelineSvg(result: RunResult, report: ReportContext): Promise<string> {
  const endT = report.history.lastT;
  const points = report.points;
  const faults = faultIntervals(report.history.events, endT);
  const downtime = result.metrics.downtime.windows.map((w) => ({ start: w.startMs / 1000, end: w.endMs / 1000, probe: w.probe }));
  const roles = roleSegments(result.metrics.roles.changes, endT);
  // Client probes first, then one row per node of the role probe.
  const rows = [...new Set(points.map((p) => p.row))].sort((a, b) => Number(a.includes(": ")) - Number(b.includes(": ")) || a.localeCompare(b));
  const x = { field: "t", type: "quantitative", title: "seconds since the run started", scale: { domain: [0, endT / 1000] } } as const;
  const shading = [
    { data: { values: downtime }, mark: { type: "rect", color: "#d62728", opacity: 0.08 }, encoding: { x: { field: "start", type: "quantitative" }, x2: { field: "end" } } },
    { data: { values: faults }, mark: { type: "rect", opacity: 0.12 }, encoding: { x: { field: "start", type: "quantitative" }, x2: { field: "end" }, color: { field: "color", type: "nominal", scale: null } } },
    { data: { values: faults }, mark: { type: "rule", strokeWidth: 2 }, encoding: { x: { field: "start", type: "quantitative" }, color: { field: "color", type: "nominal", scale: null } } },
  ];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: { font: "system-ui, sans-serif", axis: { labelFontSize: 11, titleFontSize: 11 }, view: { stroke: "#ddd" } },
    vconcat: [
      {
        title: { text: "Every probe operation, by outcome; faults and actions marked, downtime shaded", anchor: "start", fontSize: 13 },
        width: WIDTH,
        height: Math.max(60, rows.length * 26 + 36),
        layer: [
          ...shading,
          {
            data: { values: faults },
            mark: { type: "text", align: "left", dx: 3, baseline: "top", fontSize: 10, fontWeight: "bold" },
            encoding: {
              x: { field: "start", type: "quantitative" },
              y: { field: "line", type: "quantitative", scale: { type: "linear", domain: [0, 3], range: [2, 38] }, axis: null },
              text: { field: "label" },
              color: { field: "color", type: "nominal", scale: null },
            },
          },
          {
            data: { values: points },
            mark: { type: "tick", thickness: 1.5, size: 16 },
            encoding: {
              x,
              y: { field: "row", type: "nominal", title: null, sort: rows },
              color: { field: "outcome", type: "nominal", title: "outcome", scale: { domain: Object.keys(OUTCOME_COLORS), range: Object.values(OUTCOME_COLORS) } },
            },
          },
        ],
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
            encoding: { x, y: { field: "latency", type: "quantitative", scale: { type: "log" }, title: "ms" }, shape: { field: "probe", type: "nominal", title: "probe" }, color: { field: "outcome", type: "nominal", legend: null, scale: { domain: Object.keys(OUTCOME_COLORS), range: Object.values(OUTCOME_COLORS) } } },
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
          x: { field: "start", type: "quantitative", title: "seconds since the run started", scale: { domain: [0, endT / 1000] } },
          x2: { field: "end" },
          y: { field: "node", type: "nominal", title: null },
          color: { field: "role", type: "nominal", title: "role", scale: { domain: Object.keys(ROLE_COLORS), range: Object.values(ROLE_COLORS) } },
        },
      },
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
