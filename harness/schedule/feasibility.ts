/**
 * Schedules that cannot run as written, found before anything starts by playing the plan against
 * what each node is at that moment: pausing a node that is already paused, faulting or promoting a
 * node that is already down or frozen, fencing a fenced instance, or two partitions (or two netems)
 * on one node at once (a partition's heal clears every cut on its nodes, so healing one would
 * silently heal both).
 *
 * Only names fixed before the drill are followed (the plugin's nodes, not its roles): on cnpg,
 * "primary" and "replica" are resolved when the step runs, and a killed pod comes back (the plugin
 * says it restarts nodes), so only fences, cuts and netems of named instances are.
 */
import { formatMs } from "../duration.ts";
import { actionNode } from "../action/define.ts";
import { actionOf } from "../action/registry.ts";
import { faultOf } from "../fault/catalog.ts";
import { aimsOf, type Hold as FaultHold } from "../fault/define.ts";
import type { StepSpec, Target } from "../scenario/schema.ts";
import { targetPlugin } from "../targets/registry.ts";
import { traceSchedule, type TracedStep } from "./plan.ts";

export interface ImpossibleStep {
  /** Path of the offending field, e.g. ["schedule", 2, "fault", "node"]. */
  path: Array<string | number>;
  problem: string;
  fix: string;
}

type NodeState = { kind: "up" } | { kind: "paused"; by: number; until: number | null } | { kind: "down"; by: number; how: string };

interface Hold {
  /** The schedule entry that holds it, and when it lets go (null: only at the end of the drill). */
  by: number;
  until: number | null;
}

export function findImpossibleStep(target: Target, steps: readonly StepSpec[]): ImpossibleStep | null {
  const plan = traceSchedule(steps);
  const untilOf = (origin: number): number | null => plan.find((step) => step.kind === "heal" && step.origin === origin)?.at ?? null;
  // Heals first at equal times: "pause 3s for 2s" then "pause at 5s" is a fresh pause, not a double one.
  const ordered = [...plan].sort((a, b) => a.at - b.at || rank(a) - rank(b) || a.origin - b.origin);
  const plugin = targetPlugin(target);
  // Names fixed before the drill: the target's nodes, not roles resolved when the step runs.
  const nodeNames = new Set(plugin.nodes(target).filter((node) => !plugin.roles.includes(node)));
  const fixed = (node: string) => nodeNames.has(node);
  // On a target that restarts nothing, a killed node stays down and a paused one frozen.
  const staysDown = !plugin.restartsNodes;

  const nodes = new Map<string, NodeState>();
  const exclusives: Record<Exclusive, Map<string, Hold>> = { cut: new Map(), fence: new Map(), shaping: new Map() };
  const state = (node: string): NodeState => nodes.get(node) ?? { kind: "up" };
  const released = (origin: number) => {
    for (const [node, value] of nodes) if (value.kind === "paused" && value.by === origin) nodes.delete(node);
    for (const holds of Object.values(exclusives)) for (const [node, hold] of holds) if (hold.by === origin) holds.delete(node);
  };
  const healAll = () => {
    for (const [node, value] of nodes) if (value.kind === "paused") nodes.delete(node);
    for (const holds of Object.values(exclusives)) holds.clear();
  };

  for (const step of ordered) {
    const i = step.origin;
    if (step.kind === "heal") {
      released(i);
      continue;
    }
    // A manual step is a person's doing: pgdrill cannot tell what it holds.
    if (step.kind === "manual") continue;
    if (step.kind === "action") {
      const action = actionOf(step.action);
      if (action.healsAll) healAll();
      const node = actionNode(action, step.action);
      if (action.needsNodeUp && staysDown && node !== undefined) {
        const problem = unusable(state(node));
        const field = ["schedule", i, "action", action.node!];
        if (problem) return { path: field, problem: `cannot ${action.needsNodeUp.verb} "${node}": ${problem}`, fix: fixFor(state(node)) };
      }
      continue;
    }
    const fault = faultOf(step.fault);
    const aims = aimsOf(fault, step.fault);
    const where = ["schedule", i, "fault", ...(aims[0] === undefined ? [] : [aims[0].field])];
    const holds = fault.feasibility?.holds;
    // A cut, a fence or a shaping: one per node at a time.
    const exclusive = holds !== undefined && isExclusive(holds) ? holds.kind : undefined;
    const touched = [...new Set(aims.map((aim) => aim.node))].filter(fixed);
    for (const node of touched) {
      const now = state(node);
      if (staysDown) {
        const problem = unusable(now);
        // A frozen node can still be killed or stopped (Docker does both); nothing else reaches it.
        const reaches = now.kind === "paused" && fault.feasibility?.reachesPaused === true;
        const verb = fault.feasibility?.verb ?? fault.kind;
        if (problem && !reaches)
          return { path: where, problem: `cannot ${verb} "${node}" at ${formatMs(step.at)}: ${problem}`, fix: fixFor(now) };
      }
      const held = exclusive === undefined ? undefined : exclusives[exclusive].get(node);
      if (exclusive !== undefined && held !== undefined) return { path: where, ...heldMessage(exclusive, node, held) };
    }
    for (const node of touched) {
      const hold = { by: i, until: untilOf(i) };
      if (holds === undefined) continue;
      if (exclusive !== undefined) exclusives[exclusive].set(node, hold);
      else if (!staysDown) continue;
      else if (holds.kind === "pause") nodes.set(node, { kind: "paused", ...hold });
      else if (holds.kind === "down") nodes.set(node, { kind: "down", by: i, how: holds.how });
    }
  }
  return null;
}

type Exclusive = "cut" | "fence" | "shaping";

/** A cut, a fence or a shaping: one per node at a time (healing one heals all of that kind on it). */
function isExclusive(hold: FaultHold): hold is { kind: Exclusive } {
  return hold.kind === "cut" || hold.kind === "fence" || hold.kind === "shaping";
}

/** Why a node already holding `kind` cannot take another, and what to do. */
function heldMessage(kind: Exclusive, node: string, held: Hold): { problem: string; fix: string } {
  const until = held.until === null ? "" : ` until ${formatMs(held.until)}`;
  const after = held.until === null ? `give schedule[${held.by}] a "for"` : `at ${formatMs(held.until)} or later`;
  if (kind === "cut") {
    return {
      problem: `"${node}" is already cut off by schedule[${held.by}]${until}; healing one partition heals every cut on the node`,
      fix: `Start this partition after schedule[${held.by}] heals (${after}), or merge the two into one.`,
    };
  }
  if (kind === "shaping") {
    return {
      problem:
        `"${node}"'s network is already slowed by schedule[${held.by}]${until}; a node has one netem at a time, and healing ` +
        `one heals both`,
      fix: `Start this one after schedule[${held.by}] heals (${after}), or merge the two into one.`,
    };
  }
  return {
    problem: `"${node}" is already fenced by schedule[${held.by}]${until}`,
    fix: `Fence it after schedule[${held.by}] ends (give that one a "for").`,
  };
}

/** Why a container in this state cannot take a fault or a promotion now; null when it can. */
function unusable(state: NodeState): string | null {
  if (state.kind === "down") return `schedule[${state.by}] ${state.how} it and nothing restarts it`;
  if (state.kind === "paused")
    return `schedule[${state.by}] paused it${state.until === null ? " for the rest of the drill" : ` until ${formatMs(state.until)}`}`;
  return null;
}

function fixFor(state: NodeState): string {
  if (state.kind === "paused")
    return `Schedule it after the pause ends (give schedule[${state.by}] a shorter "for"), or aim at the other node.`;
  return "Aim at the other node, or drop the step: a killed or stopped container stays down for the rest of the drill.";
}

/** Heals before injects and actions at the same moment. */
function rank(step: TracedStep): number {
  return step.kind === "heal" ? 0 : 1;
}
