/**
 * `result.json`: the RunResult, pretty-printed with a fixed key order, so two analyses of the
 * same history are byte-identical and diffs between runs are readable.
 */
import type { RunResult } from "../result.ts";
import type { ReportModel } from "./types.ts";

const RESULT_ORDER: ReadonlyArray<keyof RunResult> = [
  "scenario",
  "runId",
  "target",
  "startedAt",
  "durationMs",
  "verdict",
  "reason",
  "complete",
  "checks",
  "metrics",
  "gates",
];

/** The model's result as it is: result.json is for machines, which need every number. */
export function renderJson({ result }: ReportModel): string {
  const ordered: Record<string, unknown> = {};
  for (const key of RESULT_ORDER) ordered[key] = sortByProbe(result[key]);
  // Anything added to RunResult later still appears, after the known keys.
  for (const [key, value] of Object.entries(result)) if (!(key in ordered)) ordered[key] = sortByProbe(value);
  return JSON.stringify(ordered, null, 2) + "\n";
}

/** Sorts the keys of `byProbe` maps by probe name; other objects keep the order the checkers wrote. */
function sortByProbe(value: unknown, sortHere = false): unknown {
  if (Array.isArray(value)) return value.map((item) => sortByProbe(item));
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (sortHere) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, item]) => [key, sortByProbe(item, key === "byProbe")]));
}
