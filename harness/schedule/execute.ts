/**
 * Runs a planned Schedule against a started Target on the drill's clock, recording every fault and
 * action in the History. Steps start at their time and run side by side (a promote with a detection
 * delay does not hold back the next fault). `healAll` is the final generator: it heals whatever is
 * still active and is safe to call more than once.
 */
import { errorMessage } from "../errors.ts";
import { actionNode } from "../action/define.ts";
import { actionOf } from "../action/registry.ts";
import { faultOf } from "../fault/catalog.ts";
import { lasts, nodesOf } from "../fault/define.ts";
import { parseSaid } from "../fault/said.ts";
import { healFault, injectFault, resolveFault } from "../fault/run.ts";
import type { SaidEvent } from "../history/events.ts";
import type { HistoryWriter } from "../history/writer.ts";
import { roundMs, type Clock } from "../clock.ts";
import type { OperatorDesk } from "../operator/desk.ts";
import type { ActionSpec, FaultSpec } from "../scenario/schema.ts";
import { control, type StartedTopology } from "../targets/types.ts";
import { withTimeout } from "../deadline.ts";
import { runManualStep } from "./manual.ts";
import type { PlannedStep } from "./plan.ts";

/** No single fault or action may take longer than this; a stuck Docker call must not stall the drill. */
const STEP_TIMEOUT_MS = 60_000;

export interface ScheduleContext {
  runId: string;
  topology: StartedTopology;
  history: HistoryWriter;
  clock: Clock;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Who confirms manual steps (operator/desk.ts); absent: they are recorded as not done. */
  operator?: OperatorDesk;
}

export class ScheduleRunner {
  private readonly context: ScheduleContext;
  private readonly active = new Map<string, FaultSpec>();
  /**
   * Each fault's injection while it runs. Its heal waits for it: a heal due while the inject is
   * still finding its node or waiting for Docker (a `for` shorter than the injection takes) would
   * otherwise find nothing to heal, or undo it before it was done, and the fault would stay.
   */
  private readonly injecting = new Map<string, Promise<void>>();
  private readonly running: Array<Promise<void>> = [];
  /** Errors from steps; the drill reports them, it does not swallow them. */
  readonly errors: string[] = [];

  constructor(context: ScheduleContext) {
    this.context = context;
  }

  /** Starts each step at its time; resolves when every started step has finished. */
  async run(plan: readonly PlannedStep[]): Promise<void> {
    for (const step of plan) {
      await this.context.clock.sleepUntil(step.at, this.context.signal);
      if (this.context.signal.aborted) break;
      this.running.push(this.execute(step));
    }
    await Promise.all(this.running);
  }

  /** Heals every fault still active. Idempotent; records each heal. */
  async healAll(): Promise<void> {
    await Promise.allSettled(this.running);
    for (const [id, fault] of [...this.active]) await this.heal(id, fault);
  }

  private async execute(step: PlannedStep): Promise<void> {
    if (step.kind === "inject") {
      const injecting = this.inject(step.id, step.fault);
      this.injecting.set(step.id, injecting);
      return injecting;
    }
    if (step.kind === "heal") return this.heal(step.id, step.fault);
    if (step.kind === "manual") return runManualStep(step.id, step.manual, this.context);
    return this.act(step.id, step.action);
  }

  private async inject(id: string, aimed: FaultSpec): Promise<void> {
    const pkg = faultOf(aimed);
    const nodes = (spec: FaultSpec) => nodesOf(pkg, spec);
    const { history, clock, topology } = this.context;
    const t = roundMs(clock.now());
    let fault = aimed;
    try {
      // On targets with roles, "primary" means the primary now, and the heal must undo that same node.
      fault = await withTimeout(resolveFault(topology, aimed), `finding ${nodes(aimed).join(", ")}`, STEP_TIMEOUT_MS);
    } catch (error) {
      history.append({
        kind: "fault",
        phase: "inject",
        id,
        fault: aimed.kind,
        label: pkg.label(aimed, topology.kind),
        nodes: nodes(aimed),
        t,
        ok: false,
        error: errorMessage(error),
      });
      this.errors.push(`${pkg.label(aimed, topology.kind)}: ${errorMessage(error)}`);
      return;
    }
    const label = describeResolved(pkg.label(aimed, topology.kind), nodes(aimed), nodes(fault));
    const base = { kind: "fault", phase: "inject", id, fault: fault.kind, label, nodes: nodes(fault) } as const;
    // The fault starts when pgdrill acts, not when it began finding the node: finding "primary" asks the HA system (Patroni's
    // REST API, every node), tens of ms under load in which writes still reach the old primary and would read as a recovery.
    const injectedAt = roundMs(clock.now());
    const lasting = lasts(pkg, fault);
    if (lasting) this.active.set(id, fault);
    // A one-shot of a fault that can heal (a command without `heal`): the History says so, as the reports draw it.
    const instant = pkg.heal !== undefined && !lasting ? { instant: true } : {};
    try {
      const output = await withTimeout(
        injectFault(topology, fault, { runId: this.context.runId, id }),
        label,
        pkg.timeoutMs?.(fault) ?? STEP_TIMEOUT_MS,
      );
      const told = output ? this.saidIn(output, label) : {};
      history.append({ ...base, t: injectedAt, ok: true, ...instant, ...(output ? { output } : {}), ...told });
      this.context.log(`fault ${id}: ${label}`);
    } catch (error) {
      history.append({ ...base, t: injectedAt, ok: false, error: errorMessage(error) });
      this.errors.push(`${label}: ${errorMessage(error)}`);
    }
  }

  /** What a command said on its output (`pgdrill-event:` lines, fault/said.ts), on the History's clock; refused lines are logged. */
  private saidIn(output: string, label: string): { happenedT?: number; said?: SaidEvent[] } {
    const now = roundMs(this.context.clock.now());
    const wallNow = Date.now();
    const { happenedT, said, problems } = parseSaid(output, (wall) => now - (wallNow - wall), { fromT: 0, toT: now + 1000, readT: now });
    for (const problem of problems) this.context.log(`${label}: pgdrill-event line ignored: ${problem}`);
    return { ...(happenedT !== undefined ? { happenedT } : {}), ...(said.length > 0 ? { said } : {}) };
  }

  private async heal(id: string, planned: FaultSpec): Promise<void> {
    await this.injecting.get(id); // never rejects: inject records its own failure
    // Heal what was injected: the resolved node ("pg-2"), not the planned name ("replica").
    const fault = this.active.get(id) ?? planned;
    const pkg = faultOf(fault);
    if (!pkg.heal || !this.active.has(id)) return;
    this.active.delete(id);
    const { history, clock, topology } = this.context;
    const base = {
      kind: "fault",
      phase: "heal",
      id,
      fault: fault.kind,
      label: pkg.label(fault, topology.kind),
      nodes: nodesOf(pkg, fault),
    } as const;
    try {
      const output = await withTimeout(
        healFault(topology, fault, { runId: this.context.runId, id }),
        `heal ${pkg.label(fault, topology.kind)}`,
        pkg.timeoutMs?.(fault) ?? STEP_TIMEOUT_MS,
      );
      history.append({ ...base, t: roundMs(clock.now()), ok: true, ...(output ? { output } : {}) });
      this.context.log(`healed ${id}: ${pkg.label(fault)}`);
    } catch (error) {
      history.append({ ...base, t: roundMs(clock.now()), ok: false, error: errorMessage(error) });
      this.errors.push(`heal ${pkg.label(fault)}: ${errorMessage(error)}`);
    }
  }

  /**
   * An action, recorded from start to end: its node resolved first where it aims at a role (the
   * primary a switchover leaves, "replica"), then its module's run with the control it requires.
   */
  private async act(id: string, spec: ActionSpec): Promise<void> {
    const action = actionOf(spec);
    const { history, clock, topology, signal } = this.context;
    const started = roundMs(clock.now());
    const aimed = actionNode(action, spec);
    const afterMs = action.afterMs?.(spec) ?? 0;
    let label = action.label(spec);
    let node = aimed;
    let startRecorded = false;
    const recordStart = () => {
      const extra = {
        ...(node === undefined ? {} : { node }),
        ...(afterMs > 0 ? { afterMs } : {}),
        ...(action.handsOver ? { handsOver: true } : {}),
      };
      history.append({ kind: "action", t: started, phase: "start", id, action: spec.kind, label, ...extra });
      startRecorded = true;
    };
    const recordEnd = (outcome: { ok: true } | { ok: false; error: string }) => {
      const aimedAt = node === undefined ? {} : { node };
      history.append({ kind: "action", t: roundMs(clock.now()), phase: "end", id, action: spec.kind, label, ...aimedAt, ...outcome });
    };
    try {
      const ctl = action.requires === null ? null : control(topology, action.requires, spec.kind);
      if (action.resolves && aimed !== undefined) {
        node = await topology.resolve(aimed);
        label = describeResolved(label, [aimed], [node]);
      }
      recordStart();
      const note = await action.run(spec, {
        control: ctl,
        node,
        bounded: (work) => withTimeout(work, label, STEP_TIMEOUT_MS),
        sleep: async (ms) => {
          if (ms > 0) await clock.sleepUntil(clock.now() + ms, signal);
          return !signal.aborted;
        },
        repointed: (endpoint, to) => history.append({ kind: "endpoint", t: roundMs(clock.now()), endpoint, node: to }),
        healFaults: async () => {
          for (const [faultId, fault] of [...this.active]) await this.heal(faultId, fault);
        },
      });
      recordEnd({ ok: true });
      if (!action.healsAll) this.context.log(`${label}: done${note ? `, ${note}` : ""}`);
    } catch (error) {
      // Every end pairs with a start, also when finding the node failed before the start was recorded.
      if (!startRecorded) recordStart();
      recordEnd({ ok: false, error: errorMessage(error) });
      this.errors.push(`${label}: ${errorMessage(error)}`);
    }
  }
}

/** "kill primary" becomes "kill primary (pgdrill-1)" once resolved. */
function describeResolved(label: string, aimed: string[], resolved: string[]): string {
  return aimed.join() === resolved.join() ? label : `${label} (${resolved.join(", ")})`;
}
