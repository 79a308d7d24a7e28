/**
 * The alerts on report.html's timeline: a thin rule where Prometheus said an alert went pending,
 * firing or resolved, labelled low in the outcomes chart (faults label its top, marks its middle,
 * heals its foot). Reshaping the History's `alerting` events only; the checker judges them.
 */
import type { HistoryEvent } from "../history/events.ts";

export const ALERT_COLORS = { pending: "#fdae6b", firing: "#e6550d", resolved: "#31a354" } as const;
/** A flapping alert could draw hundreds; result.json and history.jsonl keep them all. */
const MAX_MARKERS = 40;

interface AlertMarker {
  start: number;
  text: string;
  color: string;
  line: number;
}

/** One marker per alert, state and moment (label sets changing together are one), in time order. */
export function alertMarkers(events: readonly HistoryEvent[]): AlertMarker[] {
  const seen = new Set<string>();
  const markers: AlertMarker[] = [];
  for (const event of events) {
    if (event.kind !== "alerting" || event.subject !== "alert" || event.from === "alertmanager" || !event.state || !event.alert) continue;
    const key = `${event.alert}\u0000${event.state}\u0000${event.t}`;
    if (seen.has(key)) continue;
    seen.add(key);
    markers.push({ start: event.t / 1000, text: `${event.alert} ${event.state}`, color: ALERT_COLORS[event.state], line: 0 });
  }
  return markers
    .sort((a, b) => a.start - b.start)
    .slice(0, MAX_MARKERS)
    .map((marker, index) => ({ ...marker, line: index % 2 }));
}

/** The Vega-Lite layers (rules, and their labels on two staggered lines) for the outcomes chart, `height` tall; none without alerts. */
export function alertLayers(events: readonly HistoryEvent[], height: number): object[] {
  const markers = alertMarkers(events);
  if (markers.length === 0) return [];
  const color = { field: "color", type: "nominal", scale: null, legend: null } as const;
  // A fixed y per line, not a scale: the chart's layers share their y scale with the probes' rows.
  const labels = (line: number) => ({
    name: `alert_labels_${line}`,
    data: { values: markers.filter((marker) => marker.line === line) },
    mark: { type: "text", align: "left", dx: 3, baseline: "bottom", fontSize: 9 },
    encoding: { x: { field: "start", type: "quantitative" }, y: { value: height - 14 - 11 * line }, text: { field: "text" }, color },
  });
  return [
    {
      name: "alerts",
      data: { values: markers },
      mark: { type: "rule", strokeWidth: 1, strokeDash: [2, 2] },
      encoding: { x: { field: "start", type: "quantitative" }, color },
    },
    labels(0),
    labels(1),
  ];
}
