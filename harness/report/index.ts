/**
 * The report renderers, keyed by format. The record is typed over ReportFormat, so adding a
 * format (JUnit, HTML) without a renderer, or a renderer without a file name, does not compile.
 */
import { ContextBuilder, type HistoryContext } from "../history/context.ts";
import type { HistoryEvent } from "../history/events.ts";
import { splitHistory } from "../history/read-model.ts";
import type { RunResult } from "../result.ts";
import { renderJson } from "./json.ts";
import { renderHtml } from "./html-page.ts";
import { renderJunit } from "./junit.ts";
import { renderMarkdown } from "./markdown.ts";
import { TimelineFold, type OpPoint } from "./timeline.ts";

export type ReportFormat = "json" | "markdown" | "junit" | "html";

/**
 * What a renderer may draw besides the result: the History's context (faults and actions to mark)
 * and the timeline's points, folded from the operations while the checkers ran.
 */
export interface ReportContext {
  history: HistoryContext;
  points: readonly OpPoint[];
}

/** The report context of a History held in memory. */
export function reportContextOf(events: readonly HistoryEvent[]): ReportContext {
  const { context, operations } = splitHistory(events);
  const timeline = new TimelineFold(context.lastT);
  for (const operation of operations) timeline.operation(operation);
  return { history: context, points: timeline.points() };
}

/** Nothing to draw: an interrupted analysis. */
export function emptyReportContext(): ReportContext {
  return { history: new ContextBuilder().finish(), points: [] };
}

export interface Renderer {
  /** File name inside the run directory. */
  file: string;
  /** Charts render asynchronously, so a renderer may return a promise. */
  render: (result: RunResult, context: ReportContext) => string | Promise<string>;
}

export const RENDERERS: Record<ReportFormat, Renderer> = {
  json: { file: "result.json", render: renderJson },
  markdown: { file: "report.md", render: renderMarkdown },
  junit: { file: "junit.xml", render: (result) => renderJunit(result) },
  html: { file: "report.html", render: renderHtml },
};

export { renderJson } from "./json.ts";
export { renderMarkdown } from "./markdown.ts";
export { formatSummary } from "./summary.ts";
