/**
 * A Probe is one client operation repeated by workers during the drill (Jepsen's client). Every
 * operation is an `invoke` event before it starts and a `complete` event with ok / fail / info
 * when it ends, so the History holds what clients saw, operation by operation.
 */
import { toMs } from "../duration.ts";
import type { ProbeSpec } from "../scenario/schema.ts";
import type { Clock } from "../clock.ts";
import { roundMs } from "../clock.ts";
import type { CompleteEvent, OpType, ProbeRecord } from "../history/events.ts";
import type { HistoryWriter } from "../history/writer.ts";
import type { StartedTopology } from "../targets/types.ts";

export interface ProbeContext {
  topology: StartedTopology;
  history: HistoryWriter;
  clock: Clock;
  /** Stop invoking new operations at this t (ms since run start). */
  until: number;
  /** Aborts the loop early (interrupt, or a failed steady state). */
  signal: AbortSignal;
}

export interface Probe {
  readonly name: string;
  readonly type: OpType;
  /** Runs before the drill, against the primary (e.g. create the writes table). */
  prepare?(topology: StartedTopology): Promise<void>;
  run(context: ProbeContext): Promise<void>;
  /** After faults are healed: read back what survived (writes). */
  finalRead?(context: Omit<ProbeContext, "until">): Promise<void>;
}

/** The settings every probe kind shares, in milliseconds; the name defaults to the kind. */
export function probeSettings(spec: ProbeSpec) {
  return {
    name: spec.name ?? spec.kind,
    everyMs: toMs(spec.every),
    timeoutMs: toMs(spec.timeout),
    connectTimeoutMs: toMs(spec.connectTimeout),
  };
}

const OP_TYPES: { [K in ProbeSpec["kind"]]: OpType } = { select1: "select1", writes: "write", role: "role" };

/** What the run-start records of a probe: what the checkers need to judge its operations (its SLO). */
export function probeRecord(spec: ProbeSpec): ProbeRecord {
  const { name, everyMs, timeoutMs } = probeSettings(spec);
  const record: ProbeRecord = { name, type: OP_TYPES[spec.kind], everyMs, timeoutMs };
  if (spec.kind === "role") return record;
  if (spec.slo !== undefined) record.sloMs = toMs(spec.slo);
  return { ...record, endpoint: spec.endpoint, connection: spec.connection };
}

export interface LoopOptions {
  everyMs: number;
  clock: Clock;
  until: number;
  signal: AbortSignal;
}

/**
 * Calls `operation` every `everyMs` until `until`. An operation that overruns delays the next one
 * rather than causing a burst to catch up, and the number of operations is bounded by the window
 * even if the clock misbehaves.
 */
export async function everyInterval(options: LoopOptions, operation: (op: number) => Promise<void>): Promise<void> {
  const { everyMs, clock, until, signal } = options;
  const maxOps = Math.ceil(Math.max(0, until - clock.now()) / everyMs) + 1;
  let next = clock.now();
  for (let op = 0; op < maxOps && next < until && !signal.aborted; op += 1) {
    await clock.sleepUntil(next, signal);
    if (signal.aborted) break;
    await operation(op);
    next += everyMs;
    const now = clock.now();
    if (next < now) next = now;
  }
}

/** Times one operation and records its invoke and complete events. */
export async function recordOperation(
  context: Pick<ProbeContext, "history" | "clock">,
  identity: { probe: string; type: OpType; worker: number; op: number; node?: string; value?: number },
  body: () => Promise<Pick<CompleteEvent, "outcome" | "node" | "server" | "value" | "error" | "dialed" | "skipped">>,
): Promise<void> {
  const { history, clock } = context;
  const start = clock.now();
  history.append({ kind: "invoke", t: roundMs(start), ...identity });
  const outcome = await body();
  const end = clock.now();
  const event: CompleteEvent = {
    kind: "complete",
    t: roundMs(end),
    probe: identity.probe,
    type: identity.type,
    worker: identity.worker,
    op: identity.op,
    latencyMs: roundMs(end - start),
    outcome: outcome.outcome,
  };
  // Set only when known, so the History has no undefined fields (one of these per operation: no spreads).
  const node = outcome.node ?? identity.node;
  const value = outcome.value ?? identity.value;
  if (node !== undefined) event.node = node;
  if (outcome.server !== undefined) event.server = outcome.server;
  if (value !== undefined) event.value = value;
  if (outcome.error !== undefined) event.error = outcome.error;
  if (outcome.dialed !== undefined) event.dialed = outcome.dialed;
  if (outcome.skipped !== undefined && outcome.skipped.length > 0) event.skipped = outcome.skipped;
  history.append(event);
}
