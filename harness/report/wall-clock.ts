/**
 * Wall-clock times for the reports, so a drill lines up with dashboards and logs: the History
 * measures on a monotonic clock from t = 0, and run-start records the wall clock of that instant.
 * Times are shown in UTC, as most dashboards can be set to, with milliseconds.
 */
import type { RunStartEvent } from "../history/events.ts";

export interface WallClock {
  /** t (ms since the run started) → "2026-11-25 02:36:19.983 UTC"; null when the run's start is unknown. */
  at(tMs: number): string | null;
  /** The same, time of day only ("02:36:19.983"), for places short of room. */
  timeOfDay(tMs: number): string | null;
  /** Epoch ms of t = 0, or null. */
  readonly originMs: number | null;
}

/** The wall clock of a run, from its run-start (absent or unparsable: every time is null). */
export function wallClockOf(runStart: Pick<RunStartEvent, "wallClock"> | null | undefined): WallClock {
  const parsed = runStart ? Date.parse(runStart.wallClock) : Number.NaN;
  const originMs = Number.isFinite(parsed) ? parsed : null;
  const iso = (tMs: number) => (originMs === null || !Number.isFinite(tMs) ? null : new Date(originMs + tMs).toISOString());
  return {
    originMs,
    at: (tMs) => {
      const text = iso(tMs);
      return text === null ? null : `${text.slice(0, 10)} ${text.slice(11, 23)} UTC`;
    },
    timeOfDay: (tMs) => iso(tMs)?.slice(11, 23) ?? null,
  };
}
