import { describe, expect, it } from "vitest";
import { applyEvent, initialState, LiveView, renderStatus } from "../../harness/cli/live.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";

const ESC = "\u001b";

function feed(events: HistoryEvent[]) {
  const state = initialState();
  for (const event of events) applyEvent(state, event);
  return state;
}

const start: HistoryEvent = {
  kind: "run-start", t: 0, wallClock: "2026-01-01T00:00:00Z", runId: "r", scenario: "pair-kill-primary",
  target: "container-pair", nodes: ["primary", "standby"], primary: "primary", durationMs: 10_000, steadyStateMs: 2000, version: "0",
};
const op = (t: number, outcome: "ok" | "fail", error?: string): HistoryEvent => ({
  kind: "complete", t, probe: "select1", type: "select1", worker: 0, op: t, outcome, latencyMs: 1, ...(error ? { error } : {}),
});

describe("live view", () => {
  it("shows phase, remaining time, rolling availability, active faults and the last errors", () => {
    const state = feed([
      start,
      { kind: "phase", t: 1000, phase: "steady-state" },
      op(1100, "ok"),
      { kind: "phase", t: 3000, phase: "drill" },
      { kind: "fault", t: 3000, phase: "inject", id: "f1", fault: "pause", label: "pause primary", nodes: ["primary"], ok: true },
      op(3100, "ok"),
      op(3200, "fail", "query timed out after 500 ms"),
      op(3300, "fail", "query timed out after 500 ms"),
      op(3400, "ok"),
    ]);
    const text = renderStatus(state, false);
    expect(text).toContain("pair-kill-primary  drill  elapsed 3.4s  remaining 7.6s");
    // The op at 1.1 s is outside the 2 s window ending at 3.4 s.
    expect(text).toContain("availability (last 2.0s): 50.0% (2/4)");
    expect(text).toContain("faults: pause primary");
    expect(text).toContain("3.3s select1: query timed out after 500 ms");
    expect(text).not.toContain(ESC);
  });

  it("forgets a healed fault", () => {
    const state = feed([
      start,
      { kind: "fault", t: 3000, phase: "inject", id: "f1", fault: "pause", label: "pause primary", nodes: ["primary"], ok: true },
      { kind: "fault", t: 6000, phase: "heal", id: "f1", fault: "pause", label: "pause primary", nodes: ["primary"], ok: true },
    ]);
    expect(renderStatus(state, false)).not.toContain("faults:");
  });

  it("writes plain timestamped lines with no escape codes outside a terminal, and nothing when quiet", () => {
    let written = "";
    const view = new LiveView({ stream: { write: (text: string) => (written += text), isTTY: false }, color: false, quiet: false });
    view.onEvent(start);
    view.log("primary up in 2000 ms");
    view.stop();
    expect(written).toMatch(/^\[\+\s+0\.\ds\] primary up in 2000 ms\n$/);
    expect(written).not.toContain(ESC);

    let quietOut = "";
    const quiet = new LiveView({ stream: { write: (text: string) => (quietOut += text), isTTY: false }, color: false, quiet: true });
    quiet.log("anything");
    quiet.stop();
    expect(quietOut).toBe("");
  });
});
