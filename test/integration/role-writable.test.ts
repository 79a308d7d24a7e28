/**
 * The role probe against a real container pair: a primary made read-only (`default_transaction_read_only = on`, as
 * pg_auto_failover keeps a new primary up to its demote timeout) is recorded as promoted but not writable, and as writable
 * again once the setting is reset; the roles checker marks the read-only stretch.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rolesChecker } from "../../harness/checker/roles.ts";
import { monotonicClock } from "../../harness/clock.ts";
import { Session } from "../../harness/connection/session.ts";
import type { CompleteEvent, HistoryEvent, RoleValue } from "../../harness/history/events.ts";
import { HistoryWriter } from "../../harness/history/writer.ts";
import { roleProbe } from "../../harness/probe/role.ts";
import { scenario as scenarioSchema } from "../../harness/scenario/schema.ts";
import type { StartedTopology } from "../../harness/targets/types.ts";
import { containerPair } from "../../harness/targets/container-pair/pair.ts";
import { eventually, leftovers } from "./helpers.ts";

const scenario = scenarioSchema.parse({
  name: "role-writable",
  target: { kind: "container-pair" },
  probes: [{ kind: "role", every: "100ms", timeout: "1s" }],
  steadyState: { window: "1s" },
  duration: "30s",
});

async function sql(pair: StartedTopology, statements: string[]): Promise<void> {
  const session = await Session.connect(pair.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "pgdrill-test" });
  try {
    for (const statement of statements) await session.query(statement, [], 5000);
  } finally {
    await session.close();
  }
}

describe("the role probe on a real pair", { timeout: 120_000 }, () => {
  it("records a read-only primary as primary but not writable, then writable again after the reset", async () => {
    const runId = `rolewritable${Date.now().toString(36)}`;
    const pair = await containerPair(scenario.target as Parameters<typeof containerPair>[0]).start({ runId, scenario: scenario.name, log: () => {} });
    const history = HistoryWriter.open(join(mkdtempSync(join(tmpdir(), "pgdrill-role-writable-")), "history.jsonl"));
    const events: HistoryEvent[] = [];
    history.onEvent((event) => events.push(event));
    const abort = new AbortController();
    const clock = monotonicClock();
    const probe = roleProbe(scenario.probes[0] as Parameters<typeof roleProbe>[0]);
    const running = probe.run({ topology: pair, history, clock, until: clock.now() + 60_000, signal: abort.signal });
    const samples = (node: string) =>
      events.filter((e): e is CompleteEvent => e.kind === "complete" && e.node === node && e.outcome === "ok").map((e) => e.value as RoleValue);
    const last = (node: string) => samples(node).at(-1);
    try {
      expect(await eventually(() => last("primary")?.writable === true, 10_000)).toBe(true);
      expect(last("standby")).toMatchObject({ primary: false, writable: false });

      await sql(pair, ["ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()"]);
      expect(await eventually(() => last("primary")?.writable === false, 10_000)).toBe(true);
      expect(last("primary")).toMatchObject({ primary: true, writable: false });

      // This session starts read-only too: lift it for the session before ALTER SYSTEM.
      await sql(pair, ["SET default_transaction_read_only = off", "ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()"]);
      expect(await eventually(() => last("primary")?.writable === true, 10_000)).toBe(true);
    } finally {
      abort.abort();
      await running;
      history.close();
      await pair.teardown();
    }
    const primary = samples("primary");
    const firstReadOnly = primary.findIndex((value) => value.writable === false);
    expect(firstReadOnly).toBeGreaterThan(0);
    expect(primary.slice(firstReadOnly).some((value) => value.writable === true)).toBe(true);
    expect(primary.every((value) => value.primary)).toBe(true);
    // The roles checker reads it as three changes of the primary: writable, read-only, writable.
    const changes = rolesChecker.check(events).metrics.changes.filter((change) => change.node === "primary");
    expect(changes.map((change) => `${change.role}${change.readOnly ? " read-only" : ""}`)).toEqual(["primary", "primary read-only", "primary"]);
    expect(await leftovers(runId)).toEqual([]);
  });
});
