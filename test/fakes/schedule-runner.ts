/**
 * A Schedule runner on the fake pair and a virtual clock, with the schedule as a scenario would
 * give it (validated and planned), for the runner's unit tests. Each test file calls
 * `afterEach(closeRunnerHistories)`, so the History files it opened are closed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FaultEvent, HistoryEvent } from "../../harness/history/events.ts";
import { HistoryWriter } from "../../harness/history/writer.ts";
import { ScheduleRunner } from "../../harness/schedule/execute.ts";
import { planSchedule } from "../../harness/schedule/plan.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { FakeTarget, type FakeTargetOptions } from "./fake-target.ts";
import { VirtualClock } from "./virtual-clock.ts";

const writers: HistoryWriter[] = [];

export function closeRunnerHistories(): void {
  writers.splice(0).forEach((writer) => writer.close());
}

export function runnerOnFakePair(schedule: unknown[], target: Omit<FakeTargetOptions, "clock"> = {}, abort = new AbortController()) {
  const scenario = validateScenario({ name: "s", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], steadyState: { window: "1s" }, schedule, duration: "60s" }, "s");
  const clock = new VirtualClock();
  const topology = new FakeTarget({ clock, ...target });
  const history = HistoryWriter.open(join(mkdtempSync(join(tmpdir(), "pgdrill-runner-")), "history.jsonl"));
  writers.push(history);
  const events: HistoryEvent[] = [];
  history.onEvent((event) => events.push(event));
  const runner = new ScheduleRunner({ runId: "r", topology, history, clock, signal: abort.signal, log: () => undefined });
  const plan = planSchedule(scenario.schedule);
  /** Faults and actions as "kind phase@t", in History order. */
  const steps = () => events.filter((event) => event.kind === "fault" || event.kind === "action").map((event) => `${event.kind === "fault" ? `${event.fault} ${event.phase}` : `${event.action} ${event.phase}`}@${event.t}`);
  const faults = () => events.filter((event): event is FaultEvent => event.kind === "fault");
  return { clock, topology, runner, plan, events, steps, faults, abort };
}
