/**
 * The report renderers, keyed by format. The record is typed over ReportFormat, so adding a
 * format (JUnit, HTML) without a renderer, or a renderer without a file name, does not compile.
 * Each renderer formats the report model (model.ts), built once per run; the contract they share
 * (ReportModel, ReportContext, Renderer) is in types.ts, which they import instead of this registry.
 */
import type { HistoryEvent } from "../history/events.ts";
import { splitHistory } from "../history/read-model.ts";
import { renderJson } from "./json.ts";
import { renderHtml } from "./html-page.ts";
import { renderJunit } from "./junit.ts";
import { renderMarkdown } from "./markdown.ts";
import { TimelineFold } from "./timeline.ts";
import type { Renderer, ReportContext, ReportFormat } from "./types.ts";

export type { OpPoint, Renderer, ReportContext, ReportFormat, ReportModel } from "./types.ts";
export { emptyReportContext, reportModel } from "./model.ts";

/** The report context of a History held in memory, with its scenario.json when there is one. */
export function reportContextOf(events: readonly HistoryEvent[], scenario?: unknown): ReportContext {
  const { context, operations } = splitHistory(events);
  const timeline = new TimelineFold(context.lastT);
  for (const operation of operations) timeline.operation(operation);
  return { history: context, points: timeline.points(), ...(scenario === undefined ? {} : { scenario }) };
}

export const RENDERERS: Record<ReportFormat, Renderer> = {
  json: { file: "result.json", render: renderJson },
  markdown: { file: "report.md", render: renderMarkdown },
  junit: { file: "junit.xml", render: renderJunit },
  html: { file: "report.html", render: renderHtml },
};

export { renderJson } from "./json.ts";
export { renderMarkdown } from "./markdown.ts";
export { formatSummary } from "./summary.ts";
