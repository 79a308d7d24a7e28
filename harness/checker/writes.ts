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
import type { HistoryContext } from "../history/context.ts";
import type { FinalReadEvent } from "../history/events.ts";
import { rangesContain } from "../history/events.ts";
import type { Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import type { Operation } from "../history/operations.ts";

export type WritesMetrics = Metrics["writes"];

/** One writes probe's tally. Ids are looked up in the final read as they come, not kept. */
interface ProbeTally {
  read: FinalReadEvent | undefined;
  attempted: number;
  acknowledged: number;
  failed: number;
  unknown: number;
  lostIds: number[];
  unknownCommitted: number;
  failedButPresent: number;
}

export const writesChecker = defineChecker<WritesMetrics>({
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
  start(context) {
    // The final read is in the context, so each write is judged as it streams past.
    const finalReads = finalReadsByProbe(context);
    const probes = new Map<string, ProbeTally>();
    return {
      operation(operation: Operation) {
        if (operation.type !== "write") return;
        let tally = probes.get(operation.probe);
        if (!tally) {
          tally = {
            read: finalReads.get(operation.probe),
            attempted: 0,
            acknowledged: 0,
            failed: 0,
            unknown: 0,
            lostIds: [],
            unknownCommitted: 0,
            failedButPresent: 0,
          };
          probes.set(operation.probe, tally);
        }
        const id = operation.value;
        if (typeof id !== "number") return;
        tally.attempted += 1;
        const present = tally.read?.ok === true && rangesContain(tally.read.ranges, id);
        if (operation.outcome === "ok") {
          tally.acknowledged += 1;
          if (tally.read?.ok && !present) tally.lostIds.push(id);
        } else if (operation.outcome === "fail") {
          tally.failed += 1;
          if (present) tally.failedButPresent += 1;
        } else {
          tally.unknown += 1;
          if (present) tally.unknownCommitted += 1;
        }
      },
      finish(): CheckerOutput<WritesMetrics> {
        if (probes.size === 0) return { valid: "unknown", metrics: writesChecker.empty(), reason: "no writes probe in this run" };
        const metrics = writesChecker.empty();
        const problems: string[] = [];
        let unreadable = false;
        let lost = 0;
        let unknownCommitted = 0;
        let failedButPresent = 0;
        for (const [probe, tally] of probes) {
          metrics.attempted += tally.attempted;
          metrics.acknowledged += tally.acknowledged;
          metrics.failed += tally.failed;
          metrics.unknown += tally.unknown;
          const read = tally.read;
          metrics.finalReadNode ??= read?.node ?? null;
          if (!read || !read.ok) {
            unreadable = true;
            problems.push(
              read
                ? `the final read of "${probe}" failed (${read.error ?? "no error recorded"})`
                : `no final read of "${probe}" was recorded`,
            );
            continue;
          }
          metrics.lostIds.push(...tally.lostIds);
          lost += tally.lostIds.length;
          unknownCommitted += tally.unknownCommitted;
          failedButPresent += tally.failedButPresent;
          if (tally.lostIds.length > 0)
            problems.push(`${tally.lostIds.length} acknowledged write(s) of "${probe}" missing from the final read on ${read.node}`);
          if (tally.failedButPresent > 0)
            problems.push(`${tally.failedButPresent} failed write(s) of "${probe}" are present on ${read.node}`);
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
  },
});

/** Each writes probe's final read: the last recorded for its name (the restore checker judges against the same). */
export function finalReadsByProbe(context: HistoryContext): Map<string, FinalReadEvent> {
  const reads = new Map<string, FinalReadEvent>();
  for (const event of context.events) if (event.kind === "final-read") reads.set(event.probe, event);
  return reads;
}
