/**
 * Lost writes: acknowledged ids missing from the final read of the final primary. A write whose
 * outcome is unknown (info, or invoked and never completed because the harness died) may or may
 * not have committed, so it is neither lost nor safe; we only report how many turned out to be
 * committed. A write that failed definitely yet is present is an anomaly and invalidates the run.
 *
 * Each writes probe is matched with the last final read for that probe name; several writes
 * probes are summed (their ids are per probe, so `lostIds` may then repeat an id).
 * No final read (or a failed one) means we cannot say: the loss counts are null and the check is
 * `unknown`, so a gate on them fails without the checker being called broken.
 */
import { rangesContain, type FinalReadEvent, type HistoryEvent } from "../history/events.ts";
import type { Metrics } from "../result.ts";
import type { Checker, CheckerOutput } from "./checker.ts";
import { viewOf } from "./operations.ts";

export type WritesMetrics = Metrics["writes"];

export const writesChecker: Checker<WritesMetrics> = {
  empty: () => ({
    attempted: 0,
    acknowledged: 0,
    failed: 0,
    unknown: 0,
    lostAcknowledged: null,
    lostIds: [],
    unknownCommitted: null,
    failedButPresent: null,
    finalReadNode: null,
  }),
  check(events: readonly HistoryEvent[]): CheckerOutput<WritesMetrics> {
    const view = viewOf(events);
    const probes = view.probes.filter((probe) => probe.type === "write").map((probe) => probe.name);
    if (probes.length === 0) return { valid: "unknown", metrics: writesChecker.empty(), reason: "no writes probe in this run" };

    const finalReads = new Map<string, FinalReadEvent>();
    for (const event of events) if (event.kind === "final-read") finalReads.set(event.probe, event);

    const metrics = writesChecker.empty();
    const problems: string[] = [];
    let unreadable = false;
    let lost = 0;
    let unknownCommitted = 0;
    let failedButPresent = 0;
    for (const probe of probes) {
      const acknowledged: number[] = [];
      const failed: number[] = [];
      const unknown: number[] = [];
      for (const operation of view.operations) {
        if (operation.probe !== probe || typeof operation.value !== "number") continue;
        if (operation.outcome === "ok") acknowledged.push(operation.value);
        else if (operation.outcome === "fail") failed.push(operation.value);
        else unknown.push(operation.value);
      }
      metrics.attempted += acknowledged.length + failed.length + unknown.length;
      metrics.acknowledged += acknowledged.length;
      metrics.failed += failed.length;
      metrics.unknown += unknown.length;

      const read = finalReads.get(probe);
      metrics.finalReadNode ??= read?.node ?? null;
      if (!read || !read.ok) {
        unreadable = true;
        problems.push(read ? `the final read of "${probe}" failed (${read.error ?? "no error recorded"})` : `no final read of "${probe}" was recorded`);
        continue;
      }
      const present = (id: number) => rangesContain(read.ranges, id);
      const lostIds = acknowledged.filter((id) => !present(id));
      metrics.lostIds.push(...lostIds);
      lost += lostIds.length;
      unknownCommitted += unknown.filter(present).length;
      const anomalies = failed.filter(present);
      failedButPresent += anomalies.length;
      if (lostIds.length > 0) problems.push(`${lostIds.length} acknowledged write(s) of "${probe}" missing from the final read on ${read.node}`);
      if (anomalies.length > 0) problems.push(`${anomalies.length} failed write(s) of "${probe}" are present on ${read.node}`);
    }
    metrics.lostIds.sort((a, b) => a - b);

    if (unreadable) {
      // Totals are unknowable, but a loss found in another probe is still a loss: false beats unknown.
      const found = lost + failedButPresent > 0;
      const partial = { ...metrics, lostAcknowledged: null, unknownCommitted: null, failedButPresent: null };
      return { valid: found ? false : "unknown", metrics: partial, reason: problems.join("; ") };
    }
    const result = { ...metrics, lostAcknowledged: lost, unknownCommitted, failedButPresent };
    return problems.length > 0 ? { valid: false, metrics: result, reason: problems.join("; ") } : { valid: true, metrics: result };
  },
};
