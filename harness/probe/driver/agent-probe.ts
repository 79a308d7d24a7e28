/**
 * A select1 or writes probe run by a driver agent (docs/drivers.md): a program in the driver's own
 * language that connects and queries through that driver's own logic and defaults, and reports each
 * operation in the line protocol. prepare builds the agent (once per version, build.ts), creates the
 * writes table as the node-postgres probe does, and starts it; run sends `run`, maps each event onto
 * the drill's clock exactly (config.ts), labels it with the endpoint's node as the local probes do, and
 * stops it at `until`; the final read is the writes probe's own (lost-write accounting by probe name).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { roundMs } from "../../clock.ts";
import { HarnessError } from "../../errors.ts";
import type { HistoryEvent } from "../../history/events.ts";
import type { ProbeSpec } from "../../scenario/schema.ts";
import type { StartedTopology } from "../../targets/types.ts";
import { probeSettings, type Probe, type ProbeContext } from "../probe.ts";
import { createWritesTable, finalReadOf, writesTable } from "../writes.ts";
import { agentDir } from "./build.ts";
import { probeEndpoint } from "../every-node.ts";
import { AGENT_PROTOCOL, agentOffsetMs, agentTarget, driverConnectTimeoutMs, sampleClock, type AgentConfig } from "./config.ts";
import { AgentProcess } from "./spawn.ts";

type AgentSpec = Extract<ProbeSpec, { kind: "select1" | "writes" }> & { driver: AgentConfig["driver"] };

/** How long an agent may take to say hello (a JVM starting on a busy machine). */
const HELLO_TIMEOUT_MS = 60_000;
/** An agent asked to stop gets this long beyond its operation's own deadlines before stdin closes, then its group is killed. */
const STOP_GRACE_MS = 3000;
const KILL_AFTER_MS = 3000;
/** Nothing outlives a crashed drill: the agent exits this long after it started whatever happens (and at once when stdin closes). */
const LIFETIME_MS = 6 * 3600_000;

export function isAgentSpec(spec: ProbeSpec): spec is AgentSpec {
  return spec.kind !== "role" && spec.driver !== "node-postgres";
}

export function agentProbe(spec: AgentSpec): Probe {
  const { name, everyMs, timeoutMs, connectTimeoutMs } = probeSettings(spec);
  const type = spec.kind === "writes" ? "write" : "select1";
  const sessionOptions = { connectTimeoutMs, applicationName: `pgdrill-${name}` };
  let agent: AgentProcess | null = null;
  let pending: string[] = [];
  let log: (line: string) => void = (line) => pending.push(line);

  const failure = (what: string) =>
    new HarnessError(`the ${spec.driver} agent of probe "${name}" ${what}${agent?.lastError ? `: ${agent.lastError}` : ""}`);

  async function stop(current: AgentProcess, graceMs: number): Promise<void> {
    current.send({ command: "stop" });
    if (await settled(current, graceMs)) return;
    current.endInput();
    if (await settled(current, KILL_AFTER_MS)) return;
    log(`${spec.driver} agent (${name}) did not exit; killing its process group`);
    current.kill();
    await current.exited;
  }

  return {
    name,
    type,
    async prepare(topology: StartedTopology) {
      const dir = await agentDir(spec.driver);
      if (spec.kind === "writes") await createWritesTable(topology, sessionOptions);
      const { endpoint, target } = agentTarget(topology, spec.endpoint, spec.targetSessionAttrs);
      // The timeout the driver really applies (libpq: whole seconds, at least 2), so the agent's deadline stays behind it.
      const connectMs = driverConnectTimeoutMs(spec.driver, connectTimeoutMs);
      const config: AgentConfig = {
        protocol: AGENT_PROTOCOL,
        driver: spec.driver,
        probe: { name, type, everyMs, timeoutMs, connectTimeoutMs: connectMs, connection: spec.connection === "held" ? "held" : "fresh" },
        target,
        settings: spec.driverSettings ?? {},
        lifetimeMs: LIFETIME_MS,
      };
      if (spec.kind === "writes") config.probe.table = writesTable(topology);
      agent = new AgentProcess({ dir, config, password: endpoint.password, log: (line) => log(line) });
      await Promise.race([agent.waitForHello(), sleep(HELLO_TIMEOUT_MS)]);
      if (!agent.hello) {
        const started = agent;
        await stop(started, 0);
        throw failure(started.exitedYet ? "exited before it said hello" : `said no hello within ${HELLO_TIMEOUT_MS / 1000} s`);
      }
    },
    async run(context: ProbeContext) {
      const current = agent;
      if (!current?.hello) throw new HarnessError(`probe "${name}" was not prepared`);
      const flush = pending;
      pending = [];
      log = context.log ?? (() => undefined);
      for (const line of flush) log(line);
      const { history, clock, topology } = context;
      const offset = agentOffsetMs(
        current.hello.monotonicNs,
        sampleClock(() => clock.now()),
      );
      const invoked = new Map<number, string>();
      // every-node is no endpoint of the target's own: it is resolved as node-postgres's probes resolve it.
      const endpointNow = probeEndpoint(topology, spec);
      let foreign: string | null = null;
      current.onEvent = (event) => {
        if ((event.kind !== "invoke" && event.kind !== "complete") || event.probe !== name || event.type !== type) {
          const of = "probe" in event ? JSON.stringify(event.probe) : "no probe";
          foreign ??= `an event that is not this probe's operation (${event.kind} of ${of})`;
          return;
        }
        const shifted = { ...event, t: roundMs(event.t + offset) } as HistoryEvent & { node?: string };
        // The node is the endpoint's at invoke, as the local probes label it; served-by maps `server` later.
        if (event.kind === "invoke") {
          const node = endpointNow().node;
          invoked.set(event.op, node);
          shifted.node = node;
        } else {
          const node = invoked.get(event.op);
          invoked.delete(event.op);
          if (node !== undefined) shifted.node = node;
        }
        history.append(shifted);
      };
      current.send({ command: "run", durationMs: Math.max(0, Math.round(context.until - clock.now())) });
      const stopped = new AbortController();
      const stopAtUntil = clock.sleepUntil(context.until, AbortSignal.any([context.signal, stopped.signal])).then(async () => {
        // The operation in flight may still be connecting: the agent's own deadline for that, then the statement's.
        const connectDeadlineMs = current.hello?.connectDeadlineMs ?? driverConnectTimeoutMs(spec.driver, connectTimeoutMs) + 1000;
        if (!current.exitedYet) await stop(current, connectDeadlineMs + timeoutMs + STOP_GRACE_MS);
      });
      const exit = await current.exited;
      stopped.abort();
      await stopAtUntil;
      if (current.badLine) throw failure(`wrote a line pgdrill refuses (${current.badLine})`);
      if (foreign) throw failure(`wrote ${foreign}`);
      if (!current.states.includes("probes-done")) {
        throw failure(`exited before its probe was done (${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`})`);
      }
    },
    finalRead: spec.kind === "writes" ? (context) => finalReadOf(name, context, sessionOptions) : undefined,
    async close() {
      if (agent && !agent.exitedYet) await stop(agent, 0);
    },
  };
}

/** True when the agent exited within `ms`. */
async function settled(agent: AgentProcess, ms: number): Promise<boolean> {
  if (agent.exitedYet) return true;
  const timer = new AbortController();
  const done = await Promise.race([agent.exited.then(() => true), sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
  timer.abort();
  return done;
}
