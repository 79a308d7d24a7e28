/**
 * Roles over time, from the role probe's samples: each node's answer to "are you in recovery, do you
 * accept writes, on which timeline", or unreachable when it did not answer. A primary that refuses
 * writes (promoted, `transaction_read_only` on) is marked `readOnly`; older histories did not ask,
 * and their primaries count as writable. A change is recorded whenever a node's
 * role or timeline differs from its previous sample; a node's first sample is recorded too, so the
 * list reads as a timeline from the start. A sample is dated by its completion, when the answer
 * was known.
 */
import type { RoleValue } from "../history/events.ts";
import type { Metrics, RoleChange } from "../result.ts";
import { defineChecker, type CheckerOutput } from "./checker.ts";
import type { Operation } from "../history/operations.ts";

export type RolesMetrics = Metrics["roles"];

export const rolesChecker = defineChecker<RolesMetrics>({
  empty: () => ({ changes: [] }),
  start() {
    const timeline = new RoleTimeline();
    return {
      operation: (operation: Operation) => timeline.add(operation),
      finish(): CheckerOutput<RolesMetrics> {
        if (timeline.samples === 0) return { valid: "unknown", metrics: { changes: [] }, reason: "no role probe in this run" };
        return { valid: true, metrics: { changes: timeline.changes() } };
      },
    };
  },
});

/**
 * The role probe's samples folded into changes: a node's first sample, and each sample whose role,
 * writability, timeline or server differs from that node's previous one. A node's samples come in order (one
 * at a time per node); the changes of all nodes are put in time order at the end.
 */
export class RoleTimeline {
  samples = 0;
  /** t of the latest sample of any node. */
  lastSampleT = 0;
  private readonly last = new Map<string, RoleChange>();
  private readonly found: RoleChange[] = [];

  add(operation: Operation): void {
    if (operation.type !== "role" || operation.outcome === null || operation.completeT === null || operation.node === null) return;
    const value = operation.outcome === "ok" && isRoleValue(operation.value) ? operation.value : null;
    const sample: RoleChange = {
      t: operation.completeT,
      node: operation.node,
      role: value === null ? "unreachable" : value.primary ? "primary" : "standby",
      ...(value?.primary && value.writable === false ? { readOnly: true as const } : {}),
      timeline: value?.timeline ?? null,
      ...(value?.server !== undefined ? { server: value.server } : {}),
    };
    this.samples += 1;
    if (sample.t > this.lastSampleT) this.lastSampleT = sample.t;
    const previous = this.last.get(sample.node);
    // A new server behind the same name is a change too: that is how a managed failover looks.
    const newServer = sample.server !== undefined && previous?.server !== undefined && sample.server !== previous.server;
    const changed = previous?.role !== sample.role || previous.readOnly !== sample.readOnly || previous.timeline !== sample.timeline;
    if (changed || newServer) this.found.push(sample);
    this.last.set(sample.node, sample);
  }

  /** Every change, in time order (stable: equal times keep the order they were seen in). */
  changes(): RoleChange[] {
    return [...this.found].sort((a, b) => a.t - b.t);
  }
}

function isRoleValue(value: unknown): value is RoleValue {
  return typeof value === "object" && value !== null && typeof (value as RoleValue).primary === "boolean";
}
