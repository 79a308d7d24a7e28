/**
 * report.html's table of what the drill did and when: the steady-state window, then each fault
 * (inject → heal) and action (start → end), in the order they began, with the seconds since the
 * run started and the wall-clock time in UTC, to find the same moments on a dashboard.
 */
import { formatMs } from "./format.ts";
import { escapeHtml as e, table } from "./html-parts.ts";
import type { ReportModel } from "./types.ts";
import { wallClockOf, type WallClock } from "./wall-clock.ts";

/** "02:36:19.983", with the full date and zone in its tooltip; "—" when the run's start is unknown. */
export function utcCell(clock: WallClock, tMs: number | null): string {
  if (tMs === null) return "—";
  const time = clock.timeOfDay(tMs);
  return time === null ? "—" : `<time title="${e(clock.at(tMs))}">${e(time)}</time>`;
}

/** A time since the run started, with the wall clock in its tooltip. */
export function relativeCell(clock: WallClock, tMs: number): string {
  const at = clock.at(tMs);
  return at === null ? `<span class="t">${e(formatMs(tMs))}</span>` : `<span class="t" title="${e(at)}">${e(formatMs(tMs))}</span>`;
}

const ENDINGS = {
  healed: "healed",
  open: "still active at the end: no heal recorded",
  "heal failed": "still active at the end: the heal failed",
  instant: "nothing to heal",
  "not injected": "not injected",
  ended: "ended",
  running: "no end recorded",
} as const;

export function renderEventsHtml({ context, drill }: ReportModel): string {
  const clock = wallClockOf(context.history.runStart);
  const rows: Array<{ at: number; cells: string[] }> = [];
  const steady = drill.steadyState;
  if (steady !== null) {
    const { check } = steady;
    const held = check?.ok ? `<span class="ok">held</span>` : `<span class="bad">failed</span>`;
    const outcome = check === null ? "not checked" : `${held} ${e(check.message)}`;
    rows.push({
      at: steady.startMs,
      cells: [
        "steady-state window",
        relativeCell(clock, steady.startMs),
        relativeCell(clock, steady.endMs),
        utcCell(clock, steady.startMs),
        utcCell(clock, steady.endMs),
        e(formatMs(steady.endMs - steady.startMs)),
        outcome,
      ],
    });
  }
  for (const step of drill.steps) {
    const instant = step.end === "instant" || step.end === "not injected" || step.end === "running";
    const closed = step.end === "healed" || step.end === "ended";
    // An inject that failed is its own ending; an action that failed still ended.
    const why = step.error ? ` (${e(step.error)})` : "";
    const ending =
      step.end === "not injected"
        ? `<span class="bad">not injected</span>${why}`
        : !step.ok
          ? `${e(ENDINGS[step.end])}: <span class="bad">failed</span>${why}`
          : `${e(ENDINGS[step.end])}${step.end === "heal failed" ? why : ""}`;
    rows.push({
      at: step.startMs,
      cells: [
        `${e(step.kind)} ${e(step.label)}`,
        relativeCell(clock, step.startMs),
        closed ? relativeCell(clock, step.endMs) : "—",
        utcCell(clock, step.startMs),
        closed ? utcCell(clock, step.endMs) : "—",
        instant ? "—" : e(closed ? formatMs(step.endMs - step.startMs) : `≥ ${formatMs(step.endMs - step.startMs)}`),
        ending,
      ],
    });
  }
  // In the order they began: an inject is recorded when it finishes, after actions that began later.
  rows.sort((a, b) => a.at - b.at);
  if (rows.length === 0) return `<div id="events"><p class="meta">No steady-state window, fault or action was recorded.</p></div>`;
  return table(
    "events",
    ["what", "from", "to", "from (UTC)", "to (UTC)", "lasted", "how it ended"],
    rows.map((row) => row.cells),
  );
}
