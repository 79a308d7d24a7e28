import { describe, expect, it } from "vitest";
import { failoverChecker } from "../../harness/checker/failover.ts";
import { operatorChecker } from "../../harness/targets/cnpg/operator-check.ts";
import { ContextBuilder, isDisruption } from "../../harness/history/context.ts";
import type { ActionEvent, HistoryEvent } from "../../harness/history/events.ts";
import { splitHistory } from "../../harness/history/read-model.ts";
import { history } from "../fixtures/histories/builder.ts";

const switchover: ActionEvent = { kind: "action", t: 950, phase: "start", id: "a1", action: "switchover", label: "switchover to pg-2", node: "pg-2" };
const switchoverEnd: ActionEvent = { ...switchover, t: 1400, phase: "end", ok: true };

/** A planned switchover at 950: writes fail until the new primary takes them at 1700. */
function switchoverDrill(): HistoryEvent[] {
  const builder = history().start().steadyState(500);
  for (let id = 1; id <= 9; id += 1) builder.write(id, (id - 1) * 100, "ok");
  builder.events.push(switchover);
  builder.write(10, 1000, "fail", 10).write(11, 1500, "fail", 10);
  builder.events.push(switchoverEnd);
  return builder.write(12, 1700, "ok", 20, "pg-2").finalRead(2500, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]).end(3000).events;
}

describe("the History's read model", () => {
  it("lists a switchover's start among the disruptions as the action it is, not as a made-up fault", () => {
    const { context } = splitHistory(switchoverDrill());
    expect(context.disruptions).toEqual([switchover]);
    expect(context.disruptions[0]).toBe(context.events.find((event) => event.kind === "action"));
    expect(context.firstDisruptionAt).toBe(950);
    expect(context.events.some((event) => event.kind === "fault")).toBe(false);
  });

  it("counts fault injects (failed ones too) and switchover starts, nothing else, in history order", () => {
    expect(isDisruption({ kind: "fault", t: 1, phase: "inject", id: "f1", fault: "kill", label: "kill primary", nodes: ["primary"], ok: false })).toBe(true);
    expect(isDisruption({ kind: "fault", t: 1, phase: "heal", id: "f1", fault: "pause", label: "pause primary", nodes: ["primary"], ok: true })).toBe(false);
    expect(isDisruption(switchoverEnd)).toBe(false);
    expect(isDisruption({ kind: "action", t: 1, phase: "start", id: "a2", action: "promote", label: "promote standby", node: "standby" })).toBe(false);

    const builder = new ContextBuilder();
    const kill: HistoryEvent = { kind: "fault", t: 2000, phase: "inject", id: "f1", fault: "kill", label: "kill primary", nodes: ["primary"], ok: true };
    for (const event of [kill, switchover] satisfies HistoryEvent[]) builder.add(event);
    const context = builder.finish();
    expect(context.disruptions).toEqual([kill, switchover]);
    // The earliest, whatever the order of the lines.
    expect(context.firstDisruptionAt).toBe(950);
  });

  it("has the failover checker name the switchover as the cause of the outage, with its own label and time", () => {
    const { metrics, valid } = failoverChecker.check(switchoverDrill());
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ faultAtMs: 950, faultLabel: "switchover to pg-2", latencyMs: 1720 - 950, newPrimary: "pg-2" });
  });

  it("has the operator checker measure from the first disruption in history order", () => {
    const events = switchoverDrill();
    events.splice(1, 0, { kind: "k8s", t: 100, subject: "cluster", name: "pg", currentPrimary: "pg-1", targetPrimary: "pg-1" });
    events.push(
      { kind: "k8s", t: 1200, subject: "cluster", name: "pg", targetPrimary: "pending" },
      { kind: "k8s", t: 1600, subject: "cluster", name: "pg", currentPrimary: "pg-2", targetPrimary: "pg-2" },
    );
    expect(operatorChecker.check(events).metrics).toMatchObject({ observed: true, promotedAfterMs: 1600 - 950, newPrimary: "pg-2", pendingMs: 400 });
  });
});
