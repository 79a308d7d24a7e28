/**
 * The restore on report.html's timeline: a rule where the disaster struck and where each phase of a
 * restore happened (started, restored, ready, a standby streaming again, failed), labelled above the
 * alerts' labels near the foot of the outcomes chart. Reshaping the History's `backup` events only;
 * the checker judges them.
 */
import type { HistoryEvent } from "../history/events.ts";

export const RESTORE_COLORS = {
  disaster: "#67000d",
  started: "#6baed6",
  restored: "#3182bd",
  ready: "#08519c",
  replica: "#756bb1",
  failed: "#d62728",
} as const;

interface RestoreMarker {
  start: number;
  text: string;
  color: string;
  line: number;
}

/** One marker per disaster and restore phase, in time order. */
export function restoreMarkers(events: readonly HistoryEvent[]): RestoreMarker[] {
  const markers: Array<Omit<RestoreMarker, "line">> = [];
  for (const event of events) {
    if (event.kind !== "backup") continue;
    if (event.subject === "disaster")
      markers.push({ start: event.t / 1000, text: `disaster: ${event.disaster}`, color: RESTORE_COLORS.disaster });
    if (event.subject === "restore")
      markers.push({ start: event.t / 1000, text: `restore ${event.phase} (${event.node})`, color: RESTORE_COLORS[event.phase] });
  }
  return markers.sort((a, b) => a.start - b.start).map((marker, index) => ({ ...marker, line: index % 2 }));
}

/** The Vega-Lite layers (rules, and their labels on two staggered lines) for the outcomes chart, `height` tall; none without a restore. */
export function restoreLayers(events: readonly HistoryEvent[], height: number): object[] {
  const markers = restoreMarkers(events);
  if (markers.length === 0) return [];
  const color = { field: "color", type: "nominal", scale: null, legend: null } as const;
  // Above the alerts' two lines (height − 14 and − 25), which sit above the heals' labels at the foot.
  const labels = (line: number) => ({
    name: `restore_labels_${line}`,
    data: { values: markers.filter((marker) => marker.line === line) },
    mark: { type: "text", align: "left", dx: 3, baseline: "bottom", fontSize: 9, fontWeight: "bold" },
    encoding: { x: { field: "start", type: "quantitative" }, y: { value: height - 36 - 11 * line }, text: { field: "text" }, color },
  });
  return [
    {
      name: "restore",
      data: { values: markers },
      mark: { type: "rule", strokeWidth: 1.5, strokeDash: [6, 2] },
      encoding: { x: { field: "start", type: "quantitative" }, color },
    },
    labels(0),
    labels(1),
  ];
}
