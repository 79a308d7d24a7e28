/**
 * A started target that does nothing but keep a record: which call came when (on the drill's
 * clock) and what state each node is in. Each call takes the virtual time it is given, so tests
 * can make an injection slower than its `for`. Its endpoint points at a port nothing listens on:
 * probes get a quick refusal, recorded as `fail`. A stand-in for tests of the Schedule and the
 * drill's flow, not for any real target's behaviour.
 */
import type { Clock } from "../../harness/clock.ts";
import type { ControlsOf, Cut, StartedTopology } from "../../harness/targets/types.ts";

type Endpoint = ReturnType<StartedTopology["endpoint"]>;
export type FakeCall = { method: string; node: string; t: number; phase: "start" | "end" };
type Method =
  "kill" | "stopGracefully" | "pause" | "unpause" | "cut" | "healCuts" | "shape" | "unshape" | "promote" | "repoint" | "teardown";

export interface FakeTargetOptions {
  clock: Clock;
  /** Virtual ms each call takes; default 0. */
  takes?: Partial<Record<Method, number>>;
  /** Calls that fail with this message. */
  fails?: Partial<Record<Method, string>>;
  /** Calls that never finish. */
  hangs?: readonly Method[];
  /** The endpoint's port (default 9: discard, nothing listens). */
  port?: number;
  /** Virtual ms finding what a role names takes (Patroni asks its REST API); default 0. */
  resolveTakes?: number;
}

export class FakeTarget implements StartedTopology {
  readonly kind = "container-pair";
  readonly nodes = ["primary", "standby"] as const;
  rwNode = "primary";
  readonly calls: FakeCall[] = [];
  readonly paused = new Set<string>();
  readonly cutOff = new Set<string>();
  readonly down = new Set<string>();
  readonly shaped = new Set<string>();
  /** The controls a container pair hands out, each recorded as a call. */
  readonly controls: ControlsOf<"kill" | "stop" | "freeze" | "network" | "shaping" | "promotion"> = {
    kill: { kill: (node) => this.kill(node) },
    stop: { stop: (node) => this.stopGracefully(node) },
    freeze: { pause: (node) => this.pause(node), unpause: (node) => this.unpause(node) },
    network: { cut: (cut) => this.cut(cut), healCuts: (node) => this.healCuts(node) },
    shaping: {
      shape: async (node) => {
        await this.call("shape", node, () => this.shaped.add(node));
        return "fake shaping";
      },
      unshape: (node) => this.call("unshape", node, () => this.shaped.delete(node)),
    },
    promotion: { promote: (node) => this.promote(node), repoint: (endpoint, node) => this.repoint(endpoint, node) },
  };
  tornDown = 0;
  private readonly options: FakeTargetOptions;

  constructor(options: FakeTargetOptions) {
    this.options = options;
  }

  /** What was called, in order of its start, as "method node@t". */
  get log(): string[] {
    return this.calls.filter((call) => call.phase === "start").map((call) => `${call.method} ${call.node}@${call.t}`);
  }

  endpoint(name: string): Endpoint {
    const node = name === "rw" ? this.rwNode : name;
    return { host: "127.0.0.1", port: this.options.port ?? 9, database: "postgres", user: "postgres", password: "fake", node };
  }

  async resolve(node: string): Promise<string> {
    const ms = this.options.resolveTakes ?? 0;
    if (ms > 0) await this.options.clock.sleepUntil(this.options.clock.now() + ms);
    return node;
  }
  redact(text: string): string {
    return text.split("fake").join("***");
  }

  async repoint(_endpoint: "rw", node: string): Promise<void> {
    await this.call("repoint", node, () => (this.rwNode = node));
  }
  async kill(node: string): Promise<void> {
    await this.call("kill", node, () => this.down.add(node));
  }
  async stopGracefully(node: string): Promise<void> {
    await this.call("stopGracefully", node, () => this.down.add(node));
  }
  async pause(node: string): Promise<void> {
    await this.call("pause", node, () => this.paused.add(node));
  }
  async unpause(node: string): Promise<void> {
    await this.call("unpause", node, () => this.paused.delete(node));
  }
  async cut(cut: Cut): Promise<void> {
    await this.call("cut", cut.node, () => this.cutOff.add(cut.node));
  }
  async healCuts(node: string): Promise<void> {
    await this.call("healCuts", node, () => this.cutOff.delete(node));
  }
  async promote(node: string): Promise<void> {
    await this.call("promote", node, () => undefined);
  }
  async teardown(): Promise<string[]> {
    this.tornDown += 1;
    return ["fake target"];
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  /** Records the start, takes its time, fails or hangs as told, then applies `effect` and records the end. */
  private async call(method: Method, node: string, effect: () => unknown): Promise<void> {
    const { clock, takes, fails, hangs } = this.options;
    this.calls.push({ method, node, t: clock.now(), phase: "start" });
    if (hangs?.includes(method)) await new Promise(() => undefined);
    const ms = takes?.[method] ?? 0;
    if (ms > 0) await clock.sleepUntil(clock.now() + ms);
    if (fails?.[method]) throw new Error(fails[method]);
    effect();
    this.calls.push({ method, node, t: clock.now(), phase: "end" });
  }
}
