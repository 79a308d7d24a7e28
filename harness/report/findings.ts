/**
 * The findings too heavy to leave to the gates: two writable primaries, lost acknowledged writes, a
 * probe that never recovered. A run with no gates passes whatever it saw, so these are said in the
 * headline sentence, the terminal summary and the job summary (report.md) every time they occur.
 * Read from the metrics alone, so a result drawn without its History says them too.
 */
import type { Metrics } from "../result.ts";
import { formatMs } from "./format.ts";

export function heavyFindings(metrics: Metrics): string[] {
  const { splitBrain, writes, downtime, recovery, failover } = metrics;
  const found: string[] = [];
  if (splitBrain.detected) {
    const nodes = [...new Set(splitBrain.windows.flatMap((window) => window.nodes))].sort();
    const acknowledged = Object.entries(splitBrain.acknowledgedInOverlap ?? {})
      .map(([node, count]) => `${node} ${count}`)
      .join(", ");
    found.push(
      `split brain: ${nodes.length} writable primaries (${joinAnd(nodes)}) for ${formatMs(splitBrain.overlapMs)} ` +
        (acknowledged ? `(writes acknowledged in it: ${acknowledged})` : ""),
    );
  }
  const lost = writes.lostAcknowledged ?? 0;
  if (lost > 0) found.push(`${lost} acknowledged write${lost === 1 ? "" : "s"} lost`);
  // A probe still down when the drill ended never recovered; its window says since when.
  const stillDown = downtime.windows.filter((window) => window.open);
  for (const window of stillDown) found.push(`${window.probe} never recovered (down from ${formatMs(window.startMs)} to the end)`);
  if (stillDown.length === 0 && recovery.latencyMs === null && failover.faultAtMs !== null)
    found.push(`writes never recovered after "${failover.faultLabel ?? "?"}"`);
  return found;
}

/**
 * "writes 5.00 s": the writes' own downtime, when it was far longer than the headline probe's
 * (over twice as long and over a second more), as a postmaster kill under synchronous replication
 * leaves reads back in 352 ms and writes blocked for 5 s; null otherwise.
 */
export function writesFarLonger(metrics: Metrics, writeProbes: readonly string[]): string | null {
  const { availability, downtime } = metrics;
  const headline = availability.probe === null ? undefined : downtime.byProbe[availability.probe];
  if (headline === undefined || writeProbes.includes(availability.probe!)) return null;
  const longest = writeProbes
    .map((probe) => ({ probe, totals: downtime.byProbe[probe] }))
    .filter((entry) => entry.totals !== undefined)
    .sort((a, b) => b.totals!.totalMs - a.totals!.totalMs)[0];
  if (!longest) return null;
  const writesMs = longest.totals!.totalMs;
  if (writesMs <= 2 * headline.totalMs || writesMs - headline.totalMs <= 1000) return null;
  return `writes were down ${formatMs(writesMs)} (${longest.probe})`;
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
