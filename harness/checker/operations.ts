/**
 * The views of a History that several checkers share: operations (an invoke paired with its
 * complete), the probes in order of first appearance, the headline probe and the first fault.
 * Computed once per events array and cached, since every checker asks for the same things.
 */
import type { CompleteEvent, FaultEvent, HistoryEvent, OpType, Outcome, RoleValue, RunStartEvent } from "../history/events.ts";

/** One probe operation. `outcome` is null when it was invoked but never completed. */
export interface Operation {
  probe: string;
  type: OpType;
  worker: number;
  op: number;
  invokeT: number;
  completeT: number | null;
  outcome: Outcome | null;
  node: string | null;
  value: number | RoleValue | null;
  latencyMs: number | null;
  error: string | null;
}

export interface CompletedOperation extends Operation {
  completeT: number;
  outcome: Outcome;
  latencyMs: number;
}

export interface ProbeInfo {
  name: string;
  type: OpType;
}

export interface HistoryView {
  runStart: RunStartEvent | null;
  /** Sorted by invoke t (ties: history order). */
  operations: Operation[];
  /** Probes in order of their first event. */
  probes: ProbeInfo[];
  /** The availability headline: the first select1 probe, else the first writes probe. Role probes never. */
  headline: ProbeInfo | null;
  injects: FaultEvent[];
  /** t of the first fault inject, or null when no fault was injected. */
  firstFaultAt: number | null;
  /** t of the last event of any kind. */
  lastT: number;
}

const cache = new WeakMap<readonly HistoryEvent[], HistoryView>();

export function viewOf(events: readonly HistoryEvent[]): HistoryView {
  let view = cache.get(events);
  if (!view) {
    view = buildView(events);
    cache.set(events, view);
  }
  return view;
}

export function isCompleted(operation: Operation): operation is CompletedOperation {
  return operation.outcome !== null;
}

/** Completed operations of one probe, by invoke t. */
export function completedOf(view: HistoryView, probe: string): CompletedOperation[] {
  return view.operations.filter((operation): operation is CompletedOperation => operation.probe === probe && isCompleted(operation));
}

function buildView(events: readonly HistoryEvent[]): HistoryView {
  const builder = new ViewBuilder();
  for (const event of events) builder.add(event);
  return builder.finish();
}

/**
 * Builds the view one event at a time, so a long History can be analysed while it streams from
 * disk without holding every invoke and complete event (see analyze.ts).
 */
export class ViewBuilder {
  private runStart: RunStartEvent | null = null;
  private readonly open = new Map<string, Operation>();
  private readonly operations: Operation[] = [];
  private readonly probes = new Map<string, ProbeInfo>();
  private readonly injects: FaultEvent[] = [];
  private lastT = 0;

  add(event: HistoryEvent): void {
    if (event.t > this.lastT) this.lastT = event.t;
    switch (event.kind) {
      case "run-start":
        this.runStart ??= event;
        break;
      case "fault":
        if (event.phase === "inject") this.injects.push(event);
        break;
      case "action":
        // A planned switchover costs clients like a fault does: measure from it the same way.
        if (event.action === "switchover" && event.phase === "start") {
          this.injects.push({ kind: "fault", phase: "inject", t: event.t, id: event.id, fault: "switchover", label: event.label, nodes: event.node ? [event.node] : [], ok: true });
        }
        break;
      case "invoke": {
        if (!this.probes.has(event.probe)) this.probes.set(event.probe, { name: event.probe, type: event.type });
        const operation: Operation = {
          probe: event.probe,
          type: event.type,
          worker: event.worker,
          op: event.op,
          invokeT: event.t,
          completeT: null,
          outcome: null,
          node: event.node ?? null,
          value: event.value ?? null,
          latencyMs: null,
          error: null,
        };
        this.open.set(keyOf(event), operation);
        this.operations.push(operation);
        break;
      }
      case "complete": {
        if (!this.probes.has(event.probe)) this.probes.set(event.probe, { name: event.probe, type: event.type });
        const key = keyOf(event);
        const operation = this.open.get(key);
        if (operation) {
          this.open.delete(key);
          complete(operation, event);
        } else {
          // No invoke recorded (should not happen): its latency says when it must have started.
          const orphan: Operation = {
            probe: event.probe,
            type: event.type,
            worker: event.worker,
            op: event.op,
            invokeT: event.t - event.latencyMs,
            completeT: null,
            outcome: null,
            node: null,
            value: null,
            latencyMs: null,
            error: null,
          };
          complete(orphan, event);
          this.operations.push(orphan);
        }
        break;
      }
      default:
        break;
    }
  }

  finish(): HistoryView {
    const operations = this.operations;
    // Array.prototype.sort is stable, so equal invoke times keep history order.
    operations.sort((a, b) => a.invokeT - b.invokeT);
    const probeList = [...this.probes.values()];
    const headline = probeList.find((probe) => probe.type === "select1") ?? probeList.find((probe) => probe.type === "write") ?? null;
    const firstFaultAt = this.injects.length > 0 ? Math.min(...this.injects.map((inject) => inject.t)) : null;
    return { runStart: this.runStart, operations, probes: probeList, headline, injects: this.injects, firstFaultAt, lastT: this.lastT };
  }
}

/**
 * Gives `events` a view built elsewhere: analyze.ts streams the whole History through a
 * ViewBuilder and keeps only the events the view does not cover (see slimHistory there).
 */
export function attachView(events: readonly HistoryEvent[], view: HistoryView): void {
  cache.set(events, view);
}

function complete(operation: Operation, event: CompleteEvent): void {
  operation.completeT = event.t;
  operation.outcome = event.outcome;
  operation.latencyMs = event.latencyMs;
  operation.node = event.node ?? operation.node;
  operation.value = event.value ?? operation.value;
  operation.error = event.error ?? null;
}

function keyOf(event: { probe: string; worker: number; op: number }): string {
  return `${event.probe}\u0000${event.worker}\u0000${event.op}`;
}
