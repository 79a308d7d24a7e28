/**
 * Clients compared: what each client path (a probe: its driver, endpoint and way of connecting)
 * went through in the same drill. Drivers differ most exactly at a failover (one reconnects at
 * once, one hangs on a dead socket, one keeps reaching a read-only node), so the report puts them
 * side by side and a gate can hold the worst of them to a bound.
 *
 * It reads the shared downtime windows (downtime.ts) and adds what the windows do not say: the
 * errors each client saw, by kind (a write refused by a read-only node, an operation abandoned
 * because it hung past its timeout), and when it was served again after the fault.
 */
import type { HistoryContext } from "../history/context.ts";
import type { ProbeRecord } from "../history/events.ts";
import { isCompleted, type Operation } from "../history/operations.ts";
import type { ClientSummary, Metrics } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import { windowPass, type ProbeReading } from "./downtime.ts";
import { clientPath, DEFAULT_DRIVER } from "./probes.ts";

export type ClientsMetrics = Metrics["clients"];

/** SQLSTATE 25006: "cannot execute … in a read-only transaction" — a node that is not (yet) writable. */
const READ_ONLY_SQLSTATE = "25006";
const READ_ONLY_TEXT = /read-only transaction/i;
/** The errors kept per client, most frequent first. */
const TOP_ERRORS = 3;

export const clientsChecker = defineChecker<ClientsMetrics>({
  empty: () => ({ probes: [], worstDowntimeMs: null, downtimeSpreadMs: null, worstRecoveredAfterMs: null, timedOut: 0, readOnlyErrors: 0 }),
  start(context) {
    const windows = windowPass(context);
    const tallies = new Map<string, ErrorTally>();
    return {
      operation(operation: Operation) {
        windows.operation(operation);
        if (operation.type === "role" || !isCompleted(operation) || operation.outcome === "ok") return;
        let tally = tallies.get(operation.probe);
        if (!tally) tallies.set(operation.probe, (tally = new ErrorTally()));
        tally.add(operation);
      },
      finish(): CheckerOutput<ClientsMetrics> {
        const records = new Map((context.runStart?.probes ?? []).map((record) => [record.name, record]));
        // In the scenario's order (its run-start record), not the order of first operations, which agents' start-up shuffles.
        const order = [...records.keys()];
        const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
        const probes = windows
          .result()
          .probes.map((reading) => summarize(reading, records.get(reading.name), tallies.get(reading.name), context))
          .sort((a, b) => rank(a.probe) - rank(b.probe));
        if (probes.length === 0) return { valid: "unknown", metrics: clientsChecker.empty(), reason: "no select1 or writes probe ran" };
        return { valid: true, metrics: totals(probes) };
      },
    };
  },
});

class ErrorTally {
  timedOut = 0;
  readOnly = 0;
  readonly texts = new Map<string, number>();

  add(operation: Operation): void {
    if (operation.timedOut) this.timedOut += 1;
    if (operation.sqlstate === READ_ONLY_SQLSTATE || (operation.error !== null && READ_ONLY_TEXT.test(operation.error))) this.readOnly += 1;
    const text = errorKind(operation);
    this.texts.set(text, (this.texts.get(text) ?? 0) + 1);
  }
}

/** Errors grouped by what they say, not by their details (addresses and ids vary op by op). */
function errorKind(operation: Operation): string {
  if (operation.timedOut) return "timed out (hung past its timeout)";
  const text = (operation.error ?? "no error text").split("\n")[0]!;
  // The SQLSTATE or error code leads and is kept; addresses and numbers after it vary op by op.
  const [code, ...rest] = text.split(" ");
  const detail = rest
    .join(" ")
    .replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, "<host>")
    .replace(/\b\d{3,}\b/g, "<n>");
  return `${code}${detail ? ` ${detail}` : ""}`.slice(0, 120);
}

function summarize(reading: ProbeReading, record: ProbeRecord | undefined, tally: ErrorTally | undefined, context: HistoryContext) {
  const windows = reading.timeline.windows;
  const downtimeMs = windows.reduce((sum, window) => sum + window.durationMs, 0);
  const longestMs = windows.reduce((longest, window) => Math.max(longest, window.durationMs), 0);
  const summary: ClientSummary = {
    probe: reading.name,
    type: reading.type === "write" ? "write" : "select1",
    driver: record?.driver ?? DEFAULT_DRIVER,
    via: clientPath(record, { withDriver: false }),
    ok: reading.counts.ok,
    fail: reading.counts.fail,
    info: reading.counts.info,
    downtimeMs,
    longestMs,
    recoveredAfterMs: recoveredAfter(reading, context.firstDisruptionAt),
    timedOut: tally?.timedOut ?? 0,
    readOnlyErrors: tally?.readOnly ?? 0,
    errors: tally ? topErrors(tally.texts) : [],
  };
  return summary;
}

/**
 * Fault → the end of this client's last outage that was still going at or after the fault: when it was served again for good.
 * 0 when it saw no outage after the fault; null when its last outage never closed or no fault was injected.
 */
function recoveredAfter(reading: ProbeReading, faultAt: number | null): number | null {
  if (faultAt === null) return null;
  const after = reading.timeline.windows.filter((window) => window.endMs > faultAt);
  const last = after.at(-1);
  if (!last) return 0;
  return last.open ? null : Math.max(0, last.endMs - faultAt);
}

function topErrors(texts: Map<string, number>): ClientSummary["errors"] {
  return [...texts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP_ERRORS)
    .map(([text, count]) => ({ text, count }));
}

function totals(probes: ClientSummary[]): ClientsMetrics {
  const downtimes = probes.map((probe) => probe.downtimeMs);
  const recovered = probes.map((probe) => probe.recoveredAfterMs);
  return {
    probes,
    worstDowntimeMs: Math.max(...downtimes),
    downtimeSpreadMs: Math.max(...downtimes) - Math.min(...downtimes),
    worstRecoveredAfterMs: recovered.some((ms) => ms === null) ? null : Math.max(...(recovered as number[])),
    timedOut: probes.reduce((sum, probe) => sum + probe.timedOut, 0),
    readOnlyErrors: probes.reduce((sum, probe) => sum + probe.readOnlyErrors, 0),
  };
}
