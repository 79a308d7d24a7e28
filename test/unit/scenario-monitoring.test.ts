/**
 * The scenario's `monitoring` section: pgdrill starts Prometheus beside a container target, or
 * reads yours; the expectations must be ones the drill can judge. Bad input is refused before
 * anything starts, every problem at once, each naming the field and the fix. The JSON Schema
 * editors use refuses the same shapes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import { scenarioJsonSchema } from "../../harness/scenario/json-schema.ts";
import { authorizationHeader, resolveSecret, type MonitoringInput, type ScenarioInput } from "../../harness/scenario/schema.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { redactSecrets } from "../../harness/secrets.ts";

const kill = { at: "5s", fault: { kind: "kill", node: "primary" } } as const;
const base = {
  name: "x",
  target: { kind: "container-pair" },
  probes: [{ kind: "select1" }],
  schedule: [kill],
  duration: "3m",
} satisfies ScenarioInput;
const withMonitoring = (monitoring: unknown, more: Record<string, unknown> = {}) => ({ ...base, ...more, monitoring });

function refused(input: unknown, source = "s.yaml", dir?: string): InputError {
  try {
    validateScenario(input, source, dir === undefined ? {} : { dir });
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected the scenario to be refused");
}
const lines = (error: InputError) => error.problems.map((problem) => problem.message);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function scenarioDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-monitoring-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("monitoring: start", () => {
  it("is accepted beside a container target, with Debian's and Alertmanager's defaults and the seed guide's rules", () => {
    const monitoring = { start: {}, expect: [{ alert: "PostgresDown", within: "2m" }] } satisfies MonitoringInput;
    const scenario = validateScenario(withMonitoring(monitoring), "s.yaml");
    expect(scenario.monitoring).toEqual({
      start: { scrapeInterval: "15s", scrapeTimeout: "10s", evaluationInterval: "15s", groupWait: "30s", exporter: "on-node" },
      poll: "1s",
      expect: [{ alert: "PostgresDown", within: "2m" }],
      mustNotFire: [],
    });
    for (const kind of ["patroni", "pg-auto-failover"]) {
      expect(validateScenario(withMonitoring({ start: {} }, { target: { kind } }), "s.yaml").monitoring?.start?.exporter).toBe("on-node");
    }
  });

  it("is refused on cnpg and endpoint targets, which need prometheus:", () => {
    for (const kind of ["cnpg", "endpoint"]) {
      const error = refused(withMonitoring({ start: {} }, { target: { kind }, schedule: [] }));
      expect(error.message).toBe(
        `s.yaml: monitoring.start: pgdrill cannot start Prometheus beside the ${kind} target (it runs no containers of pgdrill's to join). ` +
          "Use prometheus: { url: ... } to read the Prometheus that watches it, or a container-pair, patroni, pg-auto-failover target.",
      );
    }
  });

  it("reads the rules file relative to the scenario file, and hands the run its absolute path", () => {
    const rules = "groups:\n  - name: g\n    rules:\n      - alert: InstanceDown\n        expr: up == 0\n        for: 30s\n";
    const dir = scenarioDir({ "alerts.yml": rules });
    const monitoring = { start: { rules: "alerts.yml" }, expect: [{ alert: "InstanceDown", within: "90s" }] };
    expect(validateScenario(withMonitoring(monitoring), join(dir, "s.yaml")).monitoring?.start?.rules).toBe(join(dir, "alerts.yml"));
    expect(validateScenario(withMonitoring(monitoring), "s.yaml", { dir }).monitoring?.start?.rules).toBe(join(dir, "alerts.yml"));
    // Its alerts, not the seed guide's, are the ones an expectation may name.
    expect(lines(refused(withMonitoring({ ...monitoring, expect: [{ alert: "PostgresDown", within: "2m" }] }), "s.yaml", dir))).toEqual([
      `s.yaml: monitoring.expect[0].alert: no alerting rule "PostgresDown" in ${join(dir, "alerts.yml")}. Its alerts are InstanceDown.`,
    ]);
  });

  it("refuses a rules file that is missing, or that Prometheus would refuse, naming the place in the file", () => {
    const dir = scenarioDir({
      "bad.yml": "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n        for: 1.5m\n",
      "recording.yml": "groups:\n  - name: g\n    rules:\n      - record: job:up\n        expr: up\n",
    });
    expect(refused(withMonitoring({ start: { rules: "nope.yml" } }), "s.yaml", dir).message).toMatch(
      new RegExp(
        `^s\\.yaml: monitoring\\.start\\.rules: cannot read ".*nope\\.yml": ENOENT.*Give the path of a Prometheus rules file, relative to the scenario file \\(${dir}\\)\\.$`,
      ),
    );
    const error = refused(withMonitoring({ start: { rules: "bad.yml" } }), "s.yaml", dir);
    expect(error.problems.map((problem) => problem.field)).toEqual([
      `${join(dir, "bad.yml")}: groups[0].rules[0].expr`,
      `${join(dir, "bad.yml")}: groups[0].rules[0].for`,
    ]);
    expect(error.message.split("\n")[0]).toBe("s.yaml: 2 problems:");
    expect(refused(withMonitoring({ start: { rules: "recording.yml" } }), "s.yaml", dir).message).toMatch(
      /monitoring\.start\.rules: .*recording\.yml has no alerting rules, so no alert can fire/,
    );
  });

  it("refuses intervals Prometheus refuses and a poll outside its bounds", () => {
    expect(lines(refused(withMonitoring({ start: { scrapeInterval: "5s", scrapeTimeout: "10s" }, poll: "50ms" })))).toEqual([
      "s.yaml: monitoring.poll: 50.0 ms is outside 100.0 ms..10.00 s. Use 100ms to 10s (default 1s).",
      "s.yaml: monitoring.start.scrapeTimeout: 10.00 s is longer than scrapeInterval (5.00 s), which Prometheus refuses. Shorten scrapeTimeout or lengthen scrapeInterval.",
    ]);
    expect(refused(withMonitoring({ start: { evaluationInterval: 0 } })).message).toMatch(
      /monitoring\.start\.evaluationInterval: must be a whole number of milliseconds longer than 0, got 0/,
    );
  });
});

describe("monitoring: expectations", () => {
  it("refuses a within that can never be met and a duration too short to judge, naming the minimum", () => {
    const error = refused(withMonitoring({ start: {}, expect: [{ alert: "PostgresDown", within: "30s" }] }, { duration: "1m" }));
    expect(lines(error)).toEqual([
      's.yaml: monitoring.expect[0].within: 30.00 s is shorter than the soonest "PostgresDown" can fire, 1.0 min (its rule\'s for), so it can ' +
        'never be met. Set within to "1m55s" or more (its for, plus the scrape and evaluation intervals).',
      's.yaml: duration: 1.0 min ends before the alerts can be judged: the first fault or hand-over is at 5.00 s and "PostgresDown" may fire ' +
        'as late as 1.9 min after it. Set duration to at least "2m".',
    ]);
    expect(
      validateScenario(withMonitoring({ start: {}, expect: [{ alert: "PostgresDown", within: "2m" }] }, { duration: "2m5s" }), "s")
        .duration,
    ).toBe("2m5s");
  });

  it("times the alerts from the first fault or hand-over, not from an action that hands nothing over", () => {
    const target = { kind: "patroni" };
    const switchover = { at: "20s", action: { kind: "switchover", to: "node2" } };
    const monitoring = { start: {}, expect: [{ alert: "PostgresDown", within: "2m" }] };
    expect(refused(withMonitoring(monitoring, { target, schedule: [switchover], duration: "2m" })).message).toMatch(
      /duration: .*hand-over is at 20\.00 s .*Set duration to at least "2m20s"/,
    );
    expect(refused(withMonitoring(monitoring, { schedule: [{ at: "3s", action: { kind: "heal" } }] })).message).toBe(
      "s.yaml: monitoring.expect: the schedule has no fault or hand-over to time the expected alerts from. Add a fault " +
        '(e.g. { at: "10s", fault: { kind: "kill", node: "primary" } }) or a switchover to the schedule, or remove expect.',
    );
  });

  it("refuses an alert that is expected and must not fire, and names the closest rule for a misspelt one", () => {
    const error = refused(
      withMonitoring({
        start: {},
        expect: [{ alert: "PostgresDown", within: "2m" }],
        mustNotFire: ["PostgresDown", "PostgresHighConnection"],
      }),
    );
    expect(lines(error)).toEqual([
      's.yaml: monitoring.expect[0].alert: "PostgresDown" is expected to fire and is also in mustNotFire (mustNotFire[0]). Remove it from one of the two lists.',
      's.yaml: monitoring.mustNotFire[1]: no alerting rule "PostgresHighConnection" in the seed guide\'s rules. Did you mean "PostgresHighConnections"? ' +
        "Its alerts are PostgresDown, PostgresReplicationLag, PostgresHighConnections.",
    ]);
  });

  it("with prometheus:, leaves the rules and their timing to the run (they are known only then)", () => {
    const monitoring = { prometheus: { url: "http://prometheus:9090" }, expect: [{ alert: "AnythingYours", within: "1s" }] };
    expect(
      validateScenario(withMonitoring(monitoring, { target: { kind: "cnpg" }, duration: "10s" }), "s").monitoring?.prometheus?.url,
    ).toBe("http://prometheus:9090");
  });

  it("refuses alert and label names a gate or Prometheus cannot carry", () => {
    const error = refused(
      withMonitoring({
        start: {},
        expect: [{ alert: "Postgres Down", within: "2m", labels: { "in-stance": "a" } }],
        mustNotFire: ["9lives"],
      }),
    );
    expect(error.problems.map((problem) => problem.field)).toEqual([
      "s.yaml: monitoring.expect[0].alert",
      's.yaml: monitoring.expect[0].labels["in-stance"]',
      "s.yaml: monitoring.mustNotFire[0]",
    ]);
    expect(error.message).toMatch(
      /alert: must be an alert's name: letters, digits, '_' and ':', not starting with a digit \(got "Postgres Down"\)/,
    );
  });
});

describe("monitoring: start or prometheus", () => {
  it("needs exactly one of them, and alertmanager only with prometheus", () => {
    expect(refused(withMonitoring({})).message).toBe(
      's.yaml: monitoring: needs start or prometheus. Add `start: {}` to run Prometheus beside the target, or `prometheus: { url: "https://…" }` to read your own.',
    );
    expect(refused(withMonitoring({ start: {}, prometheus: { url: "http://p:9090" } })).message).toMatch(
      /^s\.yaml: monitoring\.prometheus: cannot be given with start: pgdrill either starts Prometheus beside the target or reads yours\. Keep start/,
    );
    expect(refused(withMonitoring({ start: {}, alertmanager: { url: "http://a:9093" } })).message).toBe(
      "s.yaml: monitoring.alertmanager: applies only with prometheus. With start, pgdrill runs its own Alertmanager: remove alertmanager.",
    );
    const both = {
      prometheus: { url: "https://p.example:9090" },
      alertmanager: { url: "https://a.example:9093", username: "u", password: "${AM_PASSWORD}" },
    };
    expect(validateScenario(withMonitoring(both), "s").monitoring?.alertmanager?.username).toBe("u");
  });

  it("names the key meant for a misspelt one", () => {
    expect(refused(withMonitoring({ strat: {} })).message).toMatch(/monitoring: unknown key "strat"\. Did you mean "start"\?/);
    expect(refused(withMonitoring({ start: { scrapeIntervall: "5s" } })).message).toMatch(
      /monitoring\.start: unknown key "scrapeIntervall"\. Did you mean "scrapeInterval"\?/,
    );
  });

  it("refuses a URL with credentials in it, a malformed ${NAME}, and two ways to authenticate", () => {
    const error = refused(
      withMonitoring({ prometheus: { url: "https://user:pw@p:9090", bearerToken: "${PROM TOKEN}", password: "hunter2!" } }),
    );
    expect(error.problems.map((problem) => problem.field)).toEqual([
      "s.yaml: monitoring.prometheus.url",
      "s.yaml: monitoring.prometheus.bearerToken",
      "s.yaml: monitoring.prometheus.bearerToken",
      "s.yaml: monitoring.prometheus.username",
    ]);
    expect(error.message).toMatch(/url: must be an http:\/\/ or https:\/\/ URL without credentials in it/);
    expect(error.message).toMatch(/bearerToken: cannot be given with username and password\. Keep one way to authenticate/);
    expect(error.message).toMatch(
      /username: is missing: basic authentication needs username and password\. Add username, or remove password\./,
    );
  });
});

describe("monitoring secrets", () => {
  it("are the value itself, or ${NAME} read from the environment when the drill starts, and masked from then on", () => {
    expect(resolveSecret("plain-token", "monitoring.prometheus.bearerToken", {})).toBe("plain-token");
    expect(resolveSecret("${PROM_TOKEN}", "monitoring.prometheus.bearerToken", { PROM_TOKEN: "t0ken-from-env-93" })).toBe(
      "t0ken-from-env-93",
    );
    expect(redactSecrets("sent t0ken-from-env-93")).toBe("sent ***");
    expect(() => resolveSecret("${PROM_TOKEN}", "monitoring.prometheus.bearerToken", {})).toThrow(
      "monitoring.prometheus.bearerToken: names the environment variable PROM_TOKEN, which is not set. Export PROM_TOKEN before the drill, or write the value itself.",
    );
  });

  it("make the Authorization header: Bearer, Basic, or none", () => {
    const env = { AM_PASSWORD: "s3cret-am" };
    expect(authorizationHeader({ url: "http://p:9090", bearerToken: "abc" }, "monitoring.prometheus", env)).toEqual({
      authorization: "Bearer abc",
    });
    expect(
      authorizationHeader({ url: "http://a:9093", username: "u", password: "${AM_PASSWORD}" }, "monitoring.alertmanager", env),
    ).toEqual({
      authorization: `Basic ${Buffer.from("u:s3cret-am").toString("base64")}`,
    });
    expect(authorizationHeader({ url: "http://p:9090" }, "monitoring.prometheus", env)).toEqual({});
  });
});

describe("the JSON Schema of monitoring", () => {
  const validate = new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictTypes: true,
    strictTuples: true,
    allowUnionTypes: true,
  }).compile(scenarioJsonSchema());
  const accepts = (monitoring: unknown) => validate(withMonitoring(monitoring));

  it("accepts what the runtime accepts", () => {
    expect(accepts({ start: {} })).toBe(true);
    expect(
      accepts({
        start: { rules: "alerts.yml", exporter: "separate" },
        expect: [{ alert: "PostgresDown", within: "2m", labels: { instance: "primary" } }],
      }),
    ).toBe(true);
    expect(
      accepts({
        prometheus: { url: "https://p:9090", bearerToken: "${TOKEN}" },
        alertmanager: { url: "http://a:9093", username: "u", password: "p" },
      }),
    ).toBe(true);
  });

  it("refuses what the runtime refuses for its shape", () => {
    expect(accepts({})).toBe(false);
    expect(accepts({ start: {}, prometheus: { url: "http://p:9090" } })).toBe(false);
    expect(accepts({ start: {}, alertmanager: { url: "http://a:9093" } })).toBe(false);
    expect(accepts({ prometheus: { url: "http://p:9090", bearerToken: "t", username: "u", password: "p" } })).toBe(false);
    expect(accepts({ prometheus: { url: "http://p:9090", password: "p" } })).toBe(false);
    expect(accepts({ prometheus: { url: "https://u:p@p:9090" } })).toBe(false);
    expect(accepts({ prometheus: { url: "http://p:9090", bearerToken: "${BAD NAME}" } })).toBe(false);
    expect(accepts({ start: { exporter: "sidecar" } })).toBe(false);
    expect(accepts({ start: {}, mustNotFire: ["Bad-Name"] })).toBe(false);
    expect(accepts({ start: {}, expect: [{ alert: "A", within: 120 }] })).toBe(false);
  });
});
