/**
 * What `pgdrill validate` shows of a valid scenario: the drill as it would run, as plain data
 * (`--json`) and as text. Built from the same pure functions the drill uses (the Schedule's plan,
 * the fault catalog's labels, the parsed gate), so what it shows is what `run` would do.
 */
import { actionOf } from "../action/registry.ts";
import { formatDuration, toMs } from "../duration.ts";
import { faultDisplay } from "../fault/catalog.ts";
import { lasts } from "../fault/define.ts";
import type { GateSpec } from "../gate/gate.ts";
import type { ActionSpec, FaultSpec, ProbeSpec, Scenario } from "../scenario/schema.ts";
import { probeName } from "../scenario/probes.ts";
import { planSchedule } from "../schedule/plan.ts";
import type { Topology } from "../targets/index.ts";

export interface DrillPlan {
  name: string;
  source: string;
  target: { kind: string; nodes: string[]; initialPrimary: string };
  durationMs: number;
  steadyState: { windowMs: number; minAvailability: number };
  probes: Array<{ name: string; kind: ProbeSpec["kind"]; endpoint: string; connection: string | null; everyMs: number; timeoutMs: number }>;
  /** In time order, from the start of probing (the steady-state window is its first part). */
  steps: Array<{ atMs: number; id: string; what: "inject" | "heal" | "action" | "manual"; label: string }>;
  /** Faults with a heal, no `for` and no heal action after them: healed when the drill ends, as every fault is on every path. */
  healedAtEnd: Array<{ id: string; label: string }>;
  gates: Array<{ metric: string; expected: string }>;
  abortIf: Scenario["abortIf"] | null;
}

export function drillPlan(scenario: Scenario, source: string, topology: Topology, gates: readonly GateSpec[]): DrillPlan {
  const kind = topology.kind;
  const faultLabel = (fault: FaultSpec) => faultDisplay(fault.kind)?.label(fault, kind) ?? fault.kind;
  const planned = planSchedule(scenario.schedule);
  const healed = new Set(planned.filter((step) => step.kind === "heal").map((step) => step.id));
  // A heal action heals every fault active then; what is injected after the last one lasts to the end.
  const healActions = planned.flatMap((step) => (step.kind === "action" && step.action.kind === "heal" ? [step.at] : []));
  const lastHealAction = Math.max(-1, ...healActions);
  return {
    name: scenario.name,
    source,
    target: { kind, nodes: [...topology.nodes], initialPrimary: topology.initialPrimary },
    durationMs: toMs(scenario.duration),
    steadyState: { windowMs: toMs(scenario.steadyState.window), minAvailability: scenario.steadyState.minAvailability },
    probes: scenario.probes.map((probe) => ({
      name: probeName(probe),
      kind: probe.kind,
      // A role probe asks every node; the others go through one endpoint.
      endpoint: probe.kind === "role" ? "every node" : probe.endpoint,
      connection: probe.kind === "role" ? null : probe.connection,
      everyMs: toMs(probe.every),
      timeoutMs: toMs(probe.timeout),
    })),
    steps: planned.map((step) => ({
      atMs: step.at,
      id: step.id,
      what: step.kind,
      label:
        step.kind === "inject" || step.kind === "heal"
          ? faultLabel(step.fault)
          : step.kind === "action"
            ? actionLabel(step.action)
            : `${step.manual.say} (waits up to ${formatDuration(toMs(step.manual.timeout))} for a confirmation)`,
    })),
    healedAtEnd: planned.flatMap((step) => {
      const display = step.kind === "inject" ? faultDisplay(step.fault.kind) : undefined;
      const lasting = step.kind === "inject" && display !== undefined && lasts(display, step.fault);
      const healsAtEnd = step.kind === "inject" && !healed.has(step.id) && step.at > lastHealAction && lasting;
      return healsAtEnd ? [{ id: step.id, label: faultLabel(step.fault) }] : [];
    }),
    gates: gates.map((gate) => ({ metric: gate.metric, expected: gate.expected })),
    abortIf: scenario.abortIf ?? null,
  };
}

/** As the schedule runner labels actions in the History (schedule/execute.ts). */
function actionLabel(action: ActionSpec): string {
  switch (action.kind) {
    case "promote": {
      const after = toMs(action.after);
      return `promote ${action.node}${after > 0 ? ` (after ${formatDuration(after)})` : ""}`;
    }
    case "switchover":
    case "failover":
      return `${action.kind} to ${action.to}`;
    case "maintenance":
      return `maintenance ${action.mode}`;
    case "heal":
      return "heal all faults";
    default:
      // A target's own action: its module's label, as the runner records it.
      return actionOf(action).label(action);
  }
}

/** "50ms", "6.5s", "90s": short, and read the same way at every size. */
function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}

/** The plan for people: one line per thing, times as a scenario writes them. */
export function renderPlan(plan: DrillPlan): string {
  const t = seconds;
  const out: string[] = [`${plan.name} (${plan.source}): valid`];
  const row = (head: string, text: string) => out.push(`  ${head.padEnd(10)}${text}`);
  const more = (text: string) => out.push(`  ${"".padEnd(10)}${text}`);
  const { target } = plan;
  row("target", `${target.kind}: nodes ${target.nodes.join(", ")}; initial primary ${target.initialPrimary}`);
  const steady = plan.steadyState;
  const steadyText = `the first ${t(steady.windowMs)} are the steady state (availability ≥ ${steady.minAvailability})`;
  row("duration", `${t(plan.durationMs)} of probing; ${steadyText}`);
  plan.probes.forEach((probe, i) => {
    const via = probe.connection === null ? "" : ` (${probe.connection})`;
    (i === 0 ? (text: string) => row("probes", text) : more)(
      `${probe.name} → ${probe.endpoint}${via}, every ${t(probe.everyMs)}, timeout ${t(probe.timeoutMs)}`,
    );
  });
  if (plan.steps.length === 0) row("schedule", "nothing injected: the probes only observe");
  else row("schedule", "from the start of probing:");
  const width = Math.max(0, ...plan.steps.map((step) => t(step.atMs).length));
  for (const step of plan.steps) more(`  ${t(step.atMs).padStart(width)}  ${step.id.padEnd(3)} ${step.what.padEnd(7)} ${step.label}`);
  for (const fault of plan.healedAtEnd) more(`  ${"end".padStart(width)}  ${fault.id.padEnd(3)} ${"heal".padEnd(7)} ${fault.label}`);
  if (plan.gates.length === 0) row("gates", "none: the verdict is pass unless the drill errors");
  plan.gates.forEach((gate, i) => (i === 0 ? (text: string) => row("gates", text) : more)(`${gate.metric} ${gate.expected}`));
  const abort = plan.abortIf;
  if (abort) {
    const parts = [
      ...(abort.downtimeLongerThan !== undefined ? [`a client probe down longer than ${t(toMs(abort.downtimeLongerThan))}`] : []),
      ...(abort.availabilityBelow !== undefined
        ? [
            `${abort.availabilityBelow.probe ?? "the headline probe"} served < ${abort.availabilityBelow.ratio} ` +
              `of the last ${t(toMs(abort.availabilityBelow.over))}`,
          ]
        : []),
    ];
    row("abortIf", parts.join("; or "));
  }
  return `${out.join("\n")}\n`;
}
