/**
 * The runner's History coming back: lines of its pod's log (protocol.ts), in any chunks, become
 * events in the drill's History on the drill's clock. A line seen before (the stream was followed
 * again and replayed) is skipped by its seq; an event is shifted by the clock offset known when
 * it arrives (clock-sync.ts), and the name the runner gave an operation through a Service
 * (`<cluster>-rw`) becomes the instance that Service routed to at that moment, as the drill's
 * EndpointSlice watch saw it: the same labelling the outside view gets.
 */
import type { HistoryEvent } from "../../../history/events.ts";
import { roundMs } from "../../../clock.ts";
import type { ClockEstimate } from "./clock-sync.ts";
import { parseRunnerLine, type HelloLine, type RunnerLine, type StateLine } from "../../../runner/protocol.ts";

export interface MergeOptions {
  /** Where merged events go (the drill's History). */
  append: (event: HistoryEvent) => void;
  /** The runner's error lines and anything odd, for the drill's log. */
  log: (line: string) => void;
  /** The node an operation the runner sent through `service` reached, at drill t. Unchanged when unknown. */
  relabel?: (node: string, t: number) => string;
}

export class RunnerMerge {
  hello: HelloLine | null = null;
  readonly states: StateLine[] = [];
  /** Events merged into the History. */
  merged = 0;
  /** Lines skipped as already seen (a replayed stream). */
  replayed = 0;
  private lastSeq = 0;
  private partial = "";
  private estimate: ClockEstimate | null = null;
  /** Lines that came before any clock estimate: held until there is one. */
  private held: RunnerLine[] = [];
  private readonly waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  private readonly options: MergeOptions;

  constructor(options: MergeOptions) {
    this.options = options;
  }

  get clock(): ClockEstimate | null {
    return this.estimate;
  }

  /** A new estimate applies to every event that arrives from now on; held events are released with it. */
  setClock(estimate: ClockEstimate): void {
    this.estimate = estimate;
    const held = this.held;
    this.held = [];
    for (const line of held) this.take(line);
  }

  /** A chunk of the log stream, cut anywhere. */
  feed(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  /** The stream ended: a last line without its newline still counts. A new stream starts clean. */
  end(): void {
    if (this.partial.trim() !== "") this.line(this.partial);
    this.partial = "";
  }

  /** Resolves once `test` holds after a line (or at once); for waiting on the runner's states. */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  sawState(state: StateLine["state"]): boolean {
    return this.states.some((line) => line.state === state);
  }

  private line(text: string): void {
    const line = parseRunnerLine(text);
    if (line === null) {
      if (text.trim() !== "") this.options.log(`probe runner: ${text.trim().slice(0, 300)}`);
      return;
    }
    if (line.seq <= this.lastSeq) {
      this.replayed += 1;
      return;
    }
    this.lastSeq = line.seq;
    if (line.type === "event" && this.estimate === null) this.held.push(line);
    else this.take(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  private take(line: RunnerLine): void {
    switch (line.type) {
      case "hello":
        this.hello = line;
        return;
      case "state":
        this.states.push(line);
        return;
      case "error":
        this.options.log(`probe runner: ${line.message}`);
        return;
      case "event": {
        this.options.append(this.shift(line.event));
        this.merged += 1;
        return;
      }
    }
  }

  private shift(event: HistoryEvent): HistoryEvent {
    const offset = this.estimate?.offsetMs ?? 0;
    const t = roundMs(event.t + offset);
    const shifted = { ...event, t } as HistoryEvent;
    const relabel = this.options.relabel;
    if (
      relabel &&
      (shifted.kind === "invoke" || shifted.kind === "complete" || shifted.kind === "final-read") &&
      shifted.node !== undefined
    ) {
      // A complete's node is where its invoke went: relabel by the invoke's time, so both agree.
      const at = shifted.kind === "complete" ? roundMs(t - shifted.latencyMs) : t;
      shifted.node = relabel(shifted.node, at);
    }
    return shifted;
  }
}
