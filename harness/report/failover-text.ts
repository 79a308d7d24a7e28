/**
 * How the reports word the end of the write outage: a failover ("failover 1.16 s → standby") or a
 * recovery on the same primary ("no failover: recovered on the same primary in 3.03 s"), never the
 * one for the other. One place, so the summary, report.md, report.html and junit.xml agree.
 */
import { formatMs } from "../duration.ts";
import type { Metrics, RunResult } from "../result.ts";
import { formatMsWithin } from "./format.ts";

type Outage = Pick<Metrics, "failover" | "recovery">;

const MECHANISM: Record<NonNullable<Metrics["anatomy"]["mechanism"]>, string> = {
  pgdrill: "pgdrill's promote",
  operator: "the operator",
  "ha-manager": "the HA manager",
  switchover: "a switchover",
};

/** The terminal summary's part: "failover 1.16 s → standby", "no failover: recovered on the same primary in 3.03 s". */
export function outageHeadline({ failover, recovery }: Outage): string {
  if (failover.faultAtMs === null && failover.happened === false) return "no fault injected";
  if (recovery.latencyMs === null) return "did not recover";
  if (failover.happened === true)
    return `failover ${formatMs(failover.latencyMs)}${failover.newPrimary ? ` → ${failover.newPrimary}${serverMove(failover)}` : ""}`;
  if (failover.happened === false)
    return recovery.latencyMs === 0
      ? "no write outage, no failover"
      : `no failover: recovered on the same primary in ${formatMs(recovery.latencyMs)}`;
  return "failover n/a";
}

/**
 * " (server 10.0.0.5:6002 → 10.0.0.6:6001)": which server took over, when the node's name does not
 * say (an endpoint's "primary" stays "primary" while the server behind it changes).
 */
export function serverMove(failover: Outage["failover"]): string {
  const { originalPrimaryServer: from, newPrimaryServer: to } = failover;
  return from && to ? ` (server ${from} → ${to})` : "";
}

/**
 * "1.16 s +0/−50.0 ms": the time measured to the first acknowledged write (writes were possible by
 * then), and how much earlier they may have become possible (not before the last refused write was
 * sent). Just the time when the bounds agree or are unknown.
 */
export function withBounds(latencyMs: number | null, lowerMs: number | null, upperMs: number | null): string {
  // The same notation as downtime's; a failover's upper bound is its measured time, so it reads "+0/−x".
  return formatMsWithin(latencyMs, lowerMs, upperMs);
}

/** report.md's and report.html's failover row: what happened, or why there was none. */
export function failoverDetail({ failover, recovery }: Outage): string {
  if (failover.faultAtMs === null) return failover.happened === false ? "none: no fault injected" : "n/a";
  const from = `after "${failover.faultLabel ?? "?"}" at ${formatMs(failover.faultAtMs)}`;
  if (recovery.latencyMs === null) return `did not recover ${from}`;
  if (failover.happened === true) {
    // The evidence names the servers when the names did not change ("server … → … behind primary").
    const moved = `${failover.originalPrimary ?? "?"} → ${failover.newPrimary ?? "?"}`;
    const how = failover.evidence && !failover.evidence.startsWith("node ") ? ` (${failover.evidence})` : "";
    return `${withBounds(failover.latencyMs, failover.latencyLowerMs, failover.latencyUpperMs)} ${from}: ${moved}${how}`;
  }
  if (recovery.latencyMs === 0) return `none: no write outage ${from}`;
  return `none: recovered on the same primary${recovery.node ? ` (${recovery.node})` : ""} in ${formatMs(recovery.latencyMs)}`;
}

/** report.md's and report.html's recovery row: fault → first acknowledged write, whoever served it. */
export function recoveryDetail({ failover, recovery }: Outage): string {
  if (failover.faultAtMs === null) return recovery.latencyMs === 0 ? "no fault injected" : "n/a";
  const from = `after "${failover.faultLabel ?? "?"}" at ${formatMs(failover.faultAtMs)}`;
  if (recovery.latencyMs === null) return `did not recover ${from}`;
  if (recovery.latencyMs === 0) return `no write outage ${from}`;
  return (
    `${withBounds(recovery.latencyMs, recovery.latencyLowerMs, recovery.latencyUpperMs)} ${from}` +
    `${recovery.node ? `, on ${recovery.node}` : ""}`
  );
}

/**
 * report.md's anatomy line: "detection 1.00 s (pgdrill's promote) → promotion 152 ms → clients: writes
 * 108 ms (rw, a held connection), pooled 453 ms (pooler, fresh connections)", with "→ read-only 30.0 s"
 * after the promotion when the new primary refused writes that long; null without a failover.
 */
export function anatomyLine(anatomy: Metrics["anatomy"]): string | null {
  if (!anatomy.observed) return null;
  const who = anatomy.mechanism ? ` (${MECHANISM[anatomy.mechanism]})` : "";
  const detection = anatomy.detectionMs === null ? "detection not seen" : `detection ${formatMs(anatomy.detectionMs)}${who}`;
  const promotion =
    anatomy.promotionMs !== null
      ? `promotion ${formatMs(anatomy.promotionMs)}`
      : anatomy.promotedAfterMs !== null
        ? `promoted after ${formatMs(anatomy.promotedAfterMs)}`
        : "promotion not seen";
  // Promoted is not writable: pg_auto_failover holds a new primary read-only up to its demote timeout.
  const readOnly = anatomy.readOnlyMs ? ` → read-only ${formatMs(anatomy.readOnlyMs)}` : "";
  const clients = anatomy.clients.map((client) => {
    const time =
      client.recoveryMs !== null
        ? formatMs(client.recoveryMs)
        : client.recoveredAfterMs !== null
          ? `${formatMs(client.recoveredAfterMs)} after the fault`
          : "never";
    return `${client.probe} ${time} (${client.via})`;
  });
  return `${detection} → ${promotion}${readOnly} → clients: ${clients.length > 0 ? clients.join(", ") : "none"}`;
}

/** Why there is nothing to draw, for people: the result's own words on the outage when it has them. */
export function anatomyAbsence(result: RunResult): string {
  // A result.json analysed before pgdrill measured the anatomy has none; re-analysing gives it one.
  const anatomy = result.metrics.anatomy as Metrics["anatomy"] | undefined;
  if (anatomy === undefined)
    return "No anatomy in this result: it was analysed before pgdrill measured one; `pgdrill report <run-dir>` re-analyses it.";
  const { failover, recovery } = result.metrics;
  if (failover.faultAtMs === null) return "No anatomy: no fault was injected, so there was no failover to take apart.";
  if (failover.happened === false) {
    return recovery.latencyMs === 0
      ? "No anatomy: there was no write outage and no failover."
      : `No anatomy: no failover — writes came back on the same primary${recovery.node ? ` (${recovery.node})` : ""}, a ` +
          `recovery, not a failover.`;
  }
  if (failover.happened === null)
    return "No anatomy: whether the primary changed cannot be said (the writes did not recover, or nothing was measured).";
  return "No anatomy: a failover happened, but the History holds no observation of when it was detected or promoted.";
}

/** The footnote the error bars need once per report. */
export const BOUNDS_NOTE =
  "Failover and recovery times run from the fault to the first acknowledged write after the outage (+0: writes were possible " +
  "by then). Writes may have become possible up to x earlier (−x), but not before the last refused write was sent.";
