/** Which probes a History's operations came from, and which of them the headline numbers follow. */
import type { OpType, ProbeRecord } from "../history/events.ts";
import type { Operation } from "../history/operations.ts";

export interface ProbeInfo {
  name: string;
  type: OpType;
}

/** The probes seen, in order of their first operation. */
export class ProbeList {
  private readonly probes = new Map<string, ProbeInfo>();

  note(operation: Operation): void {
    if (!this.probes.has(operation.probe)) this.probes.set(operation.probe, { name: operation.probe, type: operation.type });
  }

  get all(): ProbeInfo[] {
    return [...this.probes.values()];
  }

  /** The availability headline: the first select1 probe, else the first writes probe. Role probes never. */
  get headline(): ProbeInfo | null {
    const all = this.all;
    return all.find((probe) => probe.type === "select1") ?? all.find((probe) => probe.type === "write") ?? null;
  }
}

/** The driver a probe ran on when its record names none: older histories, and pgdrill's own. */
export const DEFAULT_DRIVER = "node-postgres";

const CONNECTIONS = { fresh: "fresh connections", held: "a held connection", pool: "a pool" } as const;

/**
 * A probe's client path, for people: "rw, fresh connections"; with `withDriver`, its driver added when it is not pgdrill's own
 * (where no column names the driver). Older histories lack it.
 */
export function clientPath(record: ProbeRecord | undefined, options: { withDriver: boolean }): string {
  if (!record || record.endpoint === undefined) return "path not recorded";
  const path = record.connection ? `${record.endpoint}, ${CONNECTIONS[record.connection]}` : record.endpoint;
  return options.withDriver && record.driver && record.driver !== DEFAULT_DRIVER ? `${path}, ${record.driver}` : path;
}
