/**
 * What a driver agent is told (docs/drivers.md): its probe, where the database is, the settings
 * passed through to its driver. The password is never in it: the agent gets it in PGPASSWORD.
 */
import type { Endpoint, HostPort, TargetSessionAttrs } from "../../connection/endpoint.ts";
import { probeEndpoint } from "../every-node.ts";
import type { Driver } from "../../scenario/probes.ts";
import type { StartedTopology } from "../../targets/types.ts";

export const AGENT_CONFIG_ENV = "PGDRILL_AGENT_CONFIG";
export const AGENT_PROTOCOL = 1;

export interface AgentConfig {
  protocol: typeof AGENT_PROTOCOL;
  driver: Exclude<Driver, "node-postgres">;
  probe: {
    name: string;
    type: "select1" | "write";
    everyMs: number;
    timeoutMs: number;
    connectTimeoutMs: number;
    connection: "fresh" | "held";
    table?: string;
  };
  target: {
    hosts: HostPort[];
    database: string;
    user: string;
    targetSessionAttrs?: string;
    loadBalanceHosts?: string;
    sslmode?: string;
  };
  settings: Record<string, string | number | boolean>;
  /** The agent exits this long after it started, whatever happens. */
  lifetimeMs: number;
}

/**
 * Where the agent dials. An endpoint with its own host list (a multi-host URL) is given as it is. An
 * `rw` that is only the current primary's own address (the container pair repoints it by hand after a
 * promotion) cannot be followed by a process that was given one host, so the agent gets every node,
 * the current primary first, with target_session_attrs=read-write: how an application using the driver
 * without a proxy or a moving address is configured, and the driver's own way of finding the primary.
 */
export function agentTarget(
  topology: StartedTopology,
  endpointName: string,
  targetSessionAttrs?: TargetSessionAttrs,
): { endpoint: Endpoint; target: AgentConfig["target"] } {
  // every-node is the same multi-host list node-postgres's probes dial (probe/every-node.ts), given to the driver as it is.
  const endpoint = probeEndpoint(topology, { endpoint: endpointName, targetSessionAttrs })();
  const base = { database: endpoint.database, user: endpoint.user, ...sslmode(endpoint) };
  if (endpoint.hosts && endpoint.hosts.length > 0) {
    const extra = {
      ...(endpoint.targetSessionAttrs ? { targetSessionAttrs: endpoint.targetSessionAttrs } : {}),
      ...(endpoint.loadBalanceHosts ? { loadBalanceHosts: endpoint.loadBalanceHosts } : {}),
    };
    return { endpoint, target: { hosts: [...endpoint.hosts], ...base, ...extra } };
  }
  const single = { host: endpoint.host, port: endpoint.port };
  if (endpointName !== "rw") return { endpoint, target: { hosts: [single], ...base } };
  const nodes = topology.nodes.map((node) => topology.endpoint(node));
  const isANode = nodes.some((node) => node.host === endpoint.host && node.port === endpoint.port);
  if (!isANode || nodes.length < 2) return { endpoint, target: { hosts: [single], ...base } };
  const others = nodes.filter((node) => node.host !== endpoint.host || node.port !== endpoint.port);
  const hosts = [single, ...others.map((node) => ({ host: node.host, port: node.port }))];
  return { endpoint, target: { hosts, ...base, targetSessionAttrs: "read-write" } };
}

/** libpq's sslmode for the endpoint's TLS: absent (the driver's default) when pgdrill has none set. */
function sslmode(endpoint: Endpoint): { sslmode?: string } {
  const ssl = endpoint.ssl;
  if (ssl === undefined) return {};
  if (ssl === false) return { sslmode: "disable" };
  if (ssl === true) return { sslmode: "require" };
  return { sslmode: ssl.rejectUnauthorized === false ? "require" : "verify-full" };
}

/**
 * The drill's t of an agent's t. Both clocks are CLOCK_MONOTONIC on one kernel: the agent says its t = 0
 * in ns (`monotonicNs`), and one sample of process.hrtime.bigint() with the drill's clock beside it ties
 * the drill's t to the same clock, so the offset is exact (to the sample's own µs), no estimate.
 */
export interface ClockSample {
  /** process.hrtime.bigint() at the sample (the midpoint of two reads around `drillMs`). */
  hrtimeNs: bigint;
  /** The drill clock's now() at the same instant. */
  drillMs: number;
}

export function sampleClock(drillNow: () => number): ClockSample {
  const before = process.hrtime.bigint();
  const drillMs = drillNow();
  const after = process.hrtime.bigint();
  return { hrtimeNs: (before + after) / 2n, drillMs };
}

/** ms to add to an agent's t to get the drill's t. */
export function agentOffsetMs(monotonicNs: string, sample: ClockSample): number {
  return sample.drillMs + Number(BigInt(monotonicNs) - sample.hrtimeNs) / 1e6;
}

/**
 * The connect timeout the driver really applies. libpq (and psycopg on it) counts connect_timeout in whole seconds and
 * treats anything under 2 as 2, so a 1 s probe setting is a 2 s timeout there: the agent's own deadline (this plus 1 s)
 * must not race the driver's, or a connection the driver would have given up on reads as a hang.
 */
export function driverConnectTimeoutMs(driver: AgentConfig["driver"], connectTimeoutMs: number): number {
  if (driver === "pgjdbc") return Math.max(1000, Math.ceil(connectTimeoutMs / 1000) * 1000);
  return Math.max(2000, Math.ceil(connectTimeoutMs / 1000) * 1000);
}
