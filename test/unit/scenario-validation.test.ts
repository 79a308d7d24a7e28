/**
 * Bad scenario input is refused before anything starts, with one line per problem that names the
 * field and says the fix (a single problem is a single line). Each case is a file in
 * test/fixtures/bad-scenarios/.
 */
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DURATION_PATTERN, formatDuration, parseDuration, toMs } from "../../harness/duration.ts";
import { InputError, inputErrors, MAX_LISTED_PROBLEMS } from "../../harness/errors.ts";
import { listScenarios, loadScenario } from "../../harness/scenario/load.ts";
import { scenario as scenarioSchema } from "../../harness/scenario/schema.ts";
import { KNOWN_KEYS, validateScenario } from "../../harness/scenario/validate.ts";

const bad = (file: string) => join("test/fixtures/bad-scenarios", file);

async function refusal(file: string, lines = 1): Promise<InputError> {
  const error = await loadScenario(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  const inputError = error as InputError;
  expect(inputError.message.split("\n")).toHaveLength(lines);
  return inputError;
}

function refused(input: unknown): InputError {
  try {
    validateScenario(input, "s");
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected the scenario to be refused");
}

const base = { name: "x", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "10s" };
const pause = { kind: "pause", node: "primary" };

describe("the every-node endpoint", () => {
  it("is accepted on the container pair and patroni, for select1 and writes, with any target_session_attrs", () => {
    const probes = [
      { kind: "select1", endpoint: "every-node", targetSessionAttrs: "prefer-standby" },
      { kind: "writes", endpoint: "every-node" },
    ];
    expect(validateScenario({ ...base, probes }, "s").probes).toHaveLength(2);
    expect(validateScenario({ ...base, target: { kind: "patroni" }, probes }, "s").probes).toHaveLength(2);
  });

  it("is refused where pgdrill does not reach each node, and targetSessionAttrs without it", () => {
    expect(refused({ ...base, target: { kind: "cnpg" }, probes: [{ kind: "writes", endpoint: "every-node" }] }).message).toMatch(
      /probes\[0\]\.endpoint: the cnpg target cannot list its nodes' own addresses for "every-node"/,
    );
    expect(refused({ ...base, probes: [{ kind: "select1", endpoint: "standby", targetSessionAttrs: "any" }] }).message).toMatch(
      /probes\[0\]\.targetSessionAttrs: applies only with endpoint "every-node"/,
    );
    expect(refused({ ...base, probes: [{ kind: "select1", endpoint: "every-node", targetSessionAttrs: "rw" }] }).message).toMatch(
      /probes\[0\]\.targetSessionAttrs/,
    );
  });
});

describe("scenario validation", () => {
  it.each([
    ["unknown-key.yaml", "probes[0]", /unknown key "evrey"/, /Did you mean "every"/],
    ["wrong-type.yaml", "probes[0].every", /must be a duration.*got boolean true/, /README/],
    ["wrong-type.json", "steadyState.minAvailability", /must be a number, got "all"/, /Set it to a number/],
    ["unknown-fault.yaml", "schedule[0].fault.kind", /unknown fault kind.*"kill", "stop", "pause", "partition".*got "explode"/, /README/],
    ["negative-duration.yaml", "duration", /got "-5s"/, /README/],
    [
      "fault-past-end.yaml",
      "schedule[0].at",
      /20.00 s is at or past the end of the drill \(duration 10.00 s\)/,
      /Move it earlier or lengthen duration/,
    ],
    ["unknown-node.yaml", "schedule[0].fault.node", /unknown node "primry"/, /nodes are primary, standby/],
    ["steady-after-fault.yaml", "steadyState.window", /5.00 s ends after the first scheduled step \(at 3.00 s\)/, /shorten the window/],
    ["bad-gate-expression.yaml", 'gate["availability.ratio"]', /must be a comparison.*got "about 0.9"/, /README/],
    [
      "unknown-gate-metric.yaml",
      'gate["failover.latency"]',
      /unknown metric "failover.latency"\./,
      /^Did you mean "failover.latencyMs"\? Use one of availability.ratio, .*operator.multipleRwEndpointsMs, monitor\.unhealthyAfterMs, .*monitor\.unreachableMs, or alerts\.<Alert>\.pendingAfterMs\|firedAfterMs\|notifiedAfterMs\|resolvedAfterHealMs \(<Alert>: letters, digits, _ and :\)\.$/,
    ],
    [
      "bare-number-duration.yaml",
      "duration",
      /must be a duration with a unit like "30s" or "500ms"; a bare number \(8000\) has no unit/,
      /Write "8s" if you meant 8000 milliseconds .* or "8000s" for seconds/,
    ],
    [
      "duration-out-of-order.yaml",
      "duration",
      /must be a duration written with each unit once, largest first, got "30s1m"/,
      /^Write "1m30s"\.$/,
    ],
    [
      "fault-for-zero.yaml",
      "schedule[0].for",
      /must be longer than 0, got "0s"/,
      /Omit "for" to keep the fault until the drill ends .*or give a positive duration/,
    ],
    ["misspelt-top-level-key.yaml", "(scenario)", /unknown key "probe"/, /Did you mean "probes"\?/],
    ["misspelt-step-key.yaml", "schedule[0]", /unknown key "fualt"/, /Did you mean "fault"\?/],
    ["yaml-syntax.yaml", "yaml-syntax.yaml", /is not valid YAML: .*at line 3, column 1/, /Fix the syntax/],
    ["promote-primary.ts", "schedule[1].action.node", /"primary" is already the primary/, /Promote a standby/],
    [
      "cnpg-pause.yaml",
      "schedule[0].fault.kind",
      /the cnpg target cannot do "pause"/,
      /Use one of kill, partition, netem, delete-pod, fence/,
    ],
    ["cnpg-fence-operator.yaml", "schedule[0].fault.node", /cannot fence the operator/, /the operator's pod can only be killed or deleted/],
    [
      "cnpg-unlisted-context.yaml",
      "target.context",
      /"prod-eu" is not a kind cluster pgdrill made/,
      /add "prod-eu" to target.allowContexts/,
    ],
    ["cnpg-one-instance.yaml", "target.instances", /must be at least 2: a failover needs a replica/, /README/],
    ["switchover-on-pair.yaml", "schedule[0].action.kind", /the container-pair target cannot do "switchover"/, /Use one of backup, restore, promote, heal/],
    [
      "cnpg-unknown-instance.yaml",
      "schedule[0].fault.node",
      /unknown node "main-4"/,
      /nodes are primary, replica, operator, main-1, main-2, main-3/,
    ],
    [
      "pause-paused.yaml",
      "schedule[1].fault.node",
      /cannot pause "primary" at 5.00 s: schedule\[0\] paused it until 7.00 s/,
      /after the pause ends/,
    ],
    [
      "fault-after-kill.yaml",
      "schedule[1].fault.isolate",
      /cannot cut off "primary" at 5.00 s: schedule\[0\] killed it and nothing restarts it/,
      /stays down/,
    ],
    [
      "overlapping-partitions.yaml",
      "schedule[1].fault.between",
      /"standby" is already cut off by schedule\[0\] until 8.00 s; healing one partition heals every cut/,
      /merge the two/,
    ],
    [
      "promote-frozen.ts",
      "schedule[1].action.node",
      /cannot promote "standby": schedule\[0\] paused it for the rest of the drill/,
      /after the pause ends/,
    ],
    ["cnpg-fence-fenced.yaml", "schedule[1].fault.node", /"main-2" is already fenced by schedule\[0\]/, /give that one a "for"/],
    ["unknown-key.ts", "(scenario)", /unknown key "retries"/, /Remove it/],
    ["throws-on-import.ts", "throws-on-import.ts", /could not be loaded: PGDRILL_NO_SUCH_VARIABLE is not set/, /imports cleanly/],
    ["is-a-directory.yaml", "is-a-directory.yaml", /cannot be read: EISDIR/, /permissions/],
    [
      "endpoint-writes-not-allowed.yaml",
      "target.allowWrites",
      /probes\[1\] writes to the endpoint, which it may not/,
      /Set target.allowWrites: true .* schema of its own/,
    ],
    ["command-for-without-heal.yaml", "schedule[0].for", /needs a `heal` command/, /Add "heal: <command>"/],
    ["endpoint-kill.yaml", "schedule[0].fault.kind", /the endpoint target cannot do "kill"/, /Use one of command/],
    [
      "every-node-on-endpoint.yaml",
      "probes[0].endpoint",
      /the endpoint target cannot list its nodes' own addresses for "every-node"/,
      /Put every host in the connection string/,
    ],
    [
      "session-attrs-on-rw.yaml",
      "probes[0].targetSessionAttrs",
      /applies only with endpoint "every-node" \(this probe's is "rw"\)/,
      /write target_session_attrs=… into the connection string/,
    ],
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
    const ok = (schedule: unknown[]) => expect(() => validateScenario({ ...base, duration: "20s", schedule }, "s")).not.toThrow();
    ok([
      { at: "3s", for: "2s", fault: pause },
      { at: "5s", fault: pause },
    ]);
    ok([
      { at: "3s", fault: pause },
      { at: "5s", action: { kind: "heal" } },
      { at: "6s", fault: pause },
    ]);
    ok([
      { at: "3s", fault: pause },
      { at: "5s", fault: { kind: "kill", node: "primary" } },
      { at: "6s", action: { kind: "promote", node: "standby" } },
    ]);
    ok([
      { at: "3s", for: "2s", fault: { kind: "partition", isolate: "standby" } },
      { at: "6s", fault: { kind: "partition", between: ["primary", "standby"] } },
    ]);
  });

  it("lists every kind a union holds when a kind is unknown, and suggests the one probably meant", () => {
    expect(() => validateScenario({ ...base, probes: [{ kind: "selct1" }] }, "s")).toThrow(
      /^s: probes\[0\]\.kind: unknown probe kind: did you mean "select1"\? Use one of "select1", "writes", "role" \(got "selct1"\)/,
    );
    expect(() => validateScenario({ ...base, target: { kind: "pear" } }, "s")).toThrow(
      /^s: target\.kind: unknown target kind: use one of "container-pair", "cnpg", "endpoint", "patroni", "pg-auto-failover" \(got "pear"\)/,
    );
    expect(() => validateScenario({ ...base, schedule: [{ at: "3s", action: { kind: "promot", node: "standby" } }] }, "s")).toThrow(
      /schedule\[0\]\.action\.kind: unknown action kind: did you mean "promote"\? Use one of "switchover", "backup", "restore", "promote", "failover", "maintenance", "perform", "node-maintenance", "heal"/,
    );
  });

  it("refuses two probes with the same name, and a probe interval under 10 ms", () => {
    expect(() => validateScenario({ ...base, probes: [{ kind: "select1" }, { kind: "select1" }] }, "s")).toThrow(
      /s: probes\[1\]\.name: a second probe named "select1"/,
    );
    expect(() => validateScenario({ ...base, probes: [{ kind: "select1", every: "5ms" }] }, "s")).toThrow(
      /probes\[0\]\.every: 5\.0 ms is below 10 ms/,
    );
  });

  it("fills in defaults for what a scenario leaves out", () => {
    const scenario = validateScenario(
      { name: "x", target: { kind: "container-pair" }, probes: [{ kind: "writes" }], duration: "10s" },
      "s",
    );
    expect(scenario.target).toMatchObject({ replication: "async", startupTimeout: "60s" });
    expect(scenario.probes[0]).toMatchObject({ every: "100ms", timeout: "1s", connection: "held" });
    expect(scenario.steadyState).toEqual({ window: "2s", minAvailability: 1 });
    expect(scenario.schedule).toEqual([]);
  });

  it("accepts every shipped scenario", async () => {
    const names = (await listScenarios()).map((entry) => entry.name);
    expect(names).toEqual([
      "cnpg-kill-operator-then-primary",
      "cnpg-kill-primary",
      "cnpg-node-down",
      "cnpg-partition-primary",
      "cnpg-slow-network-to-replica",
      "cnpg-switchover",
      "endpoint-alerts-existing-prometheus",
      "endpoint-cloudsql-ha",
      "endpoint-observe",
      "endpoint-rds-multi-az",
      "pair-alerts-node-down",
      "pair-alerts-primary-down",
      "pair-kill-primary",
      "pair-kill-primary-drivers",
      "pair-kill-primary-via-pgbouncer",
      "pair-partition-then-kill",
      "pair-partition-then-kill-sync",
      "pair-pause-primary",
      "pair-pitr-before-drop",
      "pair-restore-latest",
      "pair-slow-network-to-standby",
      "patroni-alerts-failover",
      "patroni-async-lag-loss",
      "patroni-dcs-down",
      "patroni-dcs-down-failsafe",
      "patroni-kill-primary",
      "patroni-kill-primary-drivers",
      "patroni-kill-primary-fast",
      "patroni-kill-primary-multihost",
      "patroni-partition-primary-from-dcs",
      "patroni-restore-cluster",
      "patroni-switchover",
      "patroni-sync-strict",
      "pgaf-kill-keeper",
      "pgaf-kill-primary",
      "pgaf-kill-primary-drivers",
      "pgaf-kill-primary-fast",
      "pgaf-monitor-down-then-kill-primary",
      "pgaf-partition-primary",
      "pgaf-switchover",
    ]);
    for (const name of names) {
      const { scenario } = await loadScenario(name);
      expect(scenario.name).toBe(name);
    }
  });
});

describe("several problems at once", () => {
  it("reports every problem of a file, shape and meaning, one line each under a count", async () => {
    const error = await refusal(bad("several-problems.yaml"), 5);
    const file = bad("several-problems.yaml");
    expect(error.field).toBe(file);
    expect(error.message.split("\n")).toEqual([
      `${file}: 4 problems:`,
      expect.stringMatching(/^ {2}probes\[0\]\.every: must be a duration with a unit .*a bare number \(30\) has no unit\. Write "30ms"/),
      expect.stringMatching(/^ {2}schedule\[0\]\.for: must be longer than 0, got "0s"\. Omit "for"/),
      expect.stringMatching(/^ {2}gate\["failover\.latency"\]: unknown metric "failover\.latency"\. Did you mean "failover\.latencyMs"\?/),
      '  schedule[1].fault.node: unknown node "primry". The container-pair target\'s nodes are primary, standby.',
    ]);
    expect(error.problems.map((problem) => problem.field)).toEqual([
      `${file}: probes[0].every`,
      `${file}: schedule[0].for`,
      `${file}: gate["failover.latency"]`,
      `${file}: schedule[1].fault.node`,
    ]);
    expect(error.problems.every((problem) => problem instanceof InputError && problem.problems.length === 1)).toBe(true);
  });

  it(`lists at most ${MAX_LISTED_PROBLEMS} and says how many more`, async () => {
    const error = await refusal(bad("many-problems.json"), MAX_LISTED_PROBLEMS + 2);
    expect(error.problems).toHaveLength(25);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe(`${bad("many-problems.json")}: 25 problems:`);
    expect(lines.at(-1)).toBe("  ... and 5 more");
  });

  it("a single problem is the error itself: one line, and problems holds just it", () => {
    const error = refused({ ...base, duration: "0s" });
    expect(error.message).toBe('s: duration: must be longer than 0. Give the drill a length, e.g. "15s".');
    expect(error.problems).toEqual([error]);
    expect(inputErrors("s", [error])).toBe(error);
  });

  it("runs the checks of meaning on the parts whose shape was right, and skips the ones that depend on a broken part", () => {
    // The target is broken: node names cannot be judged, but the time past the end still can.
    const error = refused({
      ...base,
      target: { kind: "container-pair", replication: "eventual" },
      schedule: [{ at: "20s", fault: { kind: "kill", node: "nobody" } }],
    });
    expect(error.problems.map((problem) => problem.field.replace("s: ", ""))).toEqual(["target.replication", "schedule[0].at"]);
    // A broken entry keeps the schedule as a whole (order, the steady state before it) unjudged.
    const partial = refused({
      ...base,
      steadyState: { window: "5s" },
      schedule: [
        { at: "3s", fault: pause },
        { at: "4s", fault: { kind: "pause" } },
      ],
    });
    expect(partial.problems.map((problem) => problem.field.replace("s: ", ""))).toEqual(["schedule[1].fault.node"]);
  });

  it("reports a misspelt key once, as the key it probably was, wherever it is", () => {
    const { probes, ...withoutProbes } = base;
    expect(refused({ ...withoutProbes, probe: probes }).message).toBe(
      's: (scenario): unknown key "probe". Did you mean "probes"? Unknown keys are refused so a typo cannot change the drill.',
    );
    expect(refused({ ...base, target: { kind: "cnpg", instanses: 3 } }).message).toMatch(
      /^s: target: unknown key "instanses"\. Did you mean "instances"\?/,
    );
    expect(refused({ ...base, schedule: [{ at: "3s", fault: pause, fro: "2s" }] }).message).toMatch(
      /^s: schedule\[0\]: unknown key "fro"\. Did you mean "for"\?/,
    );
    // Suggestions come from the object the key is in: "every" is a probe's, not the scenario's.
    expect(refused({ ...base, every: "1s" }).message).toMatch(/unknown key "every"\. Remove it/);
  });

  it("knows every key of the schema, read from the schema itself", () => {
    for (const key of [
      "probes",
      "steadyState",
      "poolSize",
      "readReplicaUrl",
      "rejectUnauthorized",
      "runner",
      "recycle",
      "oneWay",
      "grace",
      "to",
      "label",
      "minAvailability",
    ]) {
      expect(KNOWN_KEYS).toContain(key);
    }
    expect(KNOWN_KEYS).not.toContain("availability.ratio");
    expect(Object.keys(scenarioSchema.shape).every((key) => KNOWN_KEYS.includes(key))).toBe(true);
  });
});

describe("durations in scenarios", () => {
  it("accepts compound durations and 0, refuses a bare number with the unit it needs", () => {
    const scenario = validateScenario(
      {
        ...base,
        duration: "1m30s",
        steadyState: { window: "2s500ms" },
        schedule: [
          { at: "3s", for: "1m", fault: pause },
          { at: "1m15s", action: { kind: "heal" } },
        ],
      },
      "s",
    );
    expect([toMs(scenario.duration), toMs(scenario.steadyState.window), toMs(scenario.schedule[1]!.at)]).toEqual([90_000, 2500, 75_000]);
    const zero = validateScenario({ ...base, steadyState: { window: 0 }, schedule: [{ at: 0, action: { kind: "heal" } }] }, "s");
    expect([zero.steadyState.window, zero.schedule[0]!.at]).toEqual([0, 0]);
    expect(refused({ ...base, probes: [{ kind: "select1", every: 100 }] }).message).toBe(
      's: probes[0].every: must be a duration with a unit like "30s" or "500ms"; a bare number (100) has no unit. Write "100ms" if you meant 100 milliseconds (what a bare number used to mean), or "100s" for seconds.',
    );
    expect(refused({ ...base, probes: [{ kind: "select1", every: "100 msec" }] }).message).toMatch(
      /without spaces, with the units h, m, s and ms, got "100 msec"\. Write "100ms"\./,
    );
  });

  it("refuses a `for` of 0 however it is written", () => {
    for (const zero of [0, "0s", "0ms", "0m0s", "0.0s"]) {
      expect(refused({ ...base, schedule: [{ at: "3s", for: zero, fault: pause }] }).message).toMatch(
        /^s: schedule\[0\]\.for: must be longer than 0/,
      );
    }
  });

  it("keeps the defaults that were numbers: a promotion's `after` is 0", () => {
    const scenario = validateScenario({ ...base, schedule: [{ at: "3s", action: { kind: "promote", node: "standby" } }] }, "s");
    expect(scenario.schedule[0]).toMatchObject({ action: { after: 0 } });
  });
});

describe("parseDuration", () => {
  it("round-trips milliseconds and seconds, and refuses a bare number other than 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
        expect(parseDuration(`${n}ms`)).toEqual({ ok: true, ms: n });
        expect(parseDuration(`${n}s`)).toEqual({ ok: true, ms: n * 1000 });
        if (n === 0) expect(parseDuration(n)).toEqual({ ok: true, ms: 0 });
        else expect(parseDuration(n)).toMatchObject({ ok: false, message: expect.stringContaining(`a bare number (${n}) has no unit`) });
        // Inside the harness a number is milliseconds, as older runs' scenario.json hold them.
        expect(toMs(n)).toBe(n);
      }),
    );
  });

  it("reads compound durations as the sum of their parts, and formatDuration writes them back", () => {
    const UNIT = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
    const compound = fc.record({
      h: fc.option(fc.nat(99)),
      m: fc.option(fc.nat(59)),
      s: fc.option(fc.nat(59)),
      ms: fc.option(fc.nat(999)),
    });
    fc.assert(
      fc.property(compound, (parts) => {
        const present = (Object.keys(UNIT) as Array<keyof typeof UNIT>).filter((unit) => parts[unit] !== null);
        fc.pre(present.length > 0);
        const text = present.map((unit) => `${parts[unit]}${unit}`).join("");
        const ms = present.reduce((sum, unit) => sum + parts[unit]! * UNIT[unit], 0);
        expect(parseDuration(text), text).toEqual({ ok: true, ms });
        expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, ms });
        expect(DURATION_PATTERN.test(formatDuration(ms))).toBe(true);
      }),
    );
    expect(parseDuration("1m30s")).toEqual({ ok: true, ms: 90_000 });
    expect(parseDuration("1h15m")).toEqual({ ok: true, ms: 4_500_000 });
    expect(parseDuration("2m500ms")).toEqual({ ok: true, ms: 120_500 });
    expect(parseDuration("1.1s")).toEqual({ ok: true, ms: 1100 });
    expect([formatDuration(90_000), formatDuration(0), formatDuration(1.5)]).toEqual(["1m30s", "0s", "1.5ms"]);
  });

  it("says what to write instead of a near miss", () => {
    const fix = (value: unknown) => {
      const parsed = parseDuration(value);
      return parsed.ok ? null : parsed.fix;
    };
    expect(fix("1m 30s")).toBe('Write "1m30s".');
    expect(fix("30s1m")).toBe('Write "1m30s".');
    expect(fix("1m1m")).toBe('Write "2m".');
    expect(fix("1m1.5s")).toBe('Write "1m1s500ms".');
    expect(fix("2 mins")).toBe('Write "2m".');
    expect(fix("1d")).toBe('Write "24h".');
    expect(fix("3S")).toBe('Write "3s".');
    expect(fix("30")).toMatch(/^Write "30ms" if you meant 30 milliseconds/);
    expect(fix(1500)).toMatch(/^Write "1s500ms" if you meant 1500 milliseconds/);
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
