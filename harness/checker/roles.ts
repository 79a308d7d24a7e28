/**
 * Roles over time, from the role probe's samples: each node's answer to "are you in recovery, on
 * which timeline", or unreachable when it did not answer. A change is recorded whenever a node's
 * role or timeline differs from its previous sample; a node's first sample is recorded too, so the
 * list reads as a timeline from the start. A sample is dated by its completion, when the answer
 * was known.
 */
import type { HistoryEvent, RoleValue } from "../history/events.ts";
import type { Metrics, RoleChange } from "../result.ts";
import type { Checker, CheckerOutput } from "./checker.ts";

export type RolesMetrics = Metrics["roles"];

export interface RoleSample {
  t: number;
  node: string;
  role: RoleChange["role"];
  timeline: number | null;
  server?: string;
}

export const rolesChecker: Checker<RolesMetrics> = {
  empty: () => ({ changes: [] }),
  check(events: readonly HistoryEvent[]): CheckerOutput<RolesMetrics> {
    const samples = roleSamples(events);
    if (samples.length === 0) return { valid: "unknown", metrics: { changes: [] }, reason: "no role probe in this run" };
    const last = new Map<string, RoleSample>();
    const changes: RoleChange[] = [];
    for (const sample of samples) {
      const previous = last.get(sample.node);
      // A new server behind the same name is a change too: that is how a managed failover looks.
      const newServer = sample.server !== undefined && previous?.server !== undefined && sample.server !== previous.server;
      if (!previous || previous.role !== sample.role || previous.timeline !== sample.timeline || newServer) {
        changes.push({ t: sample.t, node: sample.node, role: sample.role, timeline: sample.timeline, ...(sample.server !== undefined ? { server: sample.server } : {}) });
      }
      last.set(sample.node, sample);
    }
    return { valid: true, metrics: { changes } };
  },
};

/** Role probe answers in time order. */
export function roleSamples(events: readonly HistoryEvent[]): RoleSample[] {
  const samples: RoleSample[] = [];
  for (const event of events) {
    if (event.kind !== "complete" || event.type !== "role" || event.node === undefined) continue;
    const value = event.outcome === "ok" && isRoleValue(event.value) ? event.value : null;
    samples.push({
      t: event.t,
      node: event.node,
      role: value === null ? "unreachable" : value.primary ? "primary" : "standby",
      timeline: value?.timeline ?? null,
      ...(value?.server !== undefined ? { server: value.server } : {}),
    });
  }
  return samples.sort((a, b) => a.t - b.t);
}

function isRoleValue(value: unknown): value is RoleValue {
  return typeof value === "object" && value !== null && typeof (value as RoleValue).primary === "boolean";
}
