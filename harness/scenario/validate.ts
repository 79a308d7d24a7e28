/**
 * Turns untrusted scenario data into a Scenario, or an InputError that lists every problem found,
 * one line each naming the field, quoting the value and saying the fix (a single problem is a
 * single line). The zod schema checks shapes; the checks after it are the ones a schema cannot
 * express (nodes that exist, times inside the drill, a steady state before the first fault), and
 * they still run on the parts whose shape was right, so one pass shows everything to fix.
 */
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { formatMs, toMs, type Duration } from "../duration.ts";
import { InputError, inputErrors } from "../errors.ts";
import { findImpossibleStep } from "../schedule/feasibility.ts";
import { rememberSecrets } from "../secrets.ts";
import { closest } from "../suggest.ts";
import { faultOf } from "../fault/catalog.ts";
import { aimsOf } from "../fault/define.ts";
import { FAULTS } from "../fault/registry.ts";
import { actionNode } from "../action/define.ts";
import { actionOf, ACTIONS } from "../action/registry.ts";
import type { Capability } from "../targets/controls.ts";
import type { Path, Report } from "../targets/plugin.ts";
import { targetPlugin } from "../targets/registry.ts";
import { bestOption, keysAt, knownKeys, unionOptionsAt } from "./schema-keys.ts";
import { checkProbe } from "./probe-checks.ts";
import { checkMonitoring } from "./monitoring-checks.ts";
import {
  probe as probeSchema,
  scenario as scenarioSchema,
  issueFix,
  step as stepSchema,
  target as targetSchema,
  type ActionSpec,
  type FaultSpec,
  type Monitoring,
  type ProbeSpec,
  type Scenario,
  type StepSpec,
  type Target,
} from "./schema.ts";

/** The nodes a target has, by name (its plugin's). */
export function targetNodes(target: Target): string[] {
  return targetPlugin(target).nodes(target);
}

/**
 * Names a fault or action may aim at: the target's nodes, and the roles its plugin resolves when
 * the step runs (on cnpg, "primary" is whichever instance is primary then).
 */
export function aimableNodes(target: Target): string[] {
  return [...targetPlugin(target).roles, ...targetNodes(target)];
}

/**
 * What a target can do: the faults and actions whose declared requirement (each one's module) is
 * among its plugin's capabilities. A scenario asking for more is refused
 * before anything starts.
 */
export function targetAbilities(target: Target): { faults: FaultSpec["kind"][]; actions: ActionSpec["kind"][] } {
  const provided: readonly (Capability | null)[] = [null, ...targetPlugin(target).capabilities];
  return {
    faults: FAULTS.filter((fault) => provided.includes(fault.requires)).map((fault) => fault.kind),
    actions: ACTIONS.filter((action) => provided.includes(action.requires)).map((action) => action.kind),
  };
}

/** Every option name the schema knows, for "did you mean" where the path's own object is unknown. */
export const KNOWN_KEYS: readonly string[] = knownKeys(scenarioSchema);

export interface ValidateOptions {
  /** Where paths in the scenario (a monitoring rules file) are relative to; default: the directory of `source`. */
  dir?: string;
}

export function validateScenario(input: unknown, source: string, options: ValidateOptions = {}): Scenario {
  // Its passwords are masked by value from here on: in errors, a command's output, every report.
  rememberSecrets(input);
  const problems: InputError[] = [];
  const report: Report = (path, problem, fix) => {
    problems.push(new InputError(at(source, path), problem, fix));
  };
  const context: CheckContext = {
    report,
    refuse: (error) => problems.push(...error.problems),
    dir: options.dir ?? dirname(resolve(source)),
  };
  const parsed = scenarioSchema.safeParse(input);
  if (parsed.success) {
    const { rulesPath } = checkSemantics(parsed.data, context);
    // The run reads the rules file wherever it runs from: the path, made absolute here.
    if (rulesPath && parsed.data.monitoring?.start) parsed.data.monitoring.start.rules = rulesPath;
  } else {
    const leaves = parsed.error.issues.flatMap((issue) => leafIssues(issue, input, []));
    for (const leaf of withoutShadowed(leaves, input)) problems.push(leafToError(leaf, input, source));
    checkSemantics(
      salvage(
        input,
        leaves.map((leaf) => leaf.path),
      ),
      context,
    );
  }
  if (problems.length > 0) throw inputErrors(source, unique(problems));
  return parsed.data!;
}

// ---- Shape errors ---------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;

/** One problem zod found, with its full path; an unknown key is one leaf per key. */
interface Leaf {
  issue: Issue;
  path: Path;
  /** For unrecognized_keys: the one key this leaf is about, and the key probably meant. */
  key?: string;
  suggestion?: string | null;
}

/**
 * The issues a person should read: a union's failure becomes the failures of the option the user
 * meant (a schedule entry with "fault" is a fault step), when that can be told.
 */
function leafIssues(issue: Issue, input: unknown, prefix: Path): Leaf[] {
  const path = [...prefix, ...issue.path];
  const here = valueAt(input, path);
  if (issue.code === "invalid_union" && issue.errors.length > 0 && isRecord(here)) {
    const branch = meantBranch(issue.errors, input, path);
    if (branch >= 0) return issue.errors[branch]!.flatMap((inner) => leafIssues(inner, input, path));
  }
  if (issue.code === "unrecognized_keys") {
    const scope = keysAt(scenarioSchema, input, path) ?? KNOWN_KEYS;
    return issue.keys.map((key) => ({ issue, path, key, suggestion: closest(key, scope) }));
  }
  return [{ issue, path }];
}

/** Which option of a failed union the value was meant for: the one whose keys fit it best. */
function meantBranch(errors: readonly (readonly Issue[])[], input: unknown, path: Path): number {
  const options = unionOptionsAt(scenarioSchema, input, path);
  if (options && options.length === errors.length) return bestOption(options, valueAt(input, path));
  return -1;
}

/**
 * A misspelt key also makes the key meant "missing" ("probe:" for "probes:"); the unknown key's
 * "did you mean" already says it, so the missing one is left out.
 */
function withoutShadowed(leaves: readonly Leaf[], input: unknown): Leaf[] {
  const meant = new Set(leaves.filter((leaf) => leaf.suggestion).map((leaf) => formatPath([...leaf.path, leaf.suggestion!])));
  return leaves.filter(
    (leaf) => !(leaf.issue.code === "invalid_type" && valueAt(input, leaf.path) === undefined && meant.has(formatPath(leaf.path))),
  );
}

const SEE_README = "See `pgdrill run --help` and the README's scenario section.";

function leafToError(leaf: Leaf, input: unknown, source: string): InputError {
  const { issue, path } = leaf;
  const here = valueAt(input, path);
  if (issue.code === "unrecognized_keys") {
    return new InputError(
      at(source, path),
      `unknown key "${leaf.key}"`,
      leaf.suggestion
        ? `Did you mean "${leaf.suggestion}"? Unknown keys are refused so a typo cannot change the drill.`
        : "Remove it; unknown keys are refused so a typo cannot change the drill.",
    );
  }
  if (issue.code === "invalid_type" && here === undefined) {
    return new InputError(at(source, path), "is missing", `Add it (${issue.expected}).`);
  }
  if (issue.code === "invalid_type") {
    return new InputError(
      at(source, path),
      `must be ${article(issue.expected)}, got ${describe(here)}`,
      `Set it to ${article(issue.expected)}.`,
    );
  }
  if (issue.code === "invalid_key") {
    const inner = issue.issues[0]?.message ?? issue.message;
    return new InputError(at(source, path), `the key ${JSON.stringify(String(path.at(-1)))} ${inner}`, SEE_README);
  }
  // Our own refinements carry their fix and quote what matters already.
  const fix = issueFix(issue);
  if (fix !== undefined) return new InputError(at(source, path), issue.message, fix);
  // Messages from the schema already say what is accepted; quote the value beside them.
  const quoted = here === undefined || isRecord(here) || Array.isArray(here) || issue.message.includes("got ");
  const shown = quoted ? "" : ` (got ${describe(here)})`;
  return new InputError(at(source, path), `${issue.message}${shown}`, SEE_README);
}

/** Each problem once (two checks can reach the same conclusion about one field). */
function unique(problems: readonly InputError[]): InputError[] {
  return [...new Map(problems.map((problem) => [problem.message, problem])).values()];
}

// ---- Meaning errors -------------------------------------------------------------------------

/**
 * The parts of a scenario the checks below read. After a shape error, a part is undefined where
 * its shape was wrong (a list holds undefined for each wrong entry), and every check that needs it
 * is skipped rather than guessed at.
 */
interface Parts {
  target?: Target | undefined;
  probes?: ReadonlyArray<ProbeSpec | undefined> | undefined;
  steadyState?: Scenario["steadyState"] | undefined;
  schedule?: ReadonlyArray<StepSpec | undefined> | undefined;
  duration?: Duration | undefined;
  monitoring?: Monitoring | undefined;
}

/** Where the checks below send what they find, and where the scenario's own paths are relative to. */
interface CheckContext {
  report: Report;
  /** A problem that names its own place (a line of the monitoring rules file). */
  refuse: (error: InputError) => void;
  dir: string;
}

/** The parts of `input` that zod found nothing wrong with, parsed (defaults filled in). */
function salvage(input: unknown, issuePaths: readonly Path[]): Parts {
  if (!isRecord(input)) return {};
  const clean = (prefix: Path) => !issuePaths.some((path) => prefix.every((key, i) => path[i] === key));
  const part = <T>(schema: z.ZodType<T>, value: unknown, prefix: Path): T | undefined => {
    if (!clean(prefix)) return undefined;
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  };
  const list = <T>(schema: z.ZodType<T>, key: string): Array<T | undefined> | undefined => {
    const value = input[key];
    if (value === undefined && clean([key])) return [];
    return Array.isArray(value) ? value.map((entry, i) => part(schema, entry, [key, i])) : undefined;
  };
  return {
    target: part(targetSchema, input["target"], ["target"]),
    probes: list(probeSchema, "probes"),
    steadyState: part(scenarioSchema.shape.steadyState, input["steadyState"], ["steadyState"]),
    schedule: list(stepSchema, "schedule"),
    duration: part(scenarioSchema.shape.duration, input["duration"], ["duration"]),
    monitoring: part(scenarioSchema.shape.monitoring, input["monitoring"], ["monitoring"]),
  };
}

function checkSemantics(parts: Parts, { report, refuse, dir }: CheckContext): { rulesPath: string | null } {
  const { target } = parts;
  const nodes = target ? aimableNodes(target) : undefined;
  const plugin = target ? targetPlugin(target) : undefined;
  const capabilities = target ? targetAbilities(target) : undefined;
  const durationMs = parts.duration === undefined ? undefined : toMs(parts.duration);
  const steadyMs = parts.steadyState === undefined ? undefined : toMs(parts.steadyState.window);
  /** Reports `node` if the target has no such node; true when it has (or the target is unknown). */
  const knownNode = (path: Path, node: string, via: Report = report): boolean => {
    if (!target || !nodes || nodes.includes(node)) return true;
    via(path, `unknown node "${node}"`, `The ${target.kind} target's nodes are ${nodes.join(", ")}.`);
    return false;
  };

  // The drill's end, when there is a sensible one to compare times with.
  let endMs = durationMs;
  if (durationMs !== undefined && durationMs <= 0) {
    report(["duration"], "must be longer than 0", 'Give the drill a length, e.g. "15s".');
    endMs = undefined;
  }
  if (steadyMs !== undefined && endMs !== undefined && steadyMs >= endMs) {
    report(
      ["steadyState", "window"],
      `${formatMs(steadyMs)} is not shorter than the drill (${formatMs(endMs)})`,
      "Shorten the window or lengthen duration.",
    );
  }

  const names = new Set<string>();
  parts.probes?.forEach((probe, i) => probe && checkProbe(probe, ["probes", i], { target, plugin, knownNode }, report, names));

  // The schedule as a whole (its order, the steady state before it) is judged only when every
  // entry is known and none had a problem of its own: otherwise the verdict would be a guess.
  const schedule = parts.schedule?.every((step) => step !== undefined) ? (parts.schedule as readonly StepSpec[]) : undefined;
  let scheduleProblems = 0;
  const reportStep: Report = (path, problem, fix) => {
    scheduleProblems += 1;
    report(path, problem, fix);
  };
  // Who is primary at each step; unknown after an entry whose shape was wrong (it may promote).
  let rw: string | null = "primary";
  let firstAt: number | null = null;
  parts.schedule?.forEach((step, i) => {
    if (!step) {
      rw = null;
      return;
    }
    const atMs = toMs(step.at);
    firstAt = firstAt === null ? atMs : Math.min(firstAt, atMs);
    if (endMs !== undefined && atMs >= endMs) {
      reportStep(
        ["schedule", i, "at"],
        `${formatMs(atMs)} is at or past the end of the drill (duration ${formatMs(endMs)})`,
        "Move it earlier or lengthen duration.",
      );
    }
    if ("manual" in step) {
      // Past the drill's end, the wait would be cut short with nobody told.
      if (endMs !== undefined && atMs < endMs && atMs + toMs(step.manual.timeout) > endMs) {
        reportStep(
          ["schedule", i, "manual", "timeout"],
          `the wait would last until ${formatMs(atMs + toMs(step.manual.timeout))}, after the drill ends (${formatMs(endMs)})`,
          "Shorten the timeout or lengthen duration.",
        );
      }
      return;
    }
    if ("fault" in step) {
      checkFaultStep(step, i);
      if (step.for !== undefined && endMs !== undefined && atMs < endMs && atMs + toMs(step.for) > endMs) {
        reportStep(
          ["schedule", i, "for"],
          `the fault would heal at ${formatMs(atMs + toMs(step.for))}, after the drill ends (${formatMs(endMs)})`,
          "Shorten it or lengthen duration.",
        );
      }
      return;
    }
    if (!target || !capabilities) return;
    const action = step.action;
    if (!capabilities.actions.includes(action.kind)) {
      reportStep(
        ["schedule", i, "action", "kind"],
        `the ${target.kind} target cannot do "${action.kind}"`,
        `Use one of ${capabilities.actions.join(", ")}.`,
      );
      return;
    }
    const definition = actionOf(action);
    const at = (path: ReadonlyArray<string | number>) => ["schedule", i, "action", ...path];
    if (switchedOff(definition.requires, at(["kind"]))) return;
    const node = actionNode(definition, action);
    if (node !== undefined && !knownNode(at([definition.node!]), node, reportStep)) return;
    const context = { rw };
    definition.check?.(action, context, (path, problem, fix) => reportStep(at(path), problem, fix));
    rw = context.rw;
  });

  function checkFaultStep(step: Extract<StepSpec, { fault: unknown }>, i: number): void {
    const fault = step.fault;
    const definition = faultOf(fault);
    definition.check?.(fault, { for: step.for !== undefined }, (path, problem, fix) => reportStep(["schedule", i, ...path], problem, fix));
    if (!target || !capabilities) return;
    if (!capabilities.faults.includes(fault.kind)) {
      reportStep(
        ["schedule", i, "fault", "kind"],
        `the ${target.kind} target cannot do "${fault.kind}"`,
        `Use one of ${capabilities.faults.join(", ")}.`,
      );
      return;
    }
    if (switchedOff(definition.requires, ["schedule", i, "fault", "kind"])) return;
    const aims = aimsOf(definition, fault);
    if (plugin?.checkFault?.(target, { kind: fault.kind, aims }, ["schedule", i, "fault"], reportStep)) return;
    for (const aim of aims) knownNode(["schedule", i, "fault", ...aim.path], aim.node, reportStep);
  }

  /** A capability the target lists but its options leave off (backups without `backup`): said at the step. */
  function switchedOff(capability: Capability | null, path: Array<string | number>): boolean {
    const off = capability === null || !target || !plugin ? null : (plugin.unavailable?.(target, capability) ?? null);
    if (off) reportStep(path, off.problem, off.fix);
    return off !== null;
  }

  if (target && plugin) plugin.check?.(target, parts, report);
  if (target && schedule && scheduleProblems === 0) {
    const impossible = findImpossibleStep(target, schedule);
    if (impossible) reportStep(impossible.path, impossible.problem, impossible.fix);
  }
  if (schedule && steadyMs !== undefined && firstAt !== null && steadyMs > firstAt) {
    report(
      ["steadyState", "window"],
      `${formatMs(steadyMs)} ends after the first scheduled step (at ${formatMs(firstAt)})`,
      "The steady state is checked before any fault: shorten the window or schedule the first step later.",
    );
  }
  if (!parts.monitoring) return { rulesPath: null };
  return checkMonitoring(parts.monitoring, { target, schedule, durationMs: endMs, dir }, report, refuse);
}

// ---- Helpers --------------------------------------------------------------------------------

function at(source: string, path: Path): string {
  return `${source}: ${formatPath(path) || "(scenario)"}`;
}

export function formatPath(path: Path): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
