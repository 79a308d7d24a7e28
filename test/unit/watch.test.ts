/** `pgdrill watch` as a scenario: what it probes, where, for how long, and what it refuses. */
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import { MAX_WATCH_MS, watchScenario, watchTopology } from "../../harness/cli/watch.ts";
import { toMs } from "../../harness/duration.ts";

const URL = "postgresql://app:secret@db.example.com:5432/app";
const saved = { url: process.env.DATABASE_URL, replica: process.env.DATABASE_READ_REPLICA_URL };
afterEach(() => {
  for (const [key, value] of [["DATABASE_URL", saved.url], ["DATABASE_READ_REPLICA_URL", saved.replica]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

function io() {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => (out += t), err: (t: string) => (err += t), color: false, live: { write: () => true } }, out: () => out, err: () => err };
}

describe("pgdrill watch's scenario", () => {
  it("defaults to DATABASE_URL, SELECT 1 every 100 ms and who answers every second, no faults, no gate, no writes", () => {
    process.env.DATABASE_URL = URL;
    const { scenario, capped } = watchScenario(undefined, { every: "100ms" });
    expect(scenario.target).toMatchObject({ kind: "endpoint", url: URL, allowWrites: false });
    // No replica, and DATABASE_READ_REPLICA_URL is not read for one.
    expect(scenario.target).toMatchObject({ readReplicaUrl: false });
    expect(scenario.probes.map((p) => [p.kind, p.name ?? p.kind, p.every])).toEqual([["select1", "select1", "100ms"], ["role", "role", "1s"]]);
    expect(scenario.schedule).toEqual([]);
    expect(scenario.gate).toEqual({});
    expect(scenario.steadyState.minAvailability).toBe(0);
    expect(toMs(scenario.duration)).toBe(MAX_WATCH_MS);
    expect(capped).toBe("until Ctrl-C, at most 24h");
  });

  it("--read-replica adds a select1 on it, --writes tracked writes (allowed on the endpoint), --for the length", () => {
    const { scenario, capped } = watchScenario(URL, { every: "50ms", for: "10m", readReplica: "postgresql://app:secret@ro.example.com/app", writes: true });
    expect(scenario.target).toMatchObject({ url: URL, readReplicaUrl: "postgresql://app:secret@ro.example.com/app", allowWrites: true });
    expect(scenario.probes.map((p) => [p.kind, p.name ?? p.kind, p.kind === "role" ? "" : p.endpoint])).toEqual([["select1", "select1", "rw"], ["select1", "replica", "ro"], ["writes", "writes", "rw"], ["role", "role", ""]]);
    expect(toMs(scenario.duration)).toBe(600_000);
    expect(capped).toBeNull();
  });

  it("is bounded in operations too: at --every 20ms the default length is 1,000,000 operations", () => {
    const { scenario, capped } = watchScenario(URL, { every: "20ms" });
    expect(toMs(scenario.duration)).toBe(20_000_000);
    expect(capped).toContain("1,000,000 operations at --every 20ms");
  });

  it("refuses by flag: no URL, a bad or tiny --every, a --for past the limit", () => {
    delete process.env.DATABASE_URL;
    expect(() => watchScenario(undefined, { every: "100ms" })).toThrow(/URL: no URL: none given and DATABASE_URL is not set/);
    expect(() => watchScenario(URL, { every: "100" })).toThrow(/--every/);
    expect(() => watchScenario(URL, { every: "1ms" })).toThrow(/--every: must be at least 10ms/);
    expect(() => watchScenario(URL, { every: "100ms", for: "25h" })).toThrow(/--for: "25h" is longer than watch's limit of 24h/);
    expect(() => watchScenario(URL, { every: "100ms", for: "0s" })).toThrow(/--for: must be longer than 0/);
  });

  it("the CLI says so in one line, exit 2, before contacting anything; DATABASE_READ_REPLICA_URL is not read", async () => {
    process.env.DATABASE_READ_REPLICA_URL = "postgresql://nobody@replica.invalid/x";
    const cli = io();
    expect(await main(["watch", URL, "--every", "5ms"], cli.io)).toBe(2);
    expect(cli.err()).toBe('pgdrill: --every: must be at least 10ms, got "5ms". Give e.g. "100ms": the seed guide\'s loop runs about every 100 ms.\n');
    const { scenario } = watchScenario(URL, { every: "100ms" });
    const topology = await watchTopology(scenario);
    expect(topology.nodes).toEqual(["primary"]);
    expect(process.env.DATABASE_READ_REPLICA_URL).toBe("postgresql://nobody@replica.invalid/x");
  });

  it("`pgdrill mark` and `pgdrill confirm` refuse what is not a running drill", async () => {
    const cli = io();
    expect(await main(["mark", "no-such-run-id", "note"], cli.io)).toBe(2);
    expect(cli.err()).toMatch(/run: "no-such-run-id" is neither a run directory/);
  });
});
