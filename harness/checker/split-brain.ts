/**
 * Split brain: two or more nodes accepting writes at once. Each node's role sample holds until that
 * node's next sample (its last one until the last role sample of the run); the windows are where two
 * or more distinct nodes' writable-primary samples hold together. Sampling makes this coarse, by up
 * to one role interval per edge, which is why `overlapMs` is a metric to gate on rather than a yes/no
 * alone. Promoted is not writable: a node out of recovery with `transaction_read_only` on (as
 * pg_auto_failover keeps a new primary for up to its demote timeout) refuses writes, so two promoted
 * nodes of which at most one is writable are no split brain; their read-only stretches are listed,
 * and the check's note names them. Each window counts the writes each node acknowledged in it: an old
 * primary under synchronous replication may accept SQL for seconds yet commit nothing a client saw.
 */
import type { Metrics, RoleChange } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import type { Operation } from "../history/operations.ts";
import { RoleTimeline } from "./roles.ts";

export type SplitBrainMetrics = Metrics["splitBrain"];
type Window = SplitBrainMetrics["windows"][number];
/** A window before its writes are counted. */
type Overlap = Omit<Window, "acknowledged">;

export const splitBrainChecker = defineChecker<SplitBrainMetrics>({
  empty: () => ({ detected: false, overlapMs: 0, windows: [], acknowledgedInOverlap: {}, readOnlyPrimaries: [] }),
  start() {
    const timeline = new RoleTimeline();
    const acks = new AcknowledgedWrites();
    return {
      operation: (operation: Operation) => {
        timeline.add(operation);
        acks.add(operation);
      },
      finish(): CheckerOutput<SplitBrainMetrics> {
        if (timeline.samples === 0) return { valid: "unknown", metrics: splitBrainChecker.empty(), reason: "no role probe in this run" };
        const changes = timeline.changes();
        const end = timeline.lastSampleT;
        const writable = overlaps(intervals(changes, end, (sample) => sample.role === "primary" && !sample.readOnly));
        const windows = writable.map((window) => ({ ...window, acknowledged: acks.within(window) }));
        const overlapMs = windows.reduce((sum, window) => sum + (window.endMs - window.startMs), 0);
        const readOnly = intervals(changes, end, (sample) => sample.role === "primary" && sample.readOnly === true);
        const readOnlyPrimaries = readOnly.map(({ node, start, end }) => ({ node, startMs: start, endMs: end }));
        const acknowledgedInOverlap = sumByNode(windows);
        const metrics = { detected: windows.length > 0, overlapMs, windows, acknowledgedInOverlap, readOnlyPrimaries };
        if (metrics.detected) {
          const first = windows[0]!;
          const reason =
            `${first.nodes.join(" and ")} were both writable primaries from ${first.startMs} ms (${overlapMs} ms in all); ` +
            `writes acknowledged in the overlap: ${Object.entries(acknowledgedInOverlap)
              .map(([node, count]) => `${node} ${count}`)
              .join(", ")}`;
          return { valid: false, metrics, reason };
        }
        const promoted = overlaps(intervals(changes, end, (sample) => sample.role === "primary"));
        if (promoted.length === 0) return { valid: true, metrics };
        const first = promoted[0]!;
        const stretches = readOnlyPrimaries.map((stretch) => `${stretch.node} from ${stretch.startMs} to ${stretch.endMs} ms`).join(", ");
        return {
          valid: true,
          metrics,
          reason:
            `no split brain: ${first.nodes.join(" and ")} were both promoted from ${first.startMs} ms, but at most one accepted ` +
            `writes (read-only: ${stretches})`,
        };
      },
    };
  },
});

/** The acknowledged writes' times by node, kept as two flat arrays: a long drill acknowledges a great many. */
class AcknowledgedWrites {
  private readonly times: number[] = [];
  private readonly nodes: string[] = [];

  add(operation: Operation): void {
    if (operation.type !== "write" || operation.outcome !== "ok" || operation.completeT === null || operation.node === null) return;
    this.times.push(operation.completeT);
    this.nodes.push(operation.node);
  }

  /** Each of the window's nodes, with the writes it acknowledged inside it (zero included). */
  within(window: Overlap): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(window.nodes.map((node) => [node, 0]));
    for (let i = 0; i < this.times.length; i++) {
      const t = this.times[i]!;
      const node = this.nodes[i]!;
      if (t >= window.startMs && t <= window.endMs && node in counts) counts[node]! += 1;
    }
    return counts;
  }
}

/** The windows' acknowledged writes summed by node, in node order. */
function sumByNode(windows: readonly Window[]): Record<string, number> {
  const totals = new Map<string, number>();
  for (const window of windows)
    for (const [node, count] of Object.entries(window.acknowledged)) totals.set(node, (totals.get(node) ?? 0) + count);
  return Object.fromEntries([...totals].sort(([a], [b]) => a.localeCompare(b)));
}

interface Interval {
  node: string;
  start: number;
  end: number;
}

/**
 * Per node, the stretches during which its latest sample `holds` (writable, promoted, read-only),
 * from the role changes (a sample that changed nothing cannot start or end one); the last runs to
 * the last sample.
 */
function intervals(samples: readonly RoleChange[], end: number, holds: (sample: RoleChange) => boolean): Interval[] {
  const open = new Map<string, number>();
  const found: Interval[] = [];
  for (const sample of samples) {
    const since = open.get(sample.node);
    if (holds(sample)) {
      if (since === undefined) open.set(sample.node, sample.t);
    } else if (since !== undefined) {
      found.push({ node: sample.node, start: since, end: sample.t });
      open.delete(sample.node);
    }
  }
  for (const [node, since] of open) found.push({ node, start: since, end });
  return found.filter((interval) => interval.end > interval.start);
}

/** Sweeps interval edges; a window is a maximal stretch with two or more nodes holding. */
function overlaps(intervals: Interval[]): Overlap[] {
  // Ends sort before starts at the same instant: a hand-over at one instant is not an overlap.
  const edges = intervals
    .flatMap((interval) => [
      { t: interval.start, node: interval.node, delta: 1 },
      { t: interval.end, node: interval.node, delta: -1 },
    ])
    .sort((a, b) => a.t - b.t || a.delta - b.delta);
  const active = new Map<string, number>();
  const windows: Overlap[] = [];
  let current: { startMs: number; nodes: Set<string> } | null = null;
  for (const edge of edges) {
    const count = (active.get(edge.node) ?? 0) + edge.delta;
    if (count > 0) active.set(edge.node, count);
    else active.delete(edge.node);
    if (active.size >= 2) {
      current ??= { startMs: edge.t, nodes: new Set() };
      for (const node of active.keys()) current.nodes.add(node);
    } else if (current) {
      if (edge.t > current.startMs) windows.push({ startMs: current.startMs, endMs: edge.t, nodes: [...current.nodes].sort() });
      current = null;
    }
  }
  return windows;
}
