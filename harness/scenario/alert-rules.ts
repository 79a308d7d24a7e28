/**
 * Prometheus rules files, read as Prometheus 2.42 reads them (its rulefmt): groups of alerting and
 * recording rules, unknown keys refused, durations in Prometheus's own syntax. A file Prometheus
 * would refuse is refused here before anything starts, every problem at once, each naming the file
 * and the place in it (`alerts.yml: groups[0].rules[1].for`). Expressions are parsed with the
 * PromQL grammar of Prometheus's own UI (@prometheus-io/lezer-promql), so pgdrill can say which
 * metrics and selectors a rule reads: what a rule that cannot fire is missing.
 */
import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";
import YAML from "yaml";
import { formatDuration, parseDuration } from "../duration.ts";
import { errorMessage, InputError, inputErrors } from "../errors.ts";
import { closest } from "../suggest.ts";

/** The seed guide's rules, as written there: what a started stack loads when the scenario names no file. */
export const SEED_GUIDE_RULES = `groups:
  - name: postgres
    rules:
      - alert: PostgresDown
        expr: pg_up == 0
        for: 1m
        labels:
          severity: critical
        annotations:
          summary: "PostgreSQL instance is down"

      - alert: PostgresReplicationLag
        expr: pg_replication_lag_seconds > 30
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "PostgreSQL replication lag exceeds 30 seconds"

      - alert: PostgresHighConnections
        expr: pg_stat_activity_count > 180
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "PostgreSQL connection count approaching limit"
`;

/** How messages name the seed guide's rules. */
export const SEED_GUIDE_SOURCE = "the seed guide's rules";

export interface Rule {
  kind: "alert" | "record";
  /** The alert's name, or the recorded metric's. */
  name: string;
  expr: string;
  /** How long the expression must hold before the alert fires (0 for a recording rule). */
  forMs: number;
  /** How long it keeps firing after the expression stops holding (0 unless set). */
  keepFiringForMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  /** The group's own evaluation interval; null: Prometheus's global one. */
  intervalMs: number | null;
  /** The most alerts or series a rule may produce; 0: no limit. */
  limit: number;
  rules: Rule[];
}

export interface RulesFile {
  /** How messages name it: a path, or SEED_GUIDE_SOURCE. */
  source: string;
  groups: RuleGroup[];
}

/** An alerting rule with its group: what a drill watches. */
export interface AlertingRule {
  alert: string;
  group: string;
  expr: string;
  forMs: number;
  labels: Record<string, string>;
  /** The group's evaluation interval when it sets one (it then replaces the global one); null otherwise. */
  intervalMs: number | null;
  keepFiringForMs: number;
}

// ---- Reading a file -------------------------------------------------------------------------

/** Reads and parses a rules file; `source` names it in messages (default: the path). */
export function loadRulesFile(path: string, source: string = path): RulesFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(source, `cannot be read: ${errorMessage(error).split("\n")[0]}`, "Give the path of a Prometheus rules file.");
  }
  return parseRules(text, source);
}

/** Parses a rules file's text, or throws an InputError listing every problem (see inputErrors). */
export function parseRules(text: string, source: string): RulesFile {
  let data: unknown;
  try {
    data = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new InputError(source, `is not valid YAML: ${errorMessage(error).split("\n")[0]}`, "Fix the syntax at that line.");
  }
  const problems: InputError[] = [];
  const report = (path: string, problem: string, fix: string) =>
    problems.push(new InputError(path ? `${source}: ${path}` : source, problem, fix));
  const groups = readFile(data, report);
  if (problems.length > 0) throw inputErrors(source, problems);
  return { source, groups };
}

/** The alerting rules of a file, in the order written. */
export function alertingRules(file: RulesFile): AlertingRule[] {
  return file.groups.flatMap((group) =>
    group.rules
      .filter((rule) => rule.kind === "alert")
      .map((rule) => ({
        alert: rule.name,
        group: group.name,
        expr: rule.expr,
        forMs: rule.forMs,
        labels: rule.labels,
        intervalMs: group.intervalMs,
        keepFiringForMs: rule.keepFiringForMs,
      })),
  );
}

// ---- The file's structure -------------------------------------------------------------------

type Report = (path: string, problem: string, fix: string) => void;

const FILE_KEYS = ["groups"];
const GROUP_KEYS = ["name", "interval", "limit", "rules"];
const RULE_KEYS = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];
/** Group keys later Prometheus versions read, which the started Prometheus (2.42) refuses as unknown. */
const LATER_GROUP_KEYS = ["query_offset", "labels"];

/** A metric's name (a recording rule's), and a label's. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function readFile(data: unknown, report: Report): RuleGroup[] {
  // An empty file is a file of no groups, as Prometheus reads it.
  if (data === null || data === undefined) return [];
  if (!isRecord(data)) {
    report("", `must be a mapping with "groups", got ${describe(data)}`, "Start the file with `groups:` and a list of rule groups.");
    return [];
  }
  unknownKeys(data, FILE_KEYS, "", report);
  const groups = data["groups"];
  if (groups === null || groups === undefined) return [];
  if (!Array.isArray(groups)) {
    report("groups", `must be a list of rule groups, got ${describe(groups)}`, "Write each group as a list item: `- name: ...`.");
    return [];
  }
  const names = new Set<string>();
  return groups.flatMap((group, i) => {
    const read = readGroup(group, `groups[${i}]`, report);
    if (read?.name && names.has(read.name)) {
      report(`groups[${i}].name`, `"${read.name}" is repeated in the same file`, "Give each group its own name.");
    }
    if (read) names.add(read.name);
    return read ? [read] : [];
  });
}

function readGroup(group: unknown, path: string, report: Report): RuleGroup | null {
  if (!isRecord(group)) {
    report(path, `must be a rule group (a mapping with name and rules), got ${describe(group)}`, "Write `- name: ...` then `rules:`.");
    return null;
  }
  unknownKeys(group, GROUP_KEYS, path, report);
  const name = group["name"];
  if (typeof name !== "string" || name === "") {
    report(`${path}.name`, name === undefined || name === "" ? "is missing" : `must be text, got ${describe(name)}`, "Name the group.");
  }
  const intervalMs = group["interval"] === undefined ? null : readDuration(group["interval"], `${path}.interval`, "", report);
  const limit = group["limit"] ?? 0;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
    report(
      `${path}.limit`,
      `must be a whole number of 0 or more, got ${describe(limit)}`,
      "Give the most alerts or series a rule may produce, or 0.",
    );
  }
  const rules = group["rules"] ?? [];
  if (!Array.isArray(rules)) {
    report(`${path}.rules`, `must be a list of rules, got ${describe(rules)}`, "Write each rule as a list item: `- alert: ...`.");
  }
  const read = Array.isArray(rules) ? rules.map((rule, j) => readRule(rule, `${path}.rules[${j}]`, report)) : [];
  return {
    name: typeof name === "string" ? name : "",
    intervalMs: intervalMs === 0 ? null : (intervalMs ?? null),
    limit: typeof limit === "number" ? limit : 0,
    rules: read.filter((rule): rule is Rule => rule !== null),
  };
}

function readRule(rule: unknown, path: string, report: Report): Rule | null {
  if (!isRecord(rule)) {
    report(
      path,
      `must be a rule (a mapping with alert or record, and expr), got ${describe(rule)}`,
      "Write `- alert: ...` then `expr: ...`.",
    );
    return null;
  }
  unknownKeys(rule, RULE_KEYS, path, report);
  const alert = scalarText(rule["alert"]);
  const record = scalarText(rule["record"]);
  const kind = alert ? "alert" : "record";
  const name = alert || record || "";
  const named = name ? `rule "${name}"` : "this rule";
  if (alert && record) {
    report(path, `${named} sets both alert and record`, "Keep one: alert for an alerting rule, record for a recording rule.");
  } else if (!name) {
    report(path, "sets neither alert nor record", "Add `alert: <AlertName>` (an alerting rule) or `record: <metric>` (a recording rule).");
  }
  if (record && !alert && !METRIC_NAME.test(record)) {
    report(`${path}.record`, `"${record}" is not a metric name`, "Use letters, digits, '_' and ':', not starting with a digit.");
  }
  const expr = scalarText(rule["expr"]);
  if (!expr) {
    report(`${path}.expr`, `${named} has no expression`, "Add `expr:` with the PromQL expression it evaluates.");
  } else {
    const error = exprError(expr);
    if (error)
      report(`${path}.expr`, `${named}'s expression does not parse: ${error}`, "Fix the PromQL (try it in Prometheus's query page).");
  }
  const forMs = readDuration(rule["for"], `${path}.for`, named, report) ?? 0;
  const keepFiringForMs = readDuration(rule["keep_firing_for"], `${path}.keep_firing_for`, named, report) ?? 0;
  if (kind === "record") {
    for (const key of ["for", "keep_firing_for", "annotations"]) {
      if (rule[key] !== undefined)
        report(`${path}.${key}`, `${named} is a recording rule, which has no ${key}`, `Remove ${key}, or make it an alert.`);
    }
  }
  return {
    kind,
    name,
    expr: expr ?? "",
    forMs,
    keepFiringForMs,
    labels: readLabels(rule["labels"], `${path}.labels`, "label", report),
    annotations: readLabels(rule["annotations"], `${path}.annotations`, "annotation", report),
  };
}

function readLabels(value: unknown, path: string, noun: string, report: Report): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    report(path, `must be a mapping of ${noun} names to values, got ${describe(value)}`, `Write one \`name: value\` per line.`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (!LABEL_NAME.test(name))
      report(`${path}.${name}`, `"${name}" is not a valid ${noun} name`, "Use letters, digits and '_', not starting with a digit.");
    const text = scalarText(item);
    if (text === null) report(`${path}.${name}`, `must be text, got ${describe(item)}`, "Quote the value.");
    else out[name] = text;
  }
  return out;
}

/** Prometheus reads a scalar where it wants text (`severity: 1` is "1"); lists and mappings are refused. */
function scalarText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

function unknownKeys(object: Record<string, unknown>, known: readonly string[], path: string, report: Report): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const where = path ? `${path}.${key}` : key;
    if (known === GROUP_KEYS && LATER_GROUP_KEYS.includes(key)) {
      report(
        where,
        `"${key}" is read by later Prometheus versions, not by 2.42`,
        "Remove it: the Prometheus pgdrill starts is 2.42, which refuses it.",
      );
      continue;
    }
    const meant = closest(key, known);
    report(where, `unknown key "${key}"`, meant ? `Did you mean "${meant}"?` : `Use ${known.join(", ")}.`);
  }
}

// ---- Durations ------------------------------------------------------------------------------

const PROMETHEUS_UNITS_MS = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const PROMETHEUS_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * A Prometheus duration in milliseconds ("1m", "1h30m", "500ms", "2w3d"; whole numbers, units y w
 * d h m s ms largest first, each once; "0"), or null when it is not one.
 */
export function parsePrometheusDuration(text: string): number | null {
  if (text === "0") return 0;
  const match = text === "" ? null : PROMETHEUS_DURATION.exec(text);
  if (!match) return null;
  const units = Object.values(PROMETHEUS_UNITS_MS);
  return match.slice(1).reduce((ms, amount, i) => ms + (amount === undefined ? 0 : Number(amount) * units[i]!), 0);
}

/** A rule's or group's duration field: absent is null; a YAML 0 is 0 (Prometheus reads it as "0"). */
function readDuration(value: unknown, path: string, named: string, report: Report): number | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === "number" && value === 0 ? "0" : typeof value === "string" ? value : null;
  const ms = text === null ? null : parsePrometheusDuration(text);
  if (ms !== null) return ms;
  // What pgdrill's own durations would read it as ("1.5m"), written as Prometheus wants it.
  const lenient = parseDuration(value);
  const instead =
    lenient.ok && Number.isInteger(lenient.ms) ? `Write "${formatDuration(lenient.ms)}".` : 'Write e.g. "30s", "1m" or "1h30m".';
  report(
    path,
    `${named ? `${named}: ` : ""}${describe(value)} is not a Prometheus duration ` +
      "(whole numbers with units y, w, d, h, m, s, ms, largest first)",
    instead,
  );
  return null;
}

// ---- Expressions ----------------------------------------------------------------------------

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** Why an expression does not parse ("unexpected text at column 6"), or null when it does. */
export function exprError(expr: string): string | null {
  if (expr.trim() === "") return "it is empty";
  const cursor = parser.parse(expr).cursor();
  do {
    if (!cursor.type.isError) continue;
    const rest = expr.slice(cursor.from).trim();
    return rest === "" ? "it ends too early" : `unexpected text at column ${cursor.from + 1}: "${rest.slice(0, 20)}"`;
  } while (cursor.next());
  return null;
}

/**
 * The metric names an expression reads: each vector selector's name, whether written before the
 * braces or as `{__name__="x"}` (or Prometheus 3's `{"x"}`). A selector matching names by regex
 * names none. In the order written, each once; for an expression that does not parse, what could be read.
 */
export function metricsOf(expr: string): string[] {
  const names = vectorSelectors(expr).flatMap((node) => {
    const identifier = node.getChild("Identifier");
    if (identifier) return [expr.slice(identifier.from, identifier.to)];
    const matchers = node.getChild("LabelMatchers");
    return matchers ? namesInMatchers(matchers, expr) : [];
  });
  return [...new Set(names)];
}

/** The vector selectors' text as written (`pg_up`, `pg_stat_activity_count{state="active"}`), each once, in order. */
export function selectorsOf(expr: string): string[] {
  return [...new Set(vectorSelectors(expr).map((node) => expr.slice(node.from, node.to).trim()))];
}

function vectorSelectors(expr: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.name !== "VectorSelector") return true;
      found.push(node.node);
      return false;
    },
  });
  return found;
}

function namesInMatchers(matchers: SyntaxNode, expr: string): string[] {
  const names: string[] = [];
  for (let child = matchers.firstChild; child; child = child.nextSibling) {
    // A quoted name on its own is the metric's (`{"pg_up"}`); in a matcher it is a label's.
    if (child.name === "QuotedLabelName") {
      const literal = child.getChild("StringLiteral");
      if (literal) names.push(unquote(expr.slice(literal.from, literal.to)));
    }
    if (child.name !== "UnquotedLabelMatcher" && child.name !== "QuotedLabelMatcher") continue;
    const label = child.getChild("LabelName") ?? child.getChild("QuotedLabelName");
    const op = child.getChild("MatchOp");
    const value = child.getChild("StringLiteral");
    if (!label || !op || !value) continue;
    const labelText = label.name === "LabelName" ? expr.slice(label.from, label.to) : unquote(expr.slice(label.from, label.to));
    if (labelText === "__name__" && op.firstChild?.name === "EqlSingle") names.push(unquote(expr.slice(value.from, value.to)));
  }
  return names;
}

/** A PromQL string literal's value: "…" and '…' with Go's escapes, `…` raw. */
function unquote(literal: string): string {
  const quote = literal[0];
  const inner = literal.slice(1, -1);
  if (quote === "`") return inner;
  return inner.replace(/\\(.)/g, (_, escaped: string) => ({ n: "\n", t: "\t", r: "\r" })[escaped] ?? escaped);
}

// ---- Helpers --------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
