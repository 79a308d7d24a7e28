/**
 * The drill's side of the in-cluster probe runner: it follows the runner's log into the History,
 * keeps the runner's clock aligned with its own (a burst of pings before the probes start, then
 * every few seconds while they run, and after the final reads; each estimate a `log` event in the
 * History: the offset and its ± bound), starts and stops the probes, asks for the final reads
 * after the faults are healed, and lets the runner go.
 */
import type { HistoryWriter } from "../../../history/writer.ts";
import { errorMessage } from "../../../errors.ts";
import { roundMs, type Clock } from "../../../clock.ts";
import { describeEstimate, estimateOffset, pingBurst, type ClockEstimate } from "./clock-sync.ts";
import { RunnerMerge } from "./merge.ts";
import type { RunnerTransport } from "./transport.ts";

/** What the drill hands the runner's session: its History and its clock. */
export interface RemoteContext {
  history: HistoryWriter;
  clock: Clock;
  /** Probing stops at this drill t. */
  until?: number;
  signal: AbortSignal;
}

export interface RunnerSessionOptions {
  transport: RunnerTransport;
  log: (line: string) => void;
  /** The instance a Service routed to at drill t (from the EndpointSlice watch); see merge.ts. */
  relabel?: (node: string, t: number) => string;
  /** Pings per burst (default 10) and the time between bursts while probing (default 5 s). */
  pings?: number;
  resyncEveryMs?: number;
  /** How long past `until` the runner may take to report its probes done. */
  drainMs?: number;
}

export class RunnerSession {
  readonly estimates: ClockEstimate[] = [];
  private readonly options: RunnerSessionOptions;
  private merge: RunnerMerge | null = null;
  private following: Promise<void> | null = null;
  private readonly stopFollowing = new AbortController();
  private context: RemoteContext | null = null;

  constructor(options: RunnerSessionOptions) {
    this.options = options;
  }

  /** Starts following the log and aligns the clocks; events held until the first estimate exists. */
  async attach(context: RemoteContext): Promise<ClockEstimate> {
    this.context = context;
    const merge = new RunnerMerge({
      append: (event) => context.history.append(event),
      log: this.options.log,
      ...(this.options.relabel ? { relabel: this.options.relabel } : {}),
    });
    this.merge = merge;
    this.following = this.follow(merge);
    const estimate = await this.sync("before the probes");
    // Its hello is its first line, so it has almost always come by now; the History says what ran the probes.
    await withTimeout(
      merge.until(() => merge.hello !== null),
      2000,
      "",
    ).catch(() => undefined);
    const hello = merge.hello;
    if (hello)
      context.history.append({
        kind: "log",
        t: roundMs(context.clock.now()),
        level: "info",
        message:
          `probe runner: pgdrill ${hello.version}` +
          `${hello.runtime ? ` on node ${hello.runtime.node} as uid ${hello.runtime.uid ?? "unknown"}` : ""}`,
      });
    return estimate;
  }

  /** Runs the runner's probes until `context.until`, re-aligning the clock meanwhile; resolves when it reports them done. */
  async run(context: RemoteContext): Promise<void> {
    if (!this.merge || this.context !== context) await this.attach(context);
    const merge = this.merge!;
    const until = context.until ?? context.clock.now();
    await this.options.transport.post("/run", { durationMs: Math.max(1, Math.round(until - context.clock.now())) });
    const onAbort = () => void this.options.transport.post("/stop", {}).catch(() => undefined);
    context.signal.addEventListener("abort", onAbort, { once: true });
    const every = this.options.resyncEveryMs ?? 5000;
    const drainMs = this.options.drainMs ?? 20_000;
    try {
      const done = merge.until(() => merge.sawState("probes-done"));
      for (;;) {
        const timer = new Promise<"tick">((resolve) => setTimeout(() => resolve("tick"), every).unref());
        const which = await Promise.race([done.then(() => "done" as const), timer]);
        if (which === "done") break;
        if (context.clock.now() > until + drainMs)
          throw new Error(`the probe runner did not report its probes done within ${drainMs} ms of the end of the drill`);
        await this.sync("while probing").catch((error: unknown) => this.options.log(`probe runner clock: ${errorMessage(error)}`));
      }
    } finally {
      context.signal.removeEventListener("abort", onAbort);
    }
  }

  /** After the heal: the runner reads its writes back; then a last clock estimate. */
  async finalRead(): Promise<void> {
    const merge = this.merge;
    if (!merge) return;
    await this.options.transport.post("/final-read", {});
    await withTimeout(
      merge.until(() => merge.sawState("final-read-done")),
      30_000,
      "the probe runner's final read",
    );
    await this.sync("after the final read").catch((error: unknown) => this.options.log(`probe runner clock: ${errorMessage(error)}`));
  }

  /** Lets the runner exit and stops following its log. Never throws. */
  async close(): Promise<void> {
    await this.options.transport.post("/exit", {}).catch(() => undefined);
    const merge = this.merge;
    if (merge)
      await withTimeout(
        merge.until(() => merge.sawState("exiting")),
        3000,
        "",
      ).catch(() => undefined);
    this.stopFollowing.abort();
    await this.following?.catch(() => undefined);
    this.options.transport.close();
  }

  /** A burst of pings; the estimate goes to the merge and, as a log event, to the History. */
  async sync(what: string): Promise<ClockEstimate> {
    const context = this.context;
    if (!context || !this.merge) throw new Error("the probe runner's session is not attached");
    const samples = await pingBurst(
      () => this.options.transport.clock(),
      () => context.clock.now(),
      this.options.pings ?? 10,
    );
    const estimate = estimateOffset(samples);
    if (!estimate) throw new Error(`no clock ping answered (${what})`);
    this.estimates.push(estimate);
    this.merge.setClock(estimate);
    context.history.append({ kind: "log", t: roundMs(context.clock.now()), level: "info", message: describeEstimate(estimate, what) });
    return estimate;
  }

  get merged(): RunnerMerge | null {
    return this.merge;
  }

  /** Follows the log, again after a break (the replay is skipped by seq), until closed. */
  private async follow(merge: RunnerMerge): Promise<void> {
    while (!this.stopFollowing.signal.aborted) {
      try {
        await this.options.transport.follow((chunk) => merge.feed(chunk), this.stopFollowing.signal);
      } catch (error) {
        if (!this.stopFollowing.signal.aborted) this.options.log(`probe runner log: ${errorMessage(error)}; following it again`);
      }
      merge.end();
      if (merge.sawState("exiting")) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
