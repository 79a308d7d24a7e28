import { describe, expect, it } from "vitest";
import { applyEvent, initialState, LiveView, renderStatus, rollingAvailability } from "../../harness/cli/live.ts";
import { availabilityChecker } from "../../harness/checker/availability.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { history } from "../fixtures/histories/builder.ts";

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
const op = (t: number, outcome: "ok" | "fail", error?: string, latencyMs = 1): HistoryEvent => ({
  kind: "complete", t, probe: "select1", type: "select1", worker: 0, op: t, outcome, latencyMs, ...(error ? { error } : {}),
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
    // The window is 1.4–3.4 s; the op at 1.1 s ended before it (served), the failure invoked at
    // 3.199 s opened an outage that the ok op ending at 3.4 s closed: down 201 ms of 2000 ms.
    expect(text).toContain("availability (select1, share of time served, last 2.0s): 90.0% (down 201 ms of 2000 ms)");
    expect(text).toContain("faults: pause primary");
    expect(text).toContain("3.3s select1: query timed out after 500 ms");
    expect(text).not.toContain(ESC);
  });

  it("counts time, not operations: one operation hanging through a freeze is most of the window", () => {
    // Every 100 ms an ok select1, then one that hangs 1.5 s (a paused primary) and fails, then ok again.
    const events: HistoryEvent[] = [start, { kind: "phase", t: 0, phase: "steady-state" }];
    for (let t = 100; t <= 1000; t += 100) events.push(op(t, "ok"));
    events.push(op(2600, "fail", "query timed out after 1500 ms", 1500), op(2700, "ok"), op(2800, "ok"), op(2900, "ok"));
    const state = feed(events);
    // Window 0.9–2.9 s: down from the hung operation's invoke (1.1 s) to the next ok completion (2.7 s).
    const rolling = rollingAvailability(state)!;
    expect(rolling).toMatchObject({ probe: "select1", spanMs: 2000 });
    expect(rolling.share).toBeCloseTo(0.2, 9);
    expect(rolling.downMs).toBeCloseTo(1600, 6);
    // 5 of the 6 operations that ended in the window were ok: the old count said 83.3 %.
    expect(renderStatus(state, false)).toContain("20.0% (down 1600 ms of 2000 ms)");
  });

  it("sees an outage that began before the window: the failure before it keeps it open", () => {
    const events: HistoryEvent[] = [start];
    for (let t = 100; t <= 1000; t += 100) events.push(op(t, "ok"));
    for (let t = 1100; t <= 4000; t += 100) events.push(op(t, "fail", "connection refused"));
    events.push(op(4100, "ok"));
    // Window 2.1–4.1 s, all of it down but the last completion closes it: 0 %.
    expect(rollingAvailability(feed(events))!.share).toBe(0);
  });

  it("agrees with availability.ratio over the same operations, slo stalls included", () => {
    const probes = [{ name: "select1", type: "select1" as const, everyMs: 100, timeoutMs: 1000, sloMs: 250 }];
    const b = history().start({ probes });
    for (let t = 0; t < 1000; t += 100) b.select1(t, "ok", 5);
    b.select1(1000, "ok", 700); // a stall: down 1250 → 1700
    for (let t = 1700; t < 2000; t += 100) b.select1(t, t === 1800 ? "fail" : "ok", 5);
    const state = initialState();
    for (const event of b.events) applyEvent(state, event);
    // The whole history fits the 2 s window, so the share over it is availability.ratio.
    const expected = availabilityChecker.check(b.events).metrics.ratio!;
    expect(rollingAvailability(state)!.share).toBeCloseTo(expected, 9);
    expect(expected).toBeCloseTo(1 - (450 + 105) / 1905, 9); // the stall 1250–1700 ms, the failure 1800–1905 ms
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
