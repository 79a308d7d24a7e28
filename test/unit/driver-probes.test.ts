/**
 * Driver probes (docs/drivers.md): the line protocol an agent writes, checked where it enters; the
 * exact mapping of an agent's clock onto the drill's; what the scenario accepts and refuses; and
 * what an agent is told. The agents themselves run against real PostgreSQL in
 * test/integration/drivers.test.ts.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import { probeRecord } from "../../harness/probe/index.ts";
import { agentOffsetMs, agentTarget, sampleClock } from "../../harness/probe/driver/config.ts";
import { isBadLine, parseRunnerLine, readRunnerLine, RUNNER_TAG } from "../../harness/runner/protocol.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { Endpoint } from "../../harness/connection/endpoint.ts";
import type { StartedTopology } from "../../harness/targets/types.ts";

const line = (seq: number, body: Record<string, unknown>) => JSON.stringify({ [RUNNER_TAG]: 1, seq, ...body });
const complete = { kind: "complete", t: 12.5, probe: "select1-libpq", type: "select1", worker: 0, op: 0, outcome: "ok", latencyMs: 1.25 };

describe("the line protocol, read from an agent", () => {
  it("takes a hello, an event, a state and an error line", () => {
    const hello = readRunnerLine(
      line(1, { type: "hello", t: 0, wallClock: "2026-01-01T00:00:00.000Z", monotonicNs: "123", version: "libpq 15.18", probes: ["x"], controlPort: 0 }),
    );
    expect(hello).toMatchObject({ type: "hello", monotonicNs: "123" });
    // The libpq agent says how long one connect may take (every host's connect_timeout): pgdrill waits that long at stop.
    const withDeadline = { type: "hello", t: 0, monotonicNs: "1", version: "libpq 15.18", probes: ["x"], connectDeadlineMs: 5000 };
    expect(readRunnerLine(line(1, withDeadline))).toMatchObject({ connectDeadlineMs: 5000 });
    expect(readRunnerLine(line(2, { type: "event", event: { ...complete, sqlstate: "57P01", timedOut: true } }))).toMatchObject({ seq: 2 });
    expect(readRunnerLine(line(3, { type: "state", t: 1, state: "probes-done" }))).toMatchObject({ state: "probes-done" });
    expect(readRunnerLine(line(4, { type: "error", t: 1, message: "setting x refused" }))).toMatchObject({ message: "setting x refused" });
  });

  it("passes over what the process printed that is not the protocol's (a JVM warning, a blank line)", () => {
    for (const text of ["", "Picked up JAVA_TOOL_OPTIONS: -Xmx64m", "{not json", JSON.stringify({ seq: 1, type: "hello" }), "[1,2]"]) {
      expect(readRunnerLine(text), text).toBeNull();
    }
  });

  it("refuses a tagged line that is wrong, naming why: the event through the History's validator", () => {
    const problem = (text: string) => {
      const read = readRunnerLine(text);
      return read !== null && isBadLine(read) ? read.problem : null;
    };
    expect(problem(line(5, { type: "event", event: { ...complete, latencyMs: "1.25" } }))).toMatch(/line 5 \(event\): .*"latencyMs" must be a number/);
    expect(problem(line(5, { type: "event", event: { ...complete, outcome: "maybe" } }))).toMatch(/"outcome" must be one of ok, fail, info/);
    expect(problem(line(5, { type: "event", event: { ...complete, timedOut: "yes" } }))).toMatch(/"timedOut"/);
    expect(problem(line(5, { type: "event", event: "complete" }))).toMatch(/not a JSON object/);
    expect(problem(line(5, { ...complete }))).toMatch(/an event goes inside the line/);
    expect(problem(line(6, { type: "hello", t: 0, monotonicNs: 123, version: "v", probes: [] }))).toMatch(/monotonicNs/);
    expect(problem(line(6, { type: "hello", t: 0, monotonicNs: "1", version: "v", probes: [], connectDeadlineMs: "5s" }))).toMatch(
      /"connectDeadlineMs" must be a positive number/,
    );
    expect(problem(line(7, { type: "state", t: 0, state: "sleeping" }))).toMatch(/unknown state/);
    expect(problem(line(8, { type: "gossip" }))).toMatch(/unknown type "gossip"/);
    expect(problem(JSON.stringify({ [RUNNER_TAG]: 2, seq: 1, type: "hello" }))).toMatch(/protocol 2, expected 1/);
    expect(problem(JSON.stringify({ [RUNNER_TAG]: 1, seq: 0, type: "hello" }))).toMatch(/seq/);
    // The cnpg runner's reader keeps its old contract: anything but a good line is null.
    expect(parseRunnerLine(line(5, { type: "event", event: { ...complete, outcome: "maybe" } }))).toBeNull();
  });
});

describe("an agent's clock on the drill's", () => {
  it("is exact: the agent's t = 0 in CLOCK_MONOTONIC ns against one sample of hrtime beside the drill's clock", () => {
    // The drill's t 1000 ms was hrtime 5_000_000_000 ns; the agent started 2.5 ms later on the same clock.
    const offset = agentOffsetMs("5002500000", { hrtimeNs: 5_000_000_000n, drillMs: 1000 });
    expect(offset).toBe(1002.5);
    // An agent that started before the sample (prepare runs before run) maps to an earlier drill t.
    expect(agentOffsetMs("4990000000", { hrtimeNs: 5_000_000_000n, drillMs: 1000 })).toBe(990);
    // Large absolute values lose nothing: the difference is taken in bigint.
    expect(agentOffsetMs("9007199254740993123", { hrtimeNs: 9_007_199_254_740_993_000n, drillMs: 0 })).toBeCloseTo(0.000123, 9);
  });

  it("samples hrtime and the drill clock together: a now() read between two hrtime reads", () => {
    const before = process.hrtime.bigint();
    const sample = sampleClock(() => 42);
    const after = process.hrtime.bigint();
    expect(sample.drillMs).toBe(42);
    expect(sample.hrtimeNs >= before && sample.hrtimeNs <= after).toBe(true);
    // This process's own t = 0 maps back to the drill's t of the sample, to the µs.
    const offset = agentOffsetMs(String(sample.hrtimeNs), sample);
    expect(offset).toBe(42);
  });
});

const withProbes = (probes: unknown[], target: Record<string, unknown> = { kind: "container-pair" }) => ({ name: "x", target, probes, duration: "10s" });

function refusals(probes: unknown[], target?: Record<string, unknown>): string {
  try {
    validateScenario(withProbes(probes, target), "s.yaml");
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
  return "";
}

describe("driver and driverSettings in a scenario", () => {
  it("default to node-postgres; another driver's probe is named after it, so one of each kind needs no names", () => {
    const scenario = validateScenario(
      withProbes([{ kind: "select1" }, { kind: "select1", driver: "libpq" }, { kind: "writes" }, { kind: "writes", driver: "libpq" }]),
      "s.yaml",
    );
    expect(scenario.probes.map((probe) => probeRecord(probe)).map((record) => [record.name, record.driver])).toEqual([
      ["select1", "node-postgres"],
      ["select1-libpq", "libpq"],
      ["writes", "node-postgres"],
      ["writes-libpq", "libpq"],
    ]);
  });

  it("still refuses two probes that end up with one name", () => {
    expect(refusals([{ kind: "select1", driver: "libpq" }, { kind: "select1", name: "select1-libpq" }])).toMatch(
      /probes\[1\]\.name.*a second probe named "select1-libpq"/s,
    );
  });

  it("refuses connection: pool with an agent, naming the field and the fix", () => {
    const message = refusals([{ kind: "select1", driver: "pgjdbc", connection: "pool" }]);
    expect(message).toMatch(/probes\[0\]\.connection/);
    expect(message).toMatch(/node-postgres's application pool/);
    expect(message).toMatch(/Use connection: "fresh" or "held"/);
  });

  it("passes settings through as strings, numbers and booleans, and refuses them without an agent", () => {
    const settings = { keepalives: 1, sslmode: "disable", tcpKeepAlive: true };
    const scenario = validateScenario(withProbes([{ kind: "writes", driver: "libpq", driverSettings: settings }]), "s.yaml");
    expect(scenario.probes[0]).toMatchObject({ driverSettings: settings });
    expect(refusals([{ kind: "select1", driverSettings: { keepalives: 1 } }])).toMatch(/probes\[0\]\.driverSettings.*applies only to a driver agent/s);
    expect(refusals([{ kind: "select1", driver: "libpq", driverSettings: { keepalives: [1] } }])).toMatch(/driverSettings/);
    expect(refusals([{ kind: "select1", driver: "odbc" }])).toMatch(/probes\[0\]\.driver/);
  });

  it("refuses an agent on cnpg, whose probes run in the cluster's node-postgres runner", () => {
    expect(refusals([{ kind: "select1", driver: "libpq" }], { kind: "cnpg" })).toMatch(/probes\[0\]\.driver.*no libpq agent/s);
  });
});

describe("where an agent dials", () => {
  const endpoint = (node: string, port: number, extra: Partial<Endpoint> = {}): Endpoint => ({
    node,
    host: "127.0.0.1",
    port,
    user: "postgres",
    password: "secret",
    database: "postgres",
    ...extra,
  });
  const topology = (rw: Endpoint, nodes: Record<string, Endpoint>) =>
    ({ nodes: Object.keys(nodes), endpoint: (name: string) => (name === "rw" ? rw : nodes[name]!) }) as unknown as StartedTopology;
  const pair = { primary: endpoint("primary", 5001), standby: endpoint("standby", 5002) };

  it("an rw that is only the primary's own address: every node, the primary first, read-write, no password", () => {
    const { target } = agentTarget(topology(pair.primary, pair), "rw");
    expect(target).toEqual({
      hosts: [
        { host: "127.0.0.1", port: 5001 },
        { host: "127.0.0.1", port: 5002 },
      ],
      database: "postgres",
      user: "postgres",
      targetSessionAttrs: "read-write",
    });
    expect(JSON.stringify(target)).not.toContain("secret");
  });

  it("an rw of its own (a proxy, a pooler, a managed endpoint) or a node: that one host; a multi-host endpoint: its hosts", () => {
    expect(agentTarget(topology(endpoint("primary", 6432), pair), "rw").target.hosts).toEqual([{ host: "127.0.0.1", port: 6432 }]);
    expect(agentTarget(topology(pair.primary, pair), "standby").target.hosts).toEqual([{ host: "127.0.0.1", port: 5002 }]);
    const multi = endpoint("primary", 5001, {
      hosts: [
        { host: "a", port: 1 },
        { host: "b", port: 2 },
      ],
      targetSessionAttrs: "primary",
      loadBalanceHosts: "random",
      ssl: { rejectUnauthorized: false },
    });
    expect(agentTarget(topology(multi, pair), "rw").target).toMatchObject({
      hosts: [
        { host: "a", port: 1 },
        { host: "b", port: 2 },
      ],
      targetSessionAttrs: "primary",
      loadBalanceHosts: "random",
      sslmode: "require",
    });
  });
});
