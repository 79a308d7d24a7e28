/**
 * The in-cluster probe runner: pgdrill's own probes (harness/probe/, the same code the drill runs
 * from outside), run inside the cluster against the operator's Services and the instance pods,
 * their History written to stdout as JSON lines (runner/protocol.ts) for the drill to
 * read back from the pod's log. The drill drives it over a small HTTP control port: GET /clock
 * (its clock, for the drill's offset estimate), POST /run {durationMs}, POST /stop,
 * POST /final-read, POST /exit. Bounded: a run is at most `maxRunMs`, each probe's operations are
 * bounded by its window (probe.ts), and the process exits `lifetimeMs` after it started whatever
 * the drill does. It needs no Kubernetes rights: it never calls the API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { errorMessage } from "../errors.ts";
import type { Endpoint } from "../connection/endpoint.ts";
import { HistoryWriter } from "../history/writer.ts";
import { buildProbe, type Probe } from "../probe/index.ts";
import { monotonicClock, roundMs, type Clock } from "../clock.ts";
import { probe as probeSchema } from "../scenario/probes.ts";
import type { StartedTopology } from "../targets/types.ts";
import type { RunnerConfig } from "../targets/cnpg/runner/protocol.ts";
import { RUNNER_PROTOCOL, RUNNER_TAG, type RunnerLineBody } from "./protocol.ts";
import { VERSION } from "../version.ts";

const hostPort = z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
const configSchema = z.strictObject({
  protocol: z.literal(RUNNER_PROTOCOL),
  cluster: z.string().min(1),
  nodes: z.array(hostPort.extend({ name: z.string().min(1) })).min(1),
  rw: hostPort,
  ro: hostPort,
  user: z.string().min(1),
  database: z.string().min(1),
  passwordEnv: z.string().min(1),
  probes: z.array(probeSchema).min(1),
  maxRunMs: z
    .number()
    .int()
    .positive()
    .max(6 * 3600_000),
  lifetimeMs: z
    .number()
    .int()
    .positive()
    .max(12 * 3600_000),
  controlPort: z.number().int().min(0).max(65535),
});

/** Reads and checks the config; a bad one is refused with the field that is wrong. */
export function parseRunnerConfig(text: string): RunnerConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`the probe runner's config is not JSON (${errorMessage(error)})`);
  }
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`the probe runner's config: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  }
  return parsed.data as RunnerConfig;
}

export interface RunnerOptions {
  config: RunnerConfig;
  /** The app user's password (from the environment variable the config names). */
  password: string;
  /** The user, when the environment gives it (the secret's username); else the config's. */
  user?: string;
  /** Where lines go; default stdout. */
  write?: (line: string) => void;
  /** Called when the runner is done (POST /exit, its lifetime over); default process.exit. */
  exit?: (code: number) => void;
  clock?: Clock;
}

export class ProbeRunner {
  readonly clock: Clock;
  private readonly config: RunnerConfig;
  private readonly topology: StartedTopology;
  private readonly probes: Probe[];
  private readonly history: HistoryWriter;
  private readonly write: (line: string) => void;
  private readonly exitWith: (code: number) => void;
  private seq = 0;
  private server: Server | null = null;
  private probing: AbortController | null = null;
  private running: Promise<void> | null = null;
  private lifetime: NodeJS.Timeout | null = null;
  private finished = false;

  constructor(options: RunnerOptions) {
    this.config = options.config;
    this.clock = options.clock ?? monotonicClock();
    this.write = options.write ?? ((line) => process.stdout.write(line));
    this.exitWith = options.exit ?? ((code) => process.exit(code));
    this.topology = inClusterTopology(options.config, options.user ?? options.config.user, options.password);
    this.probes = options.config.probes.map(buildProbe);
    // The runner's own copy of what it recorded, in its pod's /tmp (an emptyDir); stdout is what the drill reads.
    this.history = HistoryWriter.open(join(mkdtempSync(join(tmpdir(), "pgdrill-runner-")), "history.jsonl"));
    this.history.onEvent((event) => this.emit({ type: "event", event }));
  }

  /** Listens on the control port, then says hello (its clock at t = 0, the port); resolves with the port. */
  async start(): Promise<number> {
    this.lifetime = setTimeout(() => void this.exit(`its lifetime of ${this.config.lifetimeMs} ms is over`), this.config.lifetimeMs);
    this.lifetime.unref();
    this.server = createServer(
      (req, res) => void this.handle(req, res).catch((error: unknown) => reply(res, 500, { error: errorMessage(error) })),
    );
    await new Promise<void>((resolve) => this.server!.listen(this.config.controlPort, resolve));
    const address = this.server.address();
    const port = typeof address === "object" && address ? address.port : this.config.controlPort;
    const t0 = this.clock.now();
    const monotonicNs = process.hrtime.bigint() - BigInt(Math.round(t0 * 1e6));
    this.emit({
      type: "hello",
      t: roundMs(t0),
      wallClock: new Date(Date.now() - t0).toISOString(),
      monotonicNs: String(monotonicNs),
      version: VERSION,
      probes: this.probes.map((probe) => probe.name),
      controlPort: port,
      runtime: { node: process.version, uid: process.getuid?.() ?? null },
    });
    return port;
  }

  private emit(body: RunnerLineBody): void {
    this.seq += 1;
    this.write(JSON.stringify({ [RUNNER_TAG]: RUNNER_PROTOCOL, seq: this.seq, ...body }) + "\n");
  }

  private state(state: "running" | "probes-done" | "final-read-done" | "exiting", reason?: string): void {
    this.emit({ type: "state", t: roundMs(this.clock.now()), state, ...(reason ? { reason } : {}) });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    // The clock is read as the request is handled, before the body: the round trip bounds it.
    if (req.method === "GET" && path === "/clock") return reply(res, 200, { t: this.clock.now() });
    const body = await readJson(req);
    if (req.method !== "POST") return reply(res, 405, { error: "POST only, but GET /clock" });
    switch (path) {
      case "/run": {
        const durationMs = Number((body as { durationMs?: unknown }).durationMs);
        if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > this.config.maxRunMs) {
          return reply(res, 400, { error: `durationMs must be a number of ms in (0, ${this.config.maxRunMs}]` });
        }
        if (this.running) return reply(res, 409, { error: "already ran" });
        this.running = this.run(durationMs);
        return reply(res, 202, { t: this.clock.now() });
      }
      case "/stop":
        this.probing?.abort();
        return reply(res, 200, { t: this.clock.now() });
      case "/final-read":
        await this.running;
        await this.finalRead();
        return reply(res, 200, { t: this.clock.now() });
      case "/exit":
        reply(res, 200, { t: this.clock.now() });
        await this.exit("the drill is done with it");
        return;
      default:
        return reply(res, 404, { error: `no ${path}` });
    }
  }

  /** Prepares every probe (the writes table), then runs them all for `durationMs`. */
  private async run(durationMs: number): Promise<void> {
    this.probing = new AbortController();
    try {
      for (const probe of this.probes) await probe.prepare?.(this.topology);
      const until = this.clock.now() + durationMs;
      this.state("running");
      const context = { topology: this.topology, history: this.history, clock: this.clock, until, signal: this.probing.signal };
      const results = await Promise.allSettled(this.probes.map((probe) => probe.run(context)));
      for (const result of results) if (result.status === "rejected") this.error(`a probe failed: ${errorMessage(result.reason)}`);
      this.state("probes-done");
    } catch (error) {
      this.error(`preparing the probes failed: ${errorMessage(error)}`);
      this.state("probes-done", errorMessage(error));
    }
    this.history.flush();
  }

  private async finalRead(): Promise<void> {
    for (const probe of this.probes) {
      await probe
        .finalRead?.({ topology: this.topology, history: this.history, clock: this.clock, signal: new AbortController().signal })
        .catch((error: unknown) => this.error(`final read of ${probe.name} failed: ${errorMessage(error)}`));
    }
    this.state("final-read-done");
    this.history.flush();
  }

  private error(message: string): void {
    this.emit({ type: "error", t: roundMs(this.clock.now()), message: this.topology.redact(message) });
  }

  async exit(reason: string): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.probing?.abort();
    if (this.lifetime) clearTimeout(this.lifetime);
    this.state("exiting", reason);
    this.history.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    this.exitWith(0);
  }
}

/**
 * The cluster as the runner sees it from inside: rw and ro are the operator's Services (the
 * operation is labelled with the Service's name; the drill relabels it with the instance the
 * Service routed to then), each instance is reached directly for the role probe.
 */
export function inClusterTopology(config: RunnerConfig, user: string, password: string): StartedTopology {
  const base = { user, password, database: config.database };
  const nodes = config.nodes.map((node) => node.name);
  const endpoint = (name: string): Endpoint => {
    if (name === "rw") return { ...base, ...config.rw, node: `${config.cluster}-rw` };
    if (name === "ro") return { ...base, ...config.ro, node: `${config.cluster}-ro` };
    const node = config.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no instance "${name}" in cluster ${config.cluster}`);
    return { ...base, host: node.host, port: node.port, node: node.name };
  };
  return {
    kind: "cnpg-in-cluster",
    nodes,
    rwNode: `${config.cluster}-rw`,
    endpoint,
    controls: {},
    resolve: async (node) => node,
    redact: (text) => (password.length >= 4 ? text.split(password).join("***") : text),
    teardown: async () => [],
    [Symbol.asyncDispose]: async () => undefined,
  };
}

function reply(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      if (text.length < 65_536) text += chunk.toString();
    });
    req.on("end", () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch {
        resolve({});
      }
    });
  });
}

/**
 * The entry point (`pgdrill probe-runner`, hidden): config from --config (a file or JSON) or
 * PGDRILL_RUNNER_CONFIG, the password from the variable it names. Resolves with the exit code
 * once the runner is done (POST /exit, SIGTERM, or its lifetime over).
 */
export async function runProbeRunner(
  configText: string,
  env: NodeJS.ProcessEnv = process.env,
  write?: (line: string) => void,
): Promise<number> {
  const config = parseRunnerConfig(configText);
  const password = env[config.passwordEnv];
  if (password === undefined)
    throw new Error(
      `the probe runner's password variable ${config.passwordEnv} is not set (the pod takes it from the Cluster's <cluster>-app secret)`,
    );
  let done!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (done = resolve));
  const runner = new ProbeRunner({
    config,
    password,
    ...(env.PGDRILL_RUNNER_USER ? { user: env.PGDRILL_RUNNER_USER } : {}),
    exit: done,
    ...(write ? { write } : {}),
  });
  const onSignal = (signal: NodeJS.Signals) => void runner.exit(signal);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  await runner.start();
  const code = await exited;
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  return code;
}
