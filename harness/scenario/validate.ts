/**
 * Turns untrusted scenario data into a Scenario, or one InputError whose single line names the
 * field, quotes the value and says the fix. The zod schema checks shapes; the checks after it are
 * the ones a schema cannot express (nodes that exist, times inside the drill, a steady state
 * before the first fault).
 */
import { z } from "zod";
import { formatMs, toMs } from "../duration.ts";
import { InputError } from "../errors.ts";
import { findImpossibleStep } from "../schedule/feasibility.ts";
import { mayDisrupt } from "../target/cnpg/safety.ts";
import { scenario as scenarioSchema, type ActionSpec, type FaultSpec, type Scenario, type Target } from "./schema.ts";

/** The nodes a target has, by name. */
export function targetNodes(target: Target): string[] {
  switch (target.kind) {
    case "container-pair":
      return ["primary", "standby"];
    case "cnpg":
      return Array.from({ length: target.instances }, (_, i) => `${target.name}-${i + 1}`);
    case "endpoint":
      // "replica" only when a read replica URL is given; known for sure only when the drill starts.
      return ["primary", "replica"];
  }
}

/**
 * Names a fault or action may aim at: the target's nodes, and on cnpg the roles resolved when the
 * step runs ("primary" is whichever instance is primary then) and the operator's pod.
 */
export function aimableNodes(target: Target): string[] {
  if (target.kind === "cnpg") return ["primary", "replica", "operator", ...targetNodes(target)];
  return targetNodes(target);
}

/** What each target can do; a scenario asking for more is refused before anything starts. */
export const CAPABILITIES: { [K in Target["kind"]]: { faults: readonly FaultSpec["kind"][]; actions: readonly ActionSpec["kind"][]; endpoints: readonly string[] } } = {
  "container-pair": { faults: ["kill", "stop", "pause", "partition", "command"], actions: ["promote", "heal"], endpoints: ["rw"] },
  cnpg: { faults: ["kill", "delete-pod", "partition", "fence", "command"], actions: ["switchover", "heal"], endpoints: ["rw", "ro"] },
  // pgdrill cannot fail a managed service over itself: the user's commands do.
  endpoint: { faults: ["command"], actions: ["heal"], endpoints: ["rw", "ro"] },
};

const MIN_INTERVAL_MS = 10;

/** Every option name the schema knows, for "did you mean" suggestions. */
const KNOWN_KEYS = [
  "name", "description", "target", "probes", "steadyState", "schedule", "duration", "gate", "kind", "replication",
  "image", "startupTimeout", "every", "timeout", "connectTimeout", "connection", "endpoint", "node", "mode", "isolate",
  "between", "oneWay", "after", "at", "fault", "action", "for", "window", "minAvailability", "context", "kubeconfig",
  "allowContexts", "kindConfig", "kindImage", "operator", "version", "manifest", "install", "namespace", "instances",
  "imageName", "storage", "parameters", "spec", "access", "host", "nodePortBase", "grace", "to", "pooler", "poolSize",
  "settings", "url", "readReplicaUrl", "ssl", "ca", "rejectUnauthorized", "allowWrites", "run", "heal", "label", "pool", "min", "max", "recycle",
];

export function validateScenario(input: unknown, source: string): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) throw issueToError(parsed.error.issues[0]!, input, source);
  checkSemantics(parsed.data, source);
  return parsed.data;
}

// ---- Shape errors ---------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;
type Path = ReadonlyArray<PropertyKey>;

function issueToError(issue: Issue, input: unknown, source: string, prefix: Path = []): InputError {
  const path = [...prefix, ...issue.path];
  const here = valueAt(input, path);

  if (issue.code === "invalid_union" && "errors" in issue && isRecord(here)) {
    // A schedule entry: show the error of the branch the user meant (fault or action).
    const branch = "fault" in here && !("action" in here) ? 0 : "action" in here && !("fault" in here) ? 1 : -1;
    const inner = branch >= 0 ? issue.errors[branch]?.[0] : undefined;
    if (inner) return issueToError(inner, input, source, path);
  }
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const suggestion = closest(key, KNOWN_KEYS);
    return new InputError(
      at(source, path),
      `unknown key "${key}"`,
      suggestion ? `Did you mean "${suggestion}"? Unknown keys are refused so a typo cannot change the drill.` : "Remove it; unknown keys are refused so a typo cannot change the drill.",
    );
  }
  if (issue.code === "invalid_type" && here === undefined) {
    return new InputError(at(source, path), "is missing", `Add it (${issue.expected}).`);
  }
  if (issue.code === "invalid_type") {
    return new InputError(at(source, path), `must be ${article(issue.expected)}, got ${describe(here)}`, `Set it to ${article(issue.expected)}.`);
  }
  // Messages from the schema already say what is accepted; quote the value beside them.
  const quoted = here === undefined || isRecord(here) || Array.isArray(here) || issue.message.includes("got ");
  const shown = quoted ? "" : ` (got ${describe(here)})`;
  return new InputError(at(source, path), `${issue.message}${shown}`, "See `pgdrill run --help` and the README's scenario section.");
}

// ---- Meaning errors -------------------------------------------------------------------------

function checkSemantics(scenario: Scenario, source: string): void {
  const fail = (path: Path, problem: string, fix: string): never => {
    throw new InputError(at(source, path), problem, fix);
  };
  const nodes = aimableNodes(scenario.target);
  const capabilities = CAPABILITIES[scenario.target.kind];
  const durationMs = toMs(scenario.duration);
  const steadyMs = toMs(scenario.steadyState.window);
  const knownNode = (path: Path, node: string) => {
    if (!nodes.includes(node)) fail(path, `unknown node "${node}"`, `The ${scenario.target.kind} target's nodes are ${nodes.join(", ")}.`);
  };

  if (durationMs <= 0) fail(["duration"], "must be longer than 0", 'Give the drill a length, e.g. "15s".');
  if (steadyMs >= durationMs) {
    fail(["steadyState", "window"], `${formatMs(steadyMs)} is not shorter than the drill (${formatMs(durationMs)})`, "Shorten the window or lengthen duration.");
  }

  const names = new Set<string>();
  scenario.probes.forEach((probe, i) => {
    const name = probe.name ?? probe.kind;
    if (names.has(name)) fail(["probes", i, "name"], `a second probe named "${name}"`, 'Give each probe of the same kind its own "name".');
    names.add(name);
    if (toMs(probe.every) < MIN_INTERVAL_MS) fail(["probes", i, "every"], `${formatMs(toMs(probe.every))} is below ${MIN_INTERVAL_MS} ms`, `Use ${MIN_INTERVAL_MS}ms or more.`);
    for (const key of ["timeout", "connectTimeout"] as const) {
      if (toMs(probe[key]) <= 0) fail(["probes", i, key], "must be longer than 0", 'Use e.g. "1s".');
    }
    if (probe.kind !== "role" && probe.pool !== undefined && probe.connection !== "pool") {
      fail(["probes", i, "pool"], `applies only with connection "pool" (this probe's is "${probe.connection}")`, 'Set connection: "pool", or remove pool.');
    }
    const hasPooler = scenario.target.kind === "container-pair" && scenario.target.pooler !== undefined;
    if (probe.kind !== "role" && probe.endpoint === "pooler" && !hasPooler) {
      fail(["probes", i, "endpoint"], "the target has no pooler", scenario.target.kind === "container-pair" ? 'Add "pooler: {}" to the target (PgBouncer in front of the primary), or use "rw".' : 'Use "rw".');
    }
    if (probe.kind === "select1" && probe.endpoint !== "pooler" && !capabilities.endpoints.includes(probe.endpoint)) {
      if (scenario.target.kind === "cnpg") {
        fail(["probes", i, "endpoint"], `unknown endpoint "${probe.endpoint}"`, `Use one of ${capabilities.endpoints.join(", ")} (the cluster's services).`);
      }
      knownNode(["probes", i, "endpoint"], probe.endpoint);
    }
  });
  if (scenario.probes.filter((probe) => probe.kind === "writes").length > 1) {
    fail(["probes"], "more than one writes probe", "Use a single writes probe; lost-write checking reads one table per drill.");
  }

  let rw = "primary";
  let firstAt: number | null = null;
  scenario.schedule.forEach((step, i) => {
    const atMs = toMs(step.at);
    firstAt = firstAt === null ? atMs : Math.min(firstAt, atMs);
    if (atMs >= durationMs) {
      fail(["schedule", i, "at"], `${formatMs(atMs)} is at or past the end of the drill (duration ${formatMs(durationMs)})`, "Move it earlier or lengthen duration.");
    }
    if ("fault" in step) {
      const fault = step.fault;
      if (!capabilities.faults.includes(fault.kind)) {
        fail(["schedule", i, "fault", "kind"], `the ${scenario.target.kind} target cannot do "${fault.kind}"`, `Use one of ${capabilities.faults.join(", ")}.`);
      }
      if (scenario.target.kind === "cnpg") checkCnpgFault(fault, ["schedule", i, "fault"], fail);
      if (fault.kind === "partition") {
        if (fault.isolate !== undefined) knownNode(["schedule", i, "fault", "isolate"], fault.isolate);
        fault.between?.forEach((node, j) => knownNode(["schedule", i, "fault", "between", j], node));
      } else if (fault.kind === "command") {
        if (fault.heal === undefined && step.for !== undefined) {
          fail(["schedule", i, "for"], "a command fault with a `for` needs a `heal` command to run when it ends", 'Add "heal: <command>" to the fault, or drop "for".');
        }
      } else {
        knownNode(["schedule", i, "fault", "node"], fault.node);
      }
      if (step.for !== undefined && atMs + toMs(step.for) > durationMs) {
        fail(["schedule", i, "for"], `the fault would heal at ${formatMs(atMs + toMs(step.for))}, after the drill ends (${formatMs(durationMs)})`, "Shorten it or lengthen duration.");
      }
    } else if (!capabilities.actions.includes(step.action.kind)) {
      fail(["schedule", i, "action", "kind"], `the ${scenario.target.kind} target cannot do "${step.action.kind}"`, `Use one of ${capabilities.actions.join(", ")}.`);
    } else if (step.action.kind === "switchover") {
      if (step.action.to !== "replica") knownNode(["schedule", i, "action", "to"], step.action.to);
      if (["primary", "operator"].includes(step.action.to)) fail(["schedule", i, "action", "to"], `cannot switch over to "${step.action.to}"`, 'Name an instance or "replica".');
    } else if (step.action.kind === "promote") {
      knownNode(["schedule", i, "action", "node"], step.action.node);
      if (step.action.node === rw) fail(["schedule", i, "action", "node"], `"${rw}" is already the primary at that point`, "Promote a standby.");
      rw = step.action.node;
    }
  });
  if (scenario.target.kind === "endpoint") checkEndpoint(scenario, fail);
  const impossible = findImpossibleStep(scenario.target, scenario.schedule);
  if (impossible) fail(impossible.path, impossible.problem, impossible.fix);
  const target = scenario.target;
  if (target.kind === "cnpg" && target.context !== undefined && scenario.schedule.length > 0 && !mayDisrupt(target, target.context)) {
    fail(["target", "context"], `"${target.context}" is not a kind cluster pgdrill made, so its faults are refused`, `If this cluster is meant for drills, add "${target.context}" to target.allowContexts.`);
  }
  if (firstAt !== null && steadyMs > firstAt) {
    fail(["steadyState", "window"], `${formatMs(steadyMs)} ends after the first scheduled step (at ${formatMs(firstAt)})`, "The steady state is checked before any fault: shorten the window or schedule the first step later.");
  }
}

type Fail = (path: Path, problem: string, fix: string) => never;

/** An endpoint is someone's database: writes only when the scenario says so. */
function checkEndpoint(scenario: Scenario, fail: Fail): void {
  if (scenario.target.kind !== "endpoint") return;
  const writes = scenario.probes.findIndex((probe) => probe.kind === "writes");
  if (writes >= 0 && !scenario.target.allowWrites) {
    fail(
      ["target", "allowWrites"],
      `probes[${writes}] writes to the endpoint, which it may not`,
      "Set target.allowWrites: true to let pgdrill create its table in a schema of its own (pgdrill_<run id>, dropped after the drill), or remove the writes probe to only observe.",
    );
  }
}

/** cnpg faults aim at pods: the operator's pod can be deleted but not cut off or fenced. */
function checkCnpgFault(fault: FaultSpec, path: Path, fail: Fail): void {
  if (fault.kind === "partition" && fault.isolate === undefined) {
    fail([...path, "between"], "the cnpg target cuts one pod off from everything", 'Use "isolate: <node>".');
  }
  if (fault.kind === "command") return;
  const aimed = fault.kind === "partition" ? fault.isolate : fault.node;
  if (aimed === "operator" && (fault.kind === "partition" || fault.kind === "fence")) {
    fail([...path, fault.kind === "partition" ? "isolate" : "node"], `cannot ${fault.kind === "fence" ? "fence" : "cut off"} the operator`, "Aim at an instance, \"primary\" or \"replica\"; the operator's pod can only be killed or deleted.");
  }
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

/** The known key nearest to `key` by edit distance, if it is close enough to be a typo. */
function closest(key: string, candidates: readonly string[]): string | null {
  let best: { word: string; distance: number } | null = null;
  for (const word of candidates) {
    const distance = editDistance(key.toLowerCase(), word.toLowerCase());
    if (!best || distance < best.distance) best = { word, distance };
  }
  return best && best.distance <= (key.length >= 4 ? 2 : 1) ? best.word : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
