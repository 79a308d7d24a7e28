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
import { isCompleted, type CompletedOperation, type Operation } from "../history/operations.ts";
import type { DowntimeWindow, Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { ProbeList } from "./probes.ts";

export type DowntimeMetrics = Metrics["downtime"];

export const downtimeChecker = defineChecker<DowntimeMetrics>({
  empty: () => ({ windows: [], totalMs: 0, longestMs: 0, byProbe: {} }),
  start() {
    const probes = new ProbeList();
    const trackers = new Map<string, WindowTracker>();
    return {
      operation(operation: Operation) {
        if (operation.type === "role") return;
        probes.note(operation);
        let tracker = trackers.get(operation.probe);
        if (!tracker) trackers.set(operation.probe, (tracker = new WindowTracker(operation.probe)));
        if (isCompleted(operation)) tracker.add(operation);
      },
      finish(): CheckerOutput<DowntimeMetrics> {
        const byProbe: DowntimeMetrics["byProbe"] = {};
        const windows: DowntimeWindow[] = [];
        for (const probe of probes.all) {
          const own = trackers.get(probe.name)!.finish();
          windows.push(...own);
          byProbe[probe.name] = totals(own);
        }
        const headline = probes.headline;
        if (!headline) return { valid: "unknown", metrics: { ...downtimeChecker.empty(), windows, byProbe }, reason: "no select1 or writes probe operations recorded" };
        return { valid: true, metrics: { windows, ...byProbe[headline.name]!, byProbe } };
      },
    };
  },
});

function totals(windows: readonly DowntimeWindow[]): { totalMs: number; longestMs: number } {
  return {
    totalMs: windows.reduce((sum, window) => sum + window.durationMs, 0),
    longestMs: windows.reduce((longest, window) => Math.max(longest, window.durationMs), 0),
  };
}

/** One probe's windows, from its completed operations in invoke order. */
class WindowTracker {
  private readonly probe: string;
  private readonly windows: DowntimeWindow[] = [];
  private current: { startMs: number; failures: number } | null = null;
  private lastSeen = 0;

  constructor(probe: string) {
    this.probe = probe;
  }

  add(operation: CompletedOperation): void {
    if (operation.completeT > this.lastSeen) this.lastSeen = operation.completeT;
    if (operation.outcome === "ok") this.close(operation.completeT, false);
    else if (this.current) this.current.failures += 1;
    else this.current = { startMs: operation.invokeT, failures: 1 };
  }

  finish(): DowntimeWindow[] {
    this.close(this.lastSeen, true);
    return this.windows;
  }

  private close(endMs: number, open: boolean): void {
    if (!this.current) return;
    this.windows.push({ probe: this.probe, startMs: this.current.startMs, endMs, durationMs: endMs - this.current.startMs, open, failures: this.current.failures });
    this.current = null;
  }
}
