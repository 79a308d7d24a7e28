/**
 * Manual steps (game days): the schema and its messages, the plan, the refusal where nobody can
 * confirm, and whole drills on a fake target and a virtual clock: a confirmation is a fault of kind
 * "manual" at the moment it came (a disruption, so failover and recovery measure from it); a timeout
 * is recorded and is not one.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import { isDisruption } from "../../harness/history/context.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { runDrill } from "../../harness/run/drill.ts";
import type { OperatorDesk, OperatorInput } from "../../harness/operator/desk.ts";
import { checkManualSteps } from "../../harness/schedule/manual.ts";
import { planSchedule } from "../../harness/schedule/plan.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

const base = {
  name: "game-day",
  target: { kind: "container-pair" },
  probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
  steadyState: { window: "1s", minAvailability: 0 },
  duration: "10s",
};

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
  throw new Error("not refused");
}

describe("manual steps: schema and plan", () => {
  it("takes { at, manual: { say, timeout } }, the timeout defaulting to 5m, and plans it as m1, m2 in time order", () => {
    const scenario = validateScenario({ ...base, duration: "10m", schedule: [{ at: "5s", manual: { say: "Run: kubectl delete pod db-1", timeout: "2m" } }, { at: "3s", manual: { say: "Watch the dashboard" } }] }, "s");
    expect(scenario.schedule[1]).toEqual({ at: "3s", manual: { say: "Watch the dashboard", timeout: "5m" } });
    expect(planSchedule(scenario.schedule)).toEqual([
      { at: 3000, kind: "manual", id: "m2", manual: { say: "Watch the dashboard", timeout: "5m" } },
      { at: 5000, kind: "manual", id: "m1", manual: { say: "Run: kubectl delete pod db-1", timeout: "2m" } },
    ]);
  });

  it("refuses an empty instruction, unknown keys, and a wait that outlasts the drill, by field", () => {
    expect(refusal(() => validateScenario({ ...base, schedule: [{ at: "3s", manual: { say: "  " } }] }, "s"))).toMatch(/schedule\[0\]\.manual\.say.*must say what the operator is to do/s);
    expect(refusal(() => validateScenario({ ...base, schedule: [{ at: "3s", manual: { say: "x", wait: "1m" } }] }, "s"))).toMatch(/wait/);
    expect(refusal(() => validateScenario({ ...base, schedule: [{ at: "3s", manual: { say: "x", timeout: "2m" } }] }, "s"))).toMatch(/schedule\[0\]\.manual\.timeout.*after the drill ends.*Shorten the timeout/s);
    expect(refusal(() => validateScenario({ ...base, schedule: [{ at: "3s" }] }, "s"))).toMatch(/"fault", "action" or "manual"/);
  });

  it("is refused where nobody can confirm: the message names the step and the flag", () => {
    const scenario = validateScenario({ ...base, schedule: [{ at: "3s", fault: { kind: "kill", node: "primary" } }, { at: "4s", manual: { say: "Run: kubectl delete pod db-1", timeout: "5s" } }] }, "s");
    const message = refusal(() => checkManualSteps(scenario.schedule, "ask", false, "--confirm-manual"));
    expect(message).toContain("schedule[1].manual");
    expect(message).toContain('"Run: kubectl delete pod db-1"');
    expect(message).toContain("not interactive");
    expect(message).toContain("--confirm-manual command");
    expect(message).toContain("--confirm-manual auto");
    expect(() => checkManualSteps(scenario.schedule, "auto", false, "--confirm-manual")).not.toThrow();
    expect(() => checkManualSteps(scenario.schedule, "command", false, "--confirm-manual")).not.toThrow();
    expect(() => checkManualSteps(scenario.schedule, "ask", true, "--confirm-manual")).not.toThrow();
    expect(refusal(() => checkManualSteps(scenario.schedule, undefined, true))).toMatch(/schedule\[1\]\.manual.*nobody is set to confirm.*operator\.confirm/s);
  });
});

/** A drill with one manual step at 3 s (timeout 2 s) and whoever `input` is. */
function gameDay(confirm: "ask" | "auto" | "command" | undefined, input?: OperatorInput) {
  const scenario = validateScenario({ ...base, schedule: [{ at: "3s", manual: { say: "Run: kubectl delete pod db-1", timeout: "2s" } }] }, "s");
  const clock = new VirtualClock();
  const started = new FakeTarget({ clock });
  const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: async () => started };
  const outDir = mkdtempSync(join(tmpdir(), "pgdrill-manual-"));
  const events = () => readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
  const run = () => clock.drive(runDrill(scenario, { source: "s", outDir, topology, clock, operator: { ...(confirm ? { confirm } : {}), ...(input ? { input } : {}) } }), { realMsPerJump: 2 });
  return { clock, run, events, outDir };
}

const operatorEvents = (events: HistoryEvent[]) =>
  events.flatMap((e) => {
    if (e.kind === "log") return e.message.startsWith("manual step") ? [`log ${e.level}: ${e.message}`] : [];
    if (e.kind === "fault") return [`fault ${e.phase} ${e.fault} ${e.id}@${e.t}`];
    if (e.kind === "action") return [`action ${e.phase} ${e.action} ${e.id}@${e.t}${e.ok === false ? ` (${e.error})` : ""}`];
    return [];
  });

describe("manual steps in a drill (fake target, virtual clock)", { timeout: 30_000 }, () => {
  it("a confirmation is a fault of kind manual, injected when it came, labelled with the instruction: a disruption", async () => {
    let clockRef: VirtualClock | null = null;
    const input: OperatorInput = {
      attach(desk: OperatorDesk) {
        // The operator needs 1.5 s (virtual) after the instruction shows.
        return desk.onPrompt((prompt) => {
          if (prompt) void clockRef!.sleepUntil(clockRef!.now() + 1500).then(() => desk.confirm("keyboard"));
        });
      },
    };
    const drill = gameDay("ask", input);
    clockRef = drill.clock;
    const outcome = await drill.run();
    const events = drill.events();
    expect(operatorEvents(events)).toEqual([
      "action start manual m1@3000",
      "fault inject manual m1@4500",
      "action end manual m1@4500",
      "log info: manual step m1 confirmed by keyboard 1.50 s after it was shown",
    ]);
    const fault = events.find((e) => e.kind === "fault")!;
    expect(fault).toMatchObject({ label: "Run: kubectl delete pod db-1", nodes: [], ok: true });
    expect(isDisruption(fault)).toBe(true);
    expect(outcome.result.verdict).toBe("pass");
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "completed" });
  });

  it("a timeout ends the wait, is recorded (action end not ok, a warning), and is no fault; the drill goes on and completes", async () => {
    const input: OperatorInput = { attach: () => () => undefined };
    const drill = gameDay("ask", input);
    await drill.run();
    const events = drill.events();
    expect(operatorEvents(events)).toEqual([
      "action start manual m1@3000",
      "action end manual m1@5000 (not confirmed within 2.00 s)",
      'log warn: manual step m1 ("Run: kubectl delete pod db-1"): not confirmed within 2.00 s; recorded as not done (no fault)',
    ]);
    expect(events.filter(isDisruption)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "completed" });
  });

  it("--confirm-manual auto confirms at once; without a confirm mode runDrill refuses before anything starts", async () => {
    const auto = gameDay("auto");
    await auto.run();
    expect(operatorEvents(auto.events()).slice(0, 3)).toEqual(["action start manual m1@3000", "fault inject manual m1@3000", "action end manual m1@3000"]);
    const nobody = gameDay(undefined);
    await expect(nobody.run()).rejects.toThrow(/schedule\[0\]\.manual.*nobody is set to confirm/s);
  });

  it("a `pgdrill confirm` request confirms in command mode (its note a mark); the keyboard then cannot", async () => {
    let confirmedByKey: boolean | null = null;
    const input: OperatorInput = {
      attach(desk) {
        return desk.onPrompt((prompt) => {
          if (!prompt) return;
          confirmedByKey = desk.confirm("keyboard");
          // What the drill does with a line of operator-requests.jsonl (marks.test.ts reads the file for real).
          desk.take({ type: "confirm", note: "pod deleted", pid: 1, at: "" });
        });
      },
    };
    const drill = gameDay("command", input);
    await drill.run();
    expect(confirmedByKey).toBe(false);
    const events = drill.events();
    expect(events.find((e) => e.kind === "fault")).toMatchObject({ fault: "manual", ok: true });
    expect(events.find((e) => e.kind === "mark")).toMatchObject({ note: "pod deleted", by: "command" });
    expect(events.find((e) => e.kind === "log" && e.message.includes("confirmed by command"))).toBeTruthy();
  });
});
