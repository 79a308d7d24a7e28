/**
 * The History's probe operations, as its readers see them: each invoke paired with its complete
 * into one Operation, handed on one at a time in invoke order (OperationSequencer), so a reader
 * that folds over them keeps only what it measures, however long the drill ran.
 */
import type { CompleteEvent, HistoryEvent, InvokeEvent, OpType, Outcome, RoleValue } from "./events.ts";
import { ServedBy } from "./served-by.ts";

/** One probe operation. `outcome` is null when it was invoked but never completed. */
export interface Operation {
  probe: string;
  type: OpType;
  worker: number;
  op: number;
  invokeT: number;
  completeT: number | null;
  outcome: Outcome | null;
  /** The node that served it: its server's node when the role probe named that server (served-by.ts), else the node its route named. */
  node: string | null;
  /** For an ok select1 or write: the server that answered (`inet_server_addr():port`). */
  server: string | null;
  value: number | RoleValue | null;
  latencyMs: number | null;
  error: string | null;
  /** The SQLSTATE of its error, when the client knew it (25006: a read-only transaction refused the write). */
  sqlstate: string | null;
  /** The client abandoned it past its timeout: it hung, rather than failed. */
  timedOut: boolean;
}

export interface CompletedOperation extends Operation {
  completeT: number;
  outcome: Outcome;
  latencyMs: number;
}

export type OperationEvent = InvokeEvent | CompleteEvent;

export function isOperationEvent(event: HistoryEvent): event is OperationEvent {
  return event.kind === "invoke" || event.kind === "complete";
}

export function isCompleted(operation: Operation): operation is CompletedOperation {
  return operation.outcome !== null;
}

/**
 * An operation from its complete event alone, its invoke time from the latency it records: for
 * readers that see events as they are written (the live view, the kill switch) and cannot wait
 * for the pairing below.
 */
export function completedFrom(event: CompleteEvent): CompletedOperation {
  return {
    probe: event.probe,
    type: event.type,
    worker: event.worker,
    op: event.op,
    invokeT: event.t - event.latencyMs,
    completeT: event.t,
    outcome: event.outcome,
    node: event.node ?? null,
    server: event.server ?? null,
    value: event.value ?? null,
    latencyMs: event.latencyMs,
    error: event.error ?? null,
    sqlstate: event.sqlstate ?? null,
    timedOut: event.timedOut === true,
  };
}

/**
 * Pairs invokes with completes and hands each operation on in invoke order: the checkers see a
 * probe's operations in the order clients started them. pgdrill writes each invoke as it happens,
 * so the file is already in that order; an operation is still held until an invoke at least
 * `holdMs` later has been seen (and every operation before it has completed), so a History whose
 * lines are a little out of order (hand-made, merged) is put right. Only operations in flight or
 * within `holdMs` are held. At the end, operations that never completed (the harness died, or a
 * completion came after teardown) go out with outcome null.
 *
 * On the way out, each select1 and write operation is put on the node whose server answered it
 * (served-by.ts), from the role samples completed by then: held at least `holdMs`, an operation
 * meets the samples of the second after it too.
 */
export class OperationSequencer {
  private readonly sink: (operation: Operation) => void;
  private readonly holdMs: number;
  /** Invoked and not yet handed on, in invoke order. */
  private pending: Operation[] = [];
  private head = 0;
  private readonly open = new Map<string, Operation>();
  private latestInvokeT = Number.NEGATIVE_INFINITY;
  private readonly servedBy = new ServedBy();

  constructor(sink: (operation: Operation) => void, options: { holdMs?: number } = {}) {
    this.holdMs = options.holdMs ?? 1000;
    this.sink = (operation) => {
      if (operation.type !== "role") operation.node = this.servedBy.nodeFor(operation.server, operation.node);
      sink(operation);
    };
  }

  add(event: OperationEvent): void {
    if (event.kind === "invoke") {
      const operation: Operation = {
        probe: event.probe,
        type: event.type,
        worker: event.worker,
        op: event.op,
        invokeT: event.t,
        completeT: null,
        outcome: null,
        node: event.node ?? null,
        server: null,
        value: event.value ?? null,
        latencyMs: null,
        error: null,
        sqlstate: null,
        timedOut: false,
      };
      this.open.set(keyOf(event), operation);
      this.enqueue(operation);
      if (event.t > this.latestInvokeT) this.latestInvokeT = event.t;
      this.release();
      return;
    }
    const key = keyOf(event);
    const operation = this.open.get(key);
    if (operation) {
      this.open.delete(key);
      complete(operation, event);
      this.learn(operation);
      this.release();
      return;
    }
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
      server: null,
      value: null,
      latencyMs: null,
      error: null,
      sqlstate: null,
      timedOut: false,
    };
    complete(orphan, event);
    this.learn(orphan);
    this.enqueue(orphan);
    this.release();
  }

  /** Hands on what is left, completed or not. */
  finish(): void {
    for (let index = this.head; index < this.pending.length; index += 1) this.sink(this.pending[index]!);
    this.pending = [];
    this.head = 0;
    this.open.clear();
  }

  /** A role sample names its node's server: what the operations' servers are matched against. */
  private learn(operation: Operation): void {
    if (operation.type !== "role" || operation.outcome !== "ok" || operation.node === null) return;
    const server = (operation.value as RoleValue | null)?.server;
    if (typeof server === "string") this.servedBy.learn(operation.node, server);
  }

  /** Keeps `pending` sorted by invoke t, stable: events are written in time order, so this is almost always a push. */
  private enqueue(operation: Operation): void {
    let index = this.pending.length;
    while (index > this.head && this.pending[index - 1]!.invokeT > operation.invokeT) index -= 1;
    this.pending.splice(index, 0, operation);
  }

  private release(): void {
    const before = this.latestInvokeT - this.holdMs;
    while (this.head < this.pending.length && this.pending[this.head]!.outcome !== null && this.pending[this.head]!.invokeT <= before) {
      this.sink(this.pending[this.head]!);
      this.head += 1;
    }
    // Drop the handed-on prefix now and then, not on every operation (that would be quadratic).
    if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}

function complete(operation: Operation, event: CompleteEvent): void {
  operation.completeT = event.t;
  operation.outcome = event.outcome;
  operation.latencyMs = event.latencyMs;
  operation.node = event.node ?? operation.node;
  operation.server = event.server ?? null;
  operation.value = event.value ?? operation.value;
  operation.error = event.error ?? null;
  operation.sqlstate = event.sqlstate ?? null;
  operation.timedOut = event.timedOut === true;
}

function keyOf(event: { probe: string; worker: number; op: number }): string {
  return `${event.probe}\u0000${event.worker}\u0000${event.op}`;
}
