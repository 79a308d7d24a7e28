/**
 * The History's context, as its readers see it: every event that is not a probe operation (run
 * start and end, faults, actions, final reads, Kubernetes observations). It stays small however
 * long the drill ran, so it is collected first and held whole while the operations stream past.
 */
import type { ActionEvent, FaultEvent, HistoryEvent, RunStartEvent } from "./events.ts";
import { isOperationEvent } from "./operations.ts";

/** A fault being injected (whether or not the injection worked). */
export type FaultInject = FaultEvent & { phase: "inject" };
/** A hand-over starting (a switchover, a manual failover): an action, not a fault, yet it costs clients like a fault does. */
export type HandOverStart = ActionEvent & { phase: "start" };

/**
 * A step of the drill that can start an outage: a fault injected, or a hand-over started. Each
 * stays the event it is in the History (read `kind`), so a reader that needs "what started the
 * outage" gets the fault or the action itself, with its own id, label and nodes.
 */
export type Disruption = FaultInject | HandOverStart;

export function isDisruption(event: HistoryEvent): event is Disruption {
  if (event.kind === "fault") return event.phase === "inject";
  // Histories written before actions said so name the one hand-over there was then.
  return event.kind === "action" && event.phase === "start" && (event.handsOver === true || event.action === "switchover");
}

/** Everything in a History but the operations. */
export interface HistoryContext {
  runStart: RunStartEvent | null;
  /** The events that are not invokes or completes, in history order. */
  events: readonly HistoryEvent[];
  /** Fault injects and hand-over starts, in history order. */
  disruptions: readonly Disruption[];
  /** The earliest t of `disruptions`, or null when there were none. */
  firstDisruptionAt: number | null;
  /** t of the last event of any kind, operations included. */
  lastT: number;
}

/** Collects the context, event by event; operation events only move `lastT`. */
export class ContextBuilder {
  private runStart: RunStartEvent | null = null;
  private readonly events: HistoryEvent[] = [];
  private readonly disruptions: Disruption[] = [];
  private lastT = 0;

  add(event: HistoryEvent): void {
    this.noteTime(event.t);
    if (isOperationEvent(event)) return;
    this.events.push(event);
    if (event.kind === "run-start") this.runStart ??= event;
    if (isDisruption(event)) this.disruptions.push(event);
  }

  noteTime(t: number): void {
    if (t > this.lastT) this.lastT = t;
  }

  finish(): HistoryContext {
    const firstDisruptionAt = this.disruptions.reduce<number | null>(
      (first, disruption) => (first === null || disruption.t < first ? disruption.t : first),
      null,
    );
    return { runStart: this.runStart, events: this.events, disruptions: this.disruptions, firstDisruptionAt, lastT: this.lastT };
  }
}
