/**
 * The timeline charts of report.html, as Vega-Lite specs rendered to SVG in Node (no browser, no
 * network), so the page is self-contained. Computing stays in the checkers: this only reshapes the
 * History and the result into rows to draw.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { isCompleted, viewOf } from "../checker/operations.ts";
import { FAULTS } from "../fault/faults.ts";
import type { HistoryEvent, RoleValue } from "../history/events.ts";
import type { RunResult } from "../result.ts";

/** At most this many failed or unknown operations are drawn (each one, below it). */
const MAX_POINTS = 20_000;
const WIDTH = 860;
export const OUTCOME_COLORS = { ok: "#2ca02c", fail: "#d62728", info: "#ff7f0e" } as const;
const ROLE_COLORS = { primary: "#1f77b4", standby: "#9ecae1", unreachable: "#d62728" } as const;

interface OpPoint {
  t: number;
  row: string;
  outcome: "ok" | "fail" | "info";
  latency: number;
  probe: string;
}

/**
 * The points the outcome and latency charts draw. Every failed and unknown operation is kept (up
 * to MAX_POINTS); ok ones are thinned to the slowest per row per pixel column, which is all a
 * chart WIDTH pixels wide can show — so a million-operation drill draws about as fast as a short one.
 */
export function operationPoints(events: readonly HistoryEvent[]): OpPoint[] {
  const view = viewOf(events);
  const columnMs = Math.max(1, view.lastT / WIDTH);
  // Per row and pixel column, the slowest ok operation: the latency chart keeps its spikes.
  const slowestOk = new Map<string, OpPoint>();
  const problems: OpPoint[] = [];
  // From the view: a streamed analysis keeps client operations there, not as events.
  for (const operation of view.operations) {
    if (!isCompleted(operation)) continue;
    const row = operation.type === "role" ? `${operation.probe}: ${operation.node ?? "?"}` : operation.probe;
    const point = { t: operation.completeT / 1000, row, outcome: operation.outcome, latency: Math.max(operation.latencyMs, 0.01), probe: operation.probe };
    if (operation.outcome !== "ok") {
      problems.push(point);
      continue;
    }
    const column = `${row}\u0000${Math.floor(operation.completeT / columnMs)}`;
    const kept = slowestOk.get(column);
    if (!kept || kept.latency < point.latency) slowestOk.set(column, point);
  }
  const keepEvery = Math.ceil(problems.length / MAX_POINTS);
  return [...slowestOk.values(), ...problems.filter((_, i) => i % keepEvery === 0)];
}

export function faultIntervals(events: readonly HistoryEvent[], endT: number) {
  const intervals: Array<{ start: number; end: number; label: string; color: string }> = [];
  for (const event of events) {
    if (event.kind === "fault" && event.phase === "inject" && event.ok) {
      const heal = events.find((e) => e.kind === "fault" && e.phase === "heal" && e.id === event.id);
      const pkg = FAULTS[event.fault as keyof typeof FAULTS];
      // kill and stop have nothing to heal: they are instants, drawn as a rule, not an interval.
      const end = pkg?.heal ? (heal?.t ?? endT) : event.t;
      intervals.push({ start: event.t / 1000, end: end / 1000, label: event.label, color: pkg?.color ?? "#7f7f7f" });
    }
    if (event.kind === "action" && event.phase === "start") {
      const end = events.find((e) => e.kind === "action" && e.phase === "end" && e.id === event.id);
      intervals.push({ start: event.t / 1000, end: (end?.t ?? event.t) / 1000, label: event.label, color: "#17becf" });
    }
  }
  // Labels of steps close together would overprint: stagger them on three lines.
  return intervals.map((interval, index) => ({ ...interval, line: index % 3 }));
}

function roleSegments(events: readonly HistoryEvent[], endT: number) {
  const segments: Array<{ node: string; role: keyof typeof ROLE_COLORS; start: number; end: number }> = [];
  const open = new Map<string, { role: keyof typeof ROLE_COLORS; start: number }>();
  for (const event of events) {
    if (event.kind !== "complete" || event.type !== "role" || !event.node) continue;
    const role = event.outcome !== "ok" ? "unreachable" : (event.value as RoleValue | undefined)?.primary ? "primary" : "standby";
    const current = open.get(event.node);
    if (current?.role === role) continue;
    if (current) segments.push({ node: event.node, role: current.role, start: current.start, end: event.t / 1000 });
    open.set(event.node, { role, start: event.t / 1000 });
  }
  for (const [node, current] of open) segments.push({ node, role: current.role, start: current.start, end: endT / 1000 });
  return segments;
}

/** One SVG with three charts sharing the time axis: outcomes, latency, and who was primary. */
export async function renderTimelineSvg(result: RunResult, events: readonly HistoryEvent[]): Promise<string> {
  const endT = viewOf(events).lastT;
  const points = operationPoints(events);
  const faults = faultIntervals(events, endT);
  const downtime = result.metrics.downtime.windows.map((w) => ({ start: w.startMs / 1000, end: w.endMs / 1000, probe: w.probe }));
  const roles = roleSegments(events, endT);
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
