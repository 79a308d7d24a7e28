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
import type { FaultSpec, StepSpec, Target } from "../scenario/schema.ts";
import { targetPlugin } from "../targets/registry.ts";
import { traceSchedule, type TracedStep } from "./plan.ts";

export interface ImpossibleStep {
  /** Path of the offending field, e.g. ["schedule", 2, "fault", "node"]. */
  path: Array<string | number>;
  problem: string;
  fix: string;
}

type NodeState =
  | { kind: "up" }
  | { kind: "paused"; by: number; until: number | null }
  | { kind: "down"; by: number; how: string };

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
  const cuts = new Map<string, Hold>();
  const fences = new Map<string, Hold>();
  const shaped = new Map<string, Hold>();
  const state = (node: string): NodeState => nodes.get(node) ?? { kind: "up" };
  const released = (origin: number) => {
    for (const [node, value] of nodes) if (value.kind === "paused" && value.by === origin) nodes.delete(node);
    for (const holds of [cuts, fences, shaped]) for (const [node, hold] of holds) if (hold.by === origin) holds.delete(node);
  };
  const healAll = () => {
    for (const [node, value] of nodes) if (value.kind === "paused") nodes.delete(node);
    cuts.clear();
    fences.clear();
    shaped.clear();
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
      if (step.action.kind === "heal") healAll();
      if (step.action.kind === "promote" && staysDown) {
        const problem = unusable(state(step.action.node));
        if (problem) return { path: ["schedule", i, "action", "node"], problem: `cannot promote "${step.action.node}": ${problem}`, fix: fixFor(state(step.action.node)) };
      }
      continue;
    }
    const fault = step.fault;
    const where = faultPath(i, fault);
    for (const node of touched(fault).filter(fixed)) {
      const now = state(node);
      if (staysDown) {
        const problem = unusable(now);
        // A frozen node can still be killed or stopped (Docker does both); nothing else reaches it.
        const killable = now.kind === "paused" && (fault.kind === "kill" || fault.kind === "stop");
        if (problem && !killable) return { path: where, problem: `cannot ${verb(fault)} "${node}" at ${formatMs(step.at)}: ${problem}`, fix: fixFor(now) };
      }
      if (fault.kind === "partition" || fault.kind === "dcs-partition") {
        const held = cuts.get(node);
        if (held) {
          return {
            path: where,
            problem: `"${node}" is already cut off by schedule[${held.by}]${held.until === null ? "" : ` until ${formatMs(held.until)}`}; healing one partition heals every cut on the node`,
            fix: `Start this partition after schedule[${held.by}] heals (${held.until === null ? `give schedule[${held.by}] a "for"` : `at ${formatMs(held.until)} or later`}), or merge the two into one.`,
          };
        }
      }
      if (fault.kind === "netem" && shaped.has(node)) {
        const held = shaped.get(node)!;
        return {
          path: where,
          problem: `"${node}"'s network is already slowed by schedule[${held.by}]${held.until === null ? "" : ` until ${formatMs(held.until)}`}; a node has one netem at a time, and healing one heals both`,
          fix: `Start this one after schedule[${held.by}] heals (${held.until === null ? `give schedule[${held.by}] a "for"` : `at ${formatMs(held.until)} or later`}), or merge the two into one.`,
        };
      }
      if (fault.kind === "fence" && fences.has(node)) {
        const held = fences.get(node)!;
        return { path: where, problem: `"${node}" is already fenced by schedule[${held.by}]${held.until === null ? "" : ` until ${formatMs(held.until)}`}`, fix: `Fence it after schedule[${held.by}] ends (give that one a "for").` };
      }
    }
    for (const node of touched(fault).filter(fixed)) {
      const hold = { by: i, until: untilOf(i) };
      // A cut from the DCS is iptables rules too: healing either clears both.
      if (fault.kind === "partition" || fault.kind === "dcs-partition") cuts.set(node, hold);
      if (fault.kind === "fence") fences.set(node, hold);
      if (fault.kind === "netem") shaped.set(node, hold);
      if (!staysDown) continue;
      if (fault.kind === "pause") nodes.set(node, { kind: "paused", ...hold });
      if (fault.kind === "kill" || fault.kind === "stop") nodes.set(node, { kind: "down", by: i, how: fault.kind === "kill" ? "killed" : "stopped" });
    }
  }
  return null;
}

/** Why a container in this state cannot take a fault or a promotion now; null when it can. */
function unusable(state: NodeState): string | null {
  if (state.kind === "down") return `schedule[${state.by}] ${state.how} it and nothing restarts it`;
  if (state.kind === "paused") return `schedule[${state.by}] paused it${state.until === null ? " for the rest of the drill" : ` until ${formatMs(state.until)}`}`;
  return null;
}

function fixFor(state: NodeState): string {
  if (state.kind === "paused") return `Schedule it after the pause ends (give schedule[${state.by}] a shorter "for"), or aim at the other node.`;
  return "Aim at the other node, or drop the step: a killed or stopped container stays down for the rest of the drill.";
}

function touched(fault: FaultSpec): string[] {
  if (fault.kind === "partition") return fault.isolate !== undefined ? [fault.isolate] : [...(fault.between ?? [])];
  if (fault.kind === "command") return []; // the user's command: pgdrill cannot know what it touches
  if (fault.kind === "dcs-outage") return []; // DCS members, not nodes
  return [fault.node];
}

function faultPath(index: number, fault: FaultSpec): Array<string | number> {
  if (fault.kind === "command") return ["schedule", index, "fault", "run"];
  if (fault.kind !== "partition") return ["schedule", index, "fault", "node"];
  return ["schedule", index, "fault", fault.isolate !== undefined ? "isolate" : "between"];
}

/** How a problem names what the step would do: "cannot cut off …", "cannot slow down …". */
const VERBS: Partial<Record<FaultSpec["kind"], string>> = { partition: "cut off", netem: "slow down" };

function verb(fault: FaultSpec): string {
  return VERBS[fault.kind] ?? fault.kind;
}

/** Heals before injects and actions at the same moment. */
function rank(step: TracedStep): number {
  return step.kind === "heal" ? 0 : 1;
}
