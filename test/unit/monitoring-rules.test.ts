/**
 * Prometheus rules files are read as Prometheus 2.42 reads them: what it would refuse is refused
 * before anything starts, every problem at once, each naming the file and the place in it. The
 * expressions are parsed with PromQL's grammar, so pgdrill knows which metrics a rule reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import {
  alertingRules,
  exprError,
  loadRulesFile,
  metricsOf,
  parsePrometheusDuration,
  parseRules,
  selectorsOf,
  SEED_GUIDE_RULES,
} from "../../harness/scenario/alert-rules.ts";

function refusal(text: string, source = "alerts.yml"): InputError {
  try {
    parseRules(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected the rules to be refused");
}

/** A file of one group whose one rule is `rule` (YAML lines, indented under the list item). */
const oneRule = (rule: string) => `groups:\n  - name: g\n    rules:\n      - ${rule.trim().split("\n").join("\n        ")}\n`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the seed guide's rules", () => {
  it("parse, as written, to three alerting rules with their for, labels and the metric each reads", () => {
    const rules = alertingRules(parseRules(SEED_GUIDE_RULES, "seed"));
    expect(rules.map((rule) => [rule.alert, rule.group, rule.forMs, rule.labels["severity"]])).toEqual([
      ["PostgresDown", "postgres", 60_000, "critical"],
      ["PostgresReplicationLag", "postgres", 300_000, "warning"],
      ["PostgresHighConnections", "postgres", 300_000, "warning"],
    ]);
    expect(rules.map((rule) => metricsOf(rule.expr))).toEqual([["pg_up"], ["pg_replication_lag_seconds"], ["pg_stat_activity_count"]]);
    expect(rules.map((rule) => rule.expr)).toEqual(["pg_up == 0", "pg_replication_lag_seconds > 30", "pg_stat_activity_count > 180"]);
  });

  it("are the seed guide's text verbatim, blank lines between rules and the summaries quoted", () => {
    expect(
      SEED_GUIDE_RULES.startsWith("groups:\n  - name: postgres\n    rules:\n      - alert: PostgresDown\n        expr: pg_up == 0\n"),
    ).toBe(true);
    expect(SEED_GUIDE_RULES).toContain('summary: "PostgreSQL instance is down"\n\n      - alert: PostgresReplicationLag');
    expect(SEED_GUIDE_RULES).toContain('summary: "PostgreSQL connection count approaching limit"\n');
    expect(SEED_GUIDE_RULES.split("\n")).toHaveLength(27);
  });
});

describe("parseRules", () => {
  it("reads recording rules, group intervals and limits, keep_firing_for, and scalar label values as text", () => {
    const file = parseRules(
      [
        "groups:",
        "  - name: fast",
        "    interval: 5s",
        "    limit: 10",
        "    rules:",
        "      - record: job:up:sum",
        "        expr: sum by (job) (up)",
        "      - alert: Down",
        '        expr: "job:up:sum == 0"',
        "        for: 1h30m",
        "        keep_firing_for: 2m",
        "        labels: { tier: 1, paging: true }",
        "  - name: plain",
        "    rules:",
        "      - alert: Zero",
        "        expr: vector(1)",
        "        for: 0",
      ].join("\n"),
      "alerts.yml",
    );
    expect(file.groups.map((group) => [group.name, group.intervalMs, group.limit, group.rules.map((rule) => rule.kind)])).toEqual([
      ["fast", 5000, 10, ["record", "alert"]],
      ["plain", null, 0, ["alert"]],
    ]);
    expect(alertingRules(file)).toEqual([
      {
        alert: "Down",
        group: "fast",
        expr: "job:up:sum == 0",
        forMs: 5_400_000,
        labels: { tier: "1", paging: "true" },
        intervalMs: 5000,
        keepFiringForMs: 120_000,
      },
      { alert: "Zero", group: "plain", expr: "vector(1)", forMs: 0, labels: {}, intervalMs: null, keepFiringForMs: 0 },
    ]);
  });

  it("takes an empty file as no groups, as Prometheus does", () => {
    expect(parseRules("", "empty.yml").groups).toEqual([]);
    expect(parseRules("groups: []\n", "empty.yml").groups).toEqual([]);
  });

  it("refuses what Prometheus 2.42 refuses, every problem at once, each naming the file and the place in it", () => {
    const text = [
      "groups:",
      "  - name: g",
      "    query_offset: 1m",
      "    rules:",
      "      - alert: A",
      "        expr: up ==",
      "        for: 1.5m",
      "        labelz: {}",
      "      - record: a b",
      "        expr: up",
      "        for: 1m",
      "      - expr: up",
      "  - name: g",
      "    rules: []",
    ].join("\n");
    const error = refusal(text);
    expect(error.problems.map((problem) => problem.field)).toEqual([
      "alerts.yml: groups[0].query_offset",
      "alerts.yml: groups[0].rules[0].labelz",
      "alerts.yml: groups[0].rules[0].expr",
      "alerts.yml: groups[0].rules[0].for",
      "alerts.yml: groups[0].rules[1].record",
      "alerts.yml: groups[0].rules[1].for",
      "alerts.yml: groups[0].rules[2]",
      "alerts.yml: groups[1].name",
    ]);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe("alerts.yml: 8 problems:");
    expect(lines).toContain(
      '  groups[0].query_offset: "query_offset" is read by later Prometheus versions, not by 2.42. Remove it: the Prometheus pgdrill starts is 2.42, which refuses it.',
    );
    expect(lines).toContain('  groups[0].rules[0].labelz: unknown key "labelz". Did you mean "labels"?');
    expect(lines).toContain(
      '  groups[0].rules[0].for: rule "A": "1.5m" is not a Prometheus duration (whole numbers with units y, w, d, h, m, s, ms, largest first). Write "1m30s".',
    );
    expect(lines).toContain('  groups[0].rules[1].for: rule "a b" is a recording rule, which has no for. Remove for, or make it an alert.');
    expect(lines).toContain('  groups[1].name: "g" is repeated in the same file. Give each group its own name.');
  });

  it("refuses an expression that does not parse, naming the rule and where", () => {
    expect(refusal(oneRule("alert: Bad\nexpr: foo(up)")).message).toBe(
      'alerts.yml: groups[0].rules[0].expr: rule "Bad"\'s expression does not parse: unexpected text at column 4: "(up)". ' +
        "Fix the PromQL (try it in Prometheus's query page).",
    );
    expect(refusal(oneRule("alert: Cut\nexpr: pg_up == 0 and")).message).toMatch(
      /rule "Cut"'s expression does not parse: it ends too early/,
    );
    expect(refusal(oneRule("alert: Empty\nexpr: ''")).message).toMatch(/groups\[0\]\.rules\[0\]\.expr: rule "Empty" has no expression/);
  });

  it("refuses a rule with both alert and record, label names Prometheus refuses, and a for that is a bare number", () => {
    expect(refusal(oneRule("alert: A\nrecord: b\nexpr: up")).message).toMatch(
      /groups\[0\]\.rules\[0\]: rule "A" sets both alert and record/,
    );
    expect(refusal(oneRule('alert: A\nexpr: up\nlabels: { "a-b": c }')).message).toMatch(/labels\.a-b: "a-b" is not a valid label name/);
    expect(refusal(oneRule("alert: A\nexpr: up\nfor: 60")).message).toMatch(
      /rules\[0\]\.for: rule "A": number 60 is not a Prometheus duration.*Write e\.g\./,
    );
  });

  it("refuses text that is not YAML, or not a mapping of groups", () => {
    expect(refusal("groups: [\n").message).toMatch(/^alerts\.yml: is not valid YAML/);
    expect(refusal("- a\n").message).toMatch(/^alerts\.yml: must be a mapping with "groups", got a list/);
    expect(refusal("groups: {}\n").message).toMatch(/^alerts\.yml: groups: must be a list of rule groups/);
  });
});

describe("loadRulesFile", () => {
  it("reads a file, naming it by its source in every problem", () => {
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-rules-"));
    dirs.push(dir);
    writeFileSync(join(dir, "ok.yml"), oneRule("alert: A\nexpr: up == 0\nfor: 30s"));
    expect(alertingRules(loadRulesFile(join(dir, "ok.yml")))[0]).toMatchObject({ alert: "A", forMs: 30_000 });
    writeFileSync(join(dir, "bad.yml"), oneRule("alert: A\nexpr: up == 0\nfor: soon"));
    expect(() => loadRulesFile(join(dir, "bad.yml"), "rules/bad.yml")).toThrow(
      /^rules\/bad\.yml: groups\[0\]\.rules\[0\]\.for: rule "A": "soon"/,
    );
    expect(() => loadRulesFile(join(dir, "missing.yml"), "missing.yml")).toThrow(/^missing\.yml: cannot be read: ENOENT/);
  });
});

describe("Prometheus durations", () => {
  it("are whole numbers with units y w d h m s ms, largest first, each once, or 0", () => {
    const cases: Array<[string, number | null]> = [
      ["1m", 60_000],
      ["1h30m", 5_400_000],
      ["500ms", 500],
      ["30s", 30_000],
      ["2w3d", 17 * 86_400_000],
      ["1y", 365 * 86_400_000],
      ["0", 0],
      ["0s", 0],
      ["01m", 60_000],
      ["1.5m", null],
      ["30s1m", null],
      ["1m1m", null],
      ["1M", null],
      [" 1m", null],
      ["", null],
      ["60", null],
    ];
    for (const [text, ms] of cases) expect(parsePrometheusDuration(text), text).toBe(ms);
  });
});

describe("what an expression reads", () => {
  const expr =
    'sum by (job) (rate(pg_stat_activity_count{state="active"}[5m])) > on() group_left {__name__="pg_up", job="a"} ' +
    'or absent(pg_replication_lag_seconds offset 5m) unless {__name__=~"pg_.*"} or {"pg.dotted"}';

  it("names each metric once, written before braces, as __name__=, or quoted alone; a regex on __name__ names none", () => {
    expect(metricsOf(expr)).toEqual(["pg_stat_activity_count", "pg_up", "pg_replication_lag_seconds", "pg.dotted"]);
    expect(metricsOf("time() > 5")).toEqual([]);
    expect(metricsOf('up{job="postgres"} == 0 or up{job="postgres"} == 0')).toEqual(["up"]);
  });

  it("lists the vector selectors as written, without range or offset", () => {
    expect(selectorsOf(expr)).toEqual([
      'pg_stat_activity_count{state="active"}',
      '{__name__="pg_up", job="a"}',
      "pg_replication_lag_seconds",
      '{__name__=~"pg_.*"}',
      '{"pg.dotted"}',
    ]);
    expect(selectorsOf("pg_up == 0")).toEqual(["pg_up"]);
  });

  it("tells an expression that parses from one that does not", () => {
    expect(exprError("pg_up == 0")).toBeNull();
    expect(exprError('label_replace(up, "a", "$1", "b", "(.*)")')).toBeNull();
    expect(exprError("sum(up) by")).toBe("it ends too early");
    expect(exprError("up{")).toBe("it ends too early");
    expect(exprError("  ")).toBe("it is empty");
  });
});
