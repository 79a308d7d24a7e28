/**
 * Downtime: for each probe (role probes excepted), the maximal runs of consecutive non-ok
 * operations in invoke order. A window opens at the invoke of its first non-ok operation and
 * closes at the completion of the next ok one: the moment a client that tried again had its
 * success. (Closing at that operation's invoke instead under-read the outage by the time a fresh
 * connection to the new primary takes, ~30 ms here: the precision benchmark showed it.) A
 * window that never closes is `open` and ends at the probe's last observation (its latest
 * completion), so it measures only what was seen, not the teardown after it. Totals come from the
 * headline probe; `windows` lists every probe's.
 */
import type { HistoryEvent } from "../history/events.ts";
import type { DowntimeWindow, Metrics } from "../result.ts";
import type { Checker, CheckerOutput } from "./checker.ts";
import { completedOf, viewOf, type CompletedOperation } from "./operations.ts";

export type DowntimeMetrics = Metrics["downtime"];

export const downtimeChecker: Checker<DowntimeMetrics> = {
  empty: () => ({ windows: [], totalMs: 0, longestMs: 0, byProbe: {} }),
  check(events: readonly HistoryEvent[]): CheckerOutput<DowntimeMetrics> {
    const view = viewOf(events);
    const windows = view.probes
      .filter((probe) => probe.type !== "role")
      .flatMap((probe) => downtimeWindows(probe.name, completedOf(view, probe.name)));
    const byProbe: DowntimeMetrics["byProbe"] = {};
    for (const probe of view.probes.filter((each) => each.type !== "role")) byProbe[probe.name] = totals(windows.filter((window) => window.probe === probe.name));
    const headline = view.headline;
    if (!headline) return { valid: "unknown", metrics: { ...downtimeChecker.empty(), windows, byProbe }, reason: "no select1 or writes probe operations recorded" };
    return { valid: true, metrics: { windows, ...totals(windows.filter((window) => window.probe === headline.name)), byProbe } };
  },
};

function totals(windows: readonly DowntimeWindow[]): { totalMs: number; longestMs: number } {
  return {
    totalMs: windows.reduce((sum, window) => sum + window.durationMs, 0),
    longestMs: windows.reduce((longest, window) => Math.max(longest, window.durationMs), 0),
  };
}

/** `operations` are one probe's completed operations in invoke order. */
export function downtimeWindows(probe: string, operations: readonly CompletedOperation[]): DowntimeWindow[] {
  const windows: DowntimeWindow[] = [];
  const lastSeen = operations.reduce((latest, operation) => Math.max(latest, operation.completeT), 0);
  let current: { startMs: number; failures: number } | null = null;
  const close = (endMs: number, open: boolean) => {
    if (!current) return;
    windows.push({ probe, startMs: current.startMs, endMs, durationMs: endMs - current.startMs, open, failures: current.failures });
    current = null;
  };
  for (const operation of operations) {
    if (operation.outcome === "ok") close(operation.completeT, false);
    else if (current) current.failures += 1;
    else current = { startMs: operation.invokeT, failures: 1 };
  }
  close(lastSeen, true);
  return windows;
}
