/**
 * report.html's settings: what was drilled and how, in a few compact tables (target, probes,
 * schedule, gates), so a report read alone says what its numbers are numbers of. Read from the
 * run's scenario.json as `pgdrill run` wrote it, loosely (an older run's file may lack fields or
 * hold others); a History analysed without one falls back on what run-start recorded.
 *
 * A scenario may carry secrets, an endpoint URL's password above all: every value shown goes
 * through redactSecrets, and a field named like a password shows only that it is set.
 */
import type { ProbeRecord, RunStartEvent } from "../history/events.ts";
import type { RunResult } from "../result.ts";
import { redactSecrets, SECRET_KEY } from "../secrets.ts";
import { formatMs } from "./format.ts";
import { defaultProbeName } from "../scenario/probes.ts";
import { escapeHtml as e, table } from "./html-parts.ts";

/** Most values a nested option (a cnpg spec, pooler settings) shows before saying how many more. */
const MAX_OPTIONS = 40;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** A value as written in the scenario: durations stay "50ms", a number of ms stays a number. */
function show(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (Array.isArray(value) && value.every((item) => !isObject(item) && !Array.isArray(item)))
    return redactSecrets(value.map(String).join(", "));
  if (typeof value === "object") return redactSecrets(JSON.stringify(value));
  return redactSecrets(String(value));
}

/** Nested options as "key.sub: value" pairs, secret-named fields masked, at most MAX_OPTIONS. */
export function flattenOptions(options: Json, skip: readonly string[] = []): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const walk = (value: unknown, path: string) => {
    const key = path.split(".").pop() ?? "";
    if (SECRET_KEY.test(key)) pairs.push([path, value === undefined || value === "" ? "—" : "*** (set)"]);
    else if (isObject(value) && Object.keys(value).length > 0)
      for (const [sub, inner] of Object.entries(value)) walk(inner, path ? `${path}.${sub}` : sub);
    else pairs.push([path, show(value)]);
  };
  for (const [key, value] of Object.entries(options)) if (!skip.includes(key)) walk(value, key);
  if (pairs.length <= MAX_OPTIONS) return pairs;
  return [...pairs.slice(0, MAX_OPTIONS), ["…", `and ${pairs.length - MAX_OPTIONS} more`]];
}

const optionText = (options: Json, skip: readonly string[]) =>
  flattenOptions(options, skip)
    .map(([key, value]) => `<code>${e(key)}</code> ${e(value)}`)
    .join(", ") || "—";

const PROBE_COLUMNS = ["kind", "name", "every", "timeout", "slo", "endpoint", "connection"] as const;

function probeRows(probes: unknown[]): string[][] {
  return probes.filter(isObject).map((probe) => [
    e(show(probe.kind)),
    e(show(probe.name ?? defaultProbeName(String(probe.kind), typeof probe.driver === "string" ? probe.driver : undefined))),
    e(show(probe.every)),
    e(show(probe.timeout)),
    e(show(probe.slo)),
    // A role probe asks every node; it has no endpoint of its own.
    e(probe.endpoint === undefined && probe.kind === "role" ? "every node" : show(probe.endpoint)),
    e(show(probe.connection)),
    optionText(probe, PROBE_COLUMNS),
  ]);
}

/** run-start's records of the probes, when there is no scenario.json. */
function recordedProbeRows(probes: readonly ProbeRecord[]): string[][] {
  const kinds: Record<string, string> = { select1: "select1", write: "writes", role: "role" };
  return probes.map((probe) => [
    e(kinds[probe.type] ?? probe.type),
    e(probe.name),
    e(formatMs(probe.everyMs)),
    e(formatMs(probe.timeoutMs)),
    e(probe.sloMs === undefined ? "—" : formatMs(probe.sloMs)),
    e(probe.endpoint ?? (probe.type === "role" ? "every node" : "—")),
    e(probe.connection ?? "—"),
    "—",
  ]);
}

function scheduleRows(schedule: unknown[]): string[][] {
  return schedule.filter(isObject).map((step) => {
    const what = isObject(step.fault)
      ? { type: "fault", body: step.fault }
      : isObject(step.action)
        ? { type: "action", body: step.action }
        : { type: "step", body: {} as Json };
    return [
      e(show(step.at)),
      `${e(what.type)} <code>${e(show(what.body.kind))}</code>`,
      optionText(what.body, ["kind"]),
      e(show(step.for)),
    ];
  });
}

export interface SettingsInput {
  /** scenario.json as the run wrote it; undefined when the History was analysed without one. */
  scenario: unknown;
  runStart: RunStartEvent | null;
}

export function renderSettingsHtml(result: RunResult, input: SettingsInput): string {
  const scenario = isObject(input.scenario) ? input.scenario : null;
  const target = scenario && isObject(scenario.target) ? scenario.target : null;
  const steady = scenario && isObject(scenario.steadyState) ? scenario.steadyState : null;
  const runStart = input.runStart;

  const general = table(
    "settings-target",
    ["setting", "value"],
    [
      ["target", `<code>${e(show(target?.kind ?? result.target))}</code>${target ? ` ${optionText(target, ["kind"])}` : ""}`],
      ["duration", e(scenario ? show(scenario.duration) : runStart ? formatMs(runStart.durationMs) : "—")],
      [
        "steady state",
        e(
          steady
            ? `window ${show(steady.window)}, each probe served ≥ ${show(steady.minAvailability)} of the time`
            : runStart
              ? `window ${formatMs(runStart.steadyStateMs)}`
              : "—",
        ),
      ],
    ],
  );

  const probeHead = [...PROBE_COLUMNS, "other"];
  const probes = Array.isArray(scenario?.probes)
    ? table("settings-probes", probeHead, probeRows(scenario.probes))
    : runStart?.probes
      ? table("settings-probes", probeHead, recordedProbeRows(runStart.probes))
      : `<div id="settings-probes"><p class="meta">The probes' settings were not recorded.</p></div>`;

  const steps = Array.isArray(scenario?.schedule) ? scheduleRows(scenario.schedule) : [];
  const schedule =
    steps.length > 0
      ? table("settings-schedule", ["at", "step", "options", "for"], steps)
      : `<div id="settings-schedule"><p class="meta">` +
        `${scenario ? "No steps: nothing was injected." : "The schedule is in scenario.json, which this report was made without."}` +
        `</p></div>`;

  // The scenario's gate as written; the Gates section shows what was judged (--gate overrides included).
  const written =
    scenario && isObject(scenario.gate) ? Object.entries(scenario.gate) : result.gates.map((g) => [g.metric, g.expected] as const);
  const gates =
    written.length > 0
      ? table(
          "settings-gates",
          ["metric", "threshold"],
          written.map(([metric, expected]) => [`<code>${e(metric)}</code>`, e(show(expected))]),
        )
      : `<div id="settings-gates"><p class="meta">No gates.</p></div>`;

  const source = scenario
    ? "From the run's scenario.json, as written; the schedule's times count from when probing began, the steady-state window included."
    : "No scenario.json: what the History's run-start recorded.";
  return `<div id="settings">
<p class="meta">${e(source)}</p>
${general}
<h3>Probes</h3>${probes}
<h3>Schedule</h3>${schedule}
<h3>Gates as written</h3>${gates}
</div>`;
}
