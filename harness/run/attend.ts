/**
 * What acts on a running drill from outside its plan: the kill switch (the scenario's `abortIf`,
 * judged live, and `pgdrill stop`), and the operator's marks and confirmations (the keyboard,
 * `pgdrill mark` and `pgdrill confirm`), which the desk hands to the manual steps.
 */
import { roundMs, type Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { RunStartEvent } from "../history/events.ts";
import type { HistoryWriter } from "../history/writer.ts";
import { OperatorDesk, type OperatorOptions } from "../operator/desk.ts";
import { watchOperatorRequests } from "../operator/requests.ts";
import type { Scenario } from "../scenario/schema.ts";
import { manualSteps } from "../schedule/manual.ts";
import { breachReason, KillSwitch, stopBreach, watchForStop, type Breach } from "./abort.ts";

export interface Attendance {
  readonly desk: OperatorDesk;
  /** What tripped the kill switch, if anything did. */
  readonly breach: Breach | null;
  /** The heal the kill switch started when it tripped, to await before the drill's own. */
  readonly breachHeal: Promise<void> | undefined;
  /** Stops watching (reading what requests are left once more). */
  stop(): void;
}

export function attendDrill(options: {
  scenario: Scenario;
  runDir: string;
  runStart: RunStartEvent;
  history: HistoryWriter;
  clock: Clock;
  log: (line: string) => void;
  operator: OperatorOptions | undefined;
  /** The drill's stop: the kill switch aborts it with the breach's reason. */
  drill: AbortController;
  /** Heals every fault at once (nothing before the schedule runs). */
  healAll: () => Promise<void> | undefined;
}): Attendance {
  const { history, clock, log } = options;
  const now = () => roundMs(clock.now());
  // Acted on outside the append that noticed it: heal every fault at once, stop the drill, end aborted.
  let breachHeal: Promise<void> | undefined;
  const killSwitch = new KillSwitch(options.scenario.abortIf, (breach) =>
    setImmediate(() => {
      history.append({ kind: "log", t: now(), level: "error", message: breachReason(breach) });
      log(`${breachReason(breach)}: healing every fault, stopping the drill`);
      options.drill.abort(new Error(breachReason(breach)));
      breachHeal = options.healAll()?.catch((error: unknown) => log(`heal failed: ${errorMessage(error)}`));
    }),
  );
  killSwitch.add(options.runStart);
  history.onEvent(killSwitch.add);
  const stopWatching = watchForStop(options.runDir, options.runStart.runId, (request) => killSwitch.trip(stopBreach(request, now())));

  const warn = (message: string) => history.append({ kind: "log", t: now(), level: "warn", message });
  const desk = new OperatorDesk({
    mode: options.operator?.confirm ?? null,
    record: (mark) => history.append({ kind: "mark", ...mark }),
    now: () => clock.now(),
    log,
    warn,
    steps: manualSteps(options.scenario.schedule).map(({ id, say }) => ({ id, say })),
  });
  const stopRequests = watchOperatorRequests(
    options.runDir,
    (request) => desk.take(request),
    (problem) => {
      warn(`an operator request was refused: ${problem}`);
      log(`operator request refused: ${problem}`);
    },
  );
  const detachInput = options.operator?.input?.attach(desk);

  return {
    desk,
    get breach() {
      return killSwitch.breach;
    },
    get breachHeal() {
      return breachHeal;
    },
    stop() {
      stopWatching();
      detachInput?.();
      stopRequests();
    },
  };
}
