/**
 * Bad scenario input is refused before anything starts, with one line that names the field and
 * says the fix. Each case is a file in test/fixtures/bad-scenarios/.
 */
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDuration } from "../../harness/duration.ts";
import { InputError } from "../../harness/errors.ts";
import { listScenarios, loadScenario } from "../../harness/scenario/load.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";

const bad = (file: string) => join("test/fixtures/bad-scenarios", file);

async function refusal(file: string): Promise<InputError> {
  const error = await loadScenario(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  const inputError = error as InputError;
  expect(inputError.message.split("\n")).toHaveLength(1);
  return inputError;
}

describe("scenario validation", () => {
  it.each([
    ["unknown-key.yaml", "probes[0]", /unknown key "evrey"/, /Did you mean "every"/],
    ["wrong-type.yaml", "probes[0].every", /must be a duration.*got boolean true/, /README/],
    ["wrong-type.json", "steadyState.minAvailability", /must be a number, got "all"/, /Set it to a number/],
    ["unknown-fault.yaml", "schedule[0].fault.kind", /unknown fault kind.*"kill", "stop", "pause", "partition".*got "explode"/, /README/],
    ["negative-duration.yaml", "duration", /got "-5s"/, /README/],
    ["fault-past-end.yaml", "schedule[0].at", /20.00 s is at or past the end of the drill \(duration 10.00 s\)/, /Move it earlier or lengthen duration/],
    ["unknown-node.yaml", "schedule[0].fault.node", /unknown node "primry"/, /nodes are primary, standby/],
    ["steady-after-fault.yaml", "steadyState.window", /5.00 s ends after the first scheduled step \(at 3.00 s\)/, /shorten the window/],
    ["bad-gate-expression.yaml", 'gate["availability.ratio"]', /must be a comparison.*got "about 0.9"/, /README/],
    ["unknown-gate-metric.yaml", 'gate["failover.latency"]', /unknown metric; use one of .*failover.latencyMs/, /README/],
    ["yaml-syntax.yaml", "yaml-syntax.yaml", /is not valid YAML: .*at line 3, column 1/, /Fix the syntax/],
    ["promote-primary.ts", "schedule[1].action.node", /"primary" is already the primary/, /Promote a standby/],
    ["cnpg-pause.yaml", "schedule[0].fault.kind", /the cnpg target cannot do "pause"/, /Use one of kill, delete-pod, partition, fence/],
    ["cnpg-fence-operator.yaml", "schedule[0].fault.node", /cannot fence the operator/, /the operator's pod can only be killed or deleted/],
    ["cnpg-unlisted-context.yaml", "target.context", /"prod-eu" is not a kind cluster pgdrill made/, /add "prod-eu" to target.allowContexts/],
    ["cnpg-one-instance.yaml", "target.instances", /must be at least 2: a failover needs a replica/, /README/],
    ["switchover-on-pair.yaml", "schedule[0].action.kind", /the container-pair target cannot do "switchover"/, /Use one of promote, heal/],
    ["cnpg-unknown-instance.yaml", "schedule[0].fault.node", /unknown node "main-4"/, /nodes are primary, replica, operator, main-1, main-2, main-3/],
    ["pause-paused.yaml", "schedule[1].fault.node", /cannot pause "primary" at 5.00 s: schedule\[0\] paused it until 7.00 s/, /after the pause ends/],
    ["fault-after-kill.yaml", "schedule[1].fault.isolate", /cannot cut off "primary" at 5.00 s: schedule\[0\] killed it and nothing restarts it/, /stays down/],
    ["overlapping-partitions.yaml", "schedule[1].fault.between", /"standby" is already cut off by schedule\[0\] until 8.00 s; healing one partition heals every cut/, /merge the two/],
    ["promote-frozen.ts", "schedule[1].action.node", /cannot promote "standby": schedule\[0\] paused it for the rest of the drill/, /after the pause ends/],
    ["cnpg-fence-fenced.yaml", "schedule[1].fault.node", /"main-2" is already fenced by schedule\[0\]/, /give that one a "for"/],
    ["unknown-key.ts", "(scenario)", /unknown key "retries"/, /Remove it/],
    ["throws-on-import.ts", "throws-on-import.ts", /could not be loaded: PGDRILL_NO_SUCH_VARIABLE is not set/, /imports cleanly/],
    ["is-a-directory.yaml", "is-a-directory.yaml", /cannot be read: EISDIR/, /permissions/],
    ["endpoint-writes-not-allowed.yaml", "target.allowWrites", /probes\[1\] writes to the endpoint, which it may not/, /Set target.allowWrites: true .* schema of its own/],
    ["command-for-without-heal.yaml", "schedule[0].for", /needs a `heal` command/, /Add "heal: <command>"/],
    ["endpoint-kill.yaml", "schedule[0].fault.kind", /the endpoint target cannot do "kill"/, /Use one of command/],
  ])("%s is refused naming %s", async (file, field, problem, fix) => {
    const error = await refusal(bad(file));
    expect(error.field).toBe(`${bad(file)}: ${field}`.replace(`${bad(file)}: ${file}`, bad(file)));
    expect(error.message).toMatch(problem);
    expect(error.fix).toMatch(fix);
  });

  it("refuses a missing file and lists the shipped scenarios", async () => {
    const error = await refusal("no/such/drill.yaml");
    expect(error.field).toBe("no/such/drill.yaml");
    expect(error.message).toMatch(/no such scenario file/);
    expect(error.fix).toMatch(/pair-kill-primary/);
  });

  it("accepts schedules that only look alike: a pause after a pause has healed, a heal action in between, kill of a frozen node", () => {
    const base = { name: "x", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "20s" };
    const pause = { kind: "pause", node: "primary" };
    const ok = (schedule: unknown[]) => expect(() => validateScenario({ ...base, schedule }, "s")).not.toThrow();
    ok([{ at: "3s", for: "2s", fault: pause }, { at: "5s", fault: pause }]);
    ok([{ at: "3s", fault: pause }, { at: "5s", action: { kind: "heal" } }, { at: "6s", fault: pause }]);
    ok([{ at: "3s", fault: pause }, { at: "5s", fault: { kind: "kill", node: "primary" } }, { at: "6s", action: { kind: "promote", node: "standby" } }]);
    ok([{ at: "3s", for: "2s", fault: { kind: "partition", isolate: "standby" } }, { at: "6s", fault: { kind: "partition", between: ["primary", "standby"] } }]);
  });

  it("refuses two probes with the same name, and a probe interval under 10 ms", () => {
    const base = { name: "x", target: { kind: "container-pair" }, duration: "10s" };
    expect(() => validateScenario({ ...base, probes: [{ kind: "select1" }, { kind: "select1" }] }, "s")).toThrow(
      /s: probes\[1\]\.name: a second probe named "select1"/,
    );
    expect(() => validateScenario({ ...base, probes: [{ kind: "select1", every: "5ms" }] }, "s")).toThrow(/probes\[0\]\.every: 5\.0 ms is below 10 ms/);
  });

  it("fills in defaults for what a scenario leaves out", () => {
    const scenario = validateScenario({ name: "x", target: { kind: "container-pair" }, probes: [{ kind: "writes" }], duration: "10s" }, "s");
    expect(scenario.target).toMatchObject({ replication: "async", startupTimeout: "60s" });
    expect(scenario.probes[0]).toMatchObject({ every: "100ms", timeout: "1s", connection: "held" });
    expect(scenario.steadyState).toEqual({ window: "2s", minAvailability: 1 });
    expect(scenario.schedule).toEqual([]);
  });

  it("accepts every shipped scenario", async () => {
    const names = (await listScenarios()).map((entry) => entry.name);
    expect(names).toEqual(["cnpg-kill-operator-then-primary", "cnpg-kill-primary", "cnpg-partition-primary", "cnpg-switchover", "endpoint-cloudsql-ha", "endpoint-observe", "endpoint-rds-multi-az", "pair-kill-primary", "pair-kill-primary-via-pgbouncer", "pair-partition-then-kill", "pair-partition-then-kill-sync", "pair-pause-primary"]);
    for (const name of names) {
      const { scenario } = await loadScenario(name);
      expect(scenario.name).toBe(name);
    }
  });
});

describe("parseDuration", () => {
  it("round-trips milliseconds and seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
        expect(parseDuration(`${n}ms`)).toEqual({ ok: true, ms: n });
        expect(parseDuration(`${n}s`)).toEqual({ ok: true, ms: n * 1000 });
        expect(parseDuration(n)).toEqual({ ok: true, ms: n });
      }),
    );
  });

  it("never throws, and refuses what is not a duration with a message", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.anything()), (value) => {
        const parsed = parseDuration(value);
        if (!parsed.ok) expect(parsed.message).toMatch(/must be/);
        else expect(parsed.ms).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("refuses negative values and unknown units", () => {
    expect(parseDuration(-1).ok).toBe(false);
    expect(parseDuration("-3s").ok).toBe(false);
    expect(parseDuration("3 days").ok).toBe(false);
    expect(parseDuration("1.5m")).toEqual({ ok: true, ms: 90_000 });
  });
});
