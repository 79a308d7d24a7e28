/**
 * The contract between the analysis and the report renderers, in a module of its own (vitest's
 * `types` module): what a renderer is given and what it returns. Renderers import this, never the
 * registry of renderers (index.ts), so the report modules import each other one way only.
 */
import type { HistoryContext } from "../history/context.ts";
import type { RunResult } from "../result.ts";

export type ReportFormat = "json" | "markdown" | "junit" | "html";

/** One point of the timeline charts: an operation, or the slowest of those drawn in one pixel column. */
export interface OpPoint {
  t: number;
  row: string;
  outcome: "ok" | "fail" | "info";
  latency: number;
  probe: string;
}

/**
 * What a renderer may draw besides the result: the History's context (faults and actions to mark),
 * the timeline's points, folded from the operations while the checkers ran, and the scenario.
 */
export interface ReportContext {
  history: HistoryContext;
  points: readonly OpPoint[];
  /**
   * The run's scenario.json, parsed but unchecked (an older run's may differ from today's schema),
   * for the settings it was drilled with; absent when a History is analysed without its run directory.
   */
  scenario?: unknown;
}

export interface Renderer {
  /** File name inside the run directory. */
  file: string;
  /** Charts render asynchronously, so a renderer may return a promise. */
  render: (result: RunResult, context: ReportContext) => string | Promise<string>;
}
