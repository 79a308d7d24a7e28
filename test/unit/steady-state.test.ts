import { describe, expect, it } from "vitest";
import { availabilityChecker } from "../../harness/checker/availability.ts";
import type { RunStartEvent } from "../../harness/history/events.ts";
import { judgeSteadyState, SteadyStateWindow } from "../../harness/run/steady-state.ts";
import { history } from "../fixtures/histories/builder.ts";

describe("steady state (steadyState.minAvailability)", () => {
  it("is availability.ratio's share of time over the window, not the share of ok operations", () => {
    // select1 every 100 ms; one operation hangs 1.5 s and fails (a frozen server), the rest are ok.
    const b = history().start();
    for (let t = 0; t < 500; t += 100) b.select1(t, "ok");
    b.select1(500, "fail", 1500);
    for (let t = 2000; t < 3000; t += 100) b.select1(t, "ok");
    const judged = judgeSteadyState(b.events, 0.9);
    // 15 of 16 operations ok (93.8 %), but clients were not served from 500 to 2005 of 0–2905 ms.
    const expected = availabilityChecker.check(b.events).metrics.ratio!;
    expect(judged.availability).toBeCloseTo(expected, 12);
    expect(judged.availability).toBeCloseTo(1 - 1505 / 2905, 9);
    expect(judged.ok).toBe(false);
    expect(judged.message).toBe(
      "steady state: served select1 48.2% (down 1.50 s of 2.90 s observed; 1 of 16 operations not ok) of the time, required 90.0% (share of time, as availability.ratio)",
    );
  });

  it("passes when every probe was served long enough, and names each share", () => {
    const b = history().start();
    for (let t = 0; t < 1000; t += 100) b.select1(t, "ok").write(t / 100, t + 50, "ok");
    const judged = judgeSteadyState(b.events, 1);
    expect(judged).toEqual({ ok: true, availability: 1, required: 1, message: "steady state: served select1 100.0%, writes 100.0% of the time, required 100.0% (share of time, as availability.ratio)" });
  });

  it("judges each probe: a writes probe that cannot write fails it though select1 is fine", () => {
    const b = history().start();
    for (let t = 0; t < 1000; t += 100) b.select1(t, "ok").write(t / 100, t + 50, t < 500 ? "ok" : "fail");
    const judged = judgeSteadyState(b.events, 0.99);
    expect(judged.ok).toBe(false);
    // The lowest share is the event's availability: writes down from 550 to its last completion, 955.
    expect(judged.availability).toBeCloseTo(1 - 405 / 905, 9);
    expect(judged.message).toMatch(/^steady state: served select1 100\.0%, writes 55\.2% \(down 405\.0 ms of 905\.0 ms observed; 5 of 10 operations not ok\) of the time/);
  });

  it("counts an ok operation slower than the probe's slo as down for the time beyond it", () => {
    const probes = [{ name: "select1", type: "select1" as const, everyMs: 100, timeoutMs: 1000, sloMs: 100 }];
    const b = history().start({ probes });
    for (let t = 0; t < 1000; t += 100) b.select1(t, "ok", t === 500 ? 400 : 5);
    const judged = judgeSteadyState(b.events, 1);
    expect(judged.ok).toBe(false);
    expect(judged.message).toContain("1 slower than the slo");
    expect(judgeSteadyState(history().start().events.concat(b.events.slice(1)), 1).ok).toBe(true); // without the slo: served
  });

  it("fails when a probe completed nothing, or nothing ran", () => {
    const pending = history().start().select1(0, "ok").write(1, 0, "pending");
    expect(judgeSteadyState(pending.events, 0)).toMatchObject({ ok: false, availability: null, message: 'steady state: no operation of "writes" completed in the window (it observed no time)' });
    expect(judgeSteadyState(history().start().events, 0)).toMatchObject({ ok: false, availability: null, message: "steady state: no probe operation completed in the window" });
  });

  it("takes only the window's operations as a drill appends them, and none after it is judged", () => {
    const b = history().start();
    for (let t = 0; t < 1000; t += 100) b.select1(t, "ok");
    b.select1(980, "fail", 100); // completes at 1080, after the window: not observed
    b.select1(1100, "fail");
    b.role(100, "primary", "down");
    const window = new SteadyStateWindow(b.events[0] as RunStartEvent, 1000);
    for (const event of b.events.slice(1)) window.add(event);
    expect(window.judge(1)).toMatchObject({ ok: true, availability: 1 });
    window.add({ kind: "complete", t: 999, probe: "select1", type: "select1", worker: 0, op: 99, outcome: "fail", latencyMs: 1 });
    expect(window.judge(1).ok).toBe(true);
  });
});
