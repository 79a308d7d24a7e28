/**
 * report.html's sections for what report.md lists and the page used to leave out: the run's own
 * warnings, each client probe side by side, the alerts, the restore, and the marks and manual steps. Each is a
 * whole section and its line, or nothing when the model's list is empty.
 */
import { relativeCell } from "./events-html.ts";
import { escapeHtml as e, htmlText, table } from "./html-parts.ts";
import type { ReportModel } from "./types.ts";
import type { WallClock } from "./wall-clock.ts";

/** Shown at most; the rest are counted (history.jsonl has them all). */
const MAX_ROWS = 50;

const more = (count: number) => (count > MAX_ROWS ? `<p class="meta">… and ${count - MAX_ROWS} more in history.jsonl.</p>` : "");

/** What the run itself warned about (a heal that failed, a kill switch that fired): first, so nobody misses it. */
export function renderWarningsHtml({ warnings }: ReportModel, clock: WallClock): string {
  if (warnings.length === 0) return "";
  const rows = warnings.slice(0, MAX_ROWS).map((event) => [relativeCell(clock, event.t), e(event.level), e(event.message)]);
  return `<section><h2>Warnings recorded</h2>${table("warnings", ["at", "level", "message"], rows)}${more(warnings.length)}</section>\n`;
}

/** With several client paths (drivers, direct and through a pooler), what each of them went through, side by side. */
export function renderClientsHtml({ clients }: ReportModel): string {
  if (clients.length === 0) return "";
  const head = [
    "probe",
    "driver",
    "path",
    "downtime",
    "longest window",
    "served again after the fault",
    "ok / fail / info",
    "hung past timeout",
    "refused read-only",
    "errors seen",
  ];
  const rows = clients.map((c) => [
    e(c.probe),
    e(c.driver),
    e(c.via),
    e(c.downtime),
    e(c.longest),
    e(c.recovered),
    `${c.ok} / ${c.fail} / ${c.info}`,
    String(c.hung),
    String(c.readOnly),
    c.errors.length > 0 ? c.errors.map(e).join("<br>") : "—",
  ]);
  return `<section><h2>Clients compared</h2>${table("clients", head, rows)}</section>\n`;
}

/** Marks and manual steps: what people said and did, when (a game day's own timeline). */
export function renderMarksHtml({ marks }: ReportModel, clock: WallClock): string {
  if (marks.length === 0) return "";
  const rows = marks.slice(0, MAX_ROWS).map((m) => [relativeCell(clock, m.t), e(m.timeOfDay ?? "—"), e(m.kind), e(m.text), e(m.by)]);
  const marksTable = table("marks", ["at", "UTC", "what", "note", "by"], rows);
  return `<section><h2>Marks and manual steps</h2>${marksTable}${more(marks.length)}</section>\n`;
}

/** Did the alerts fire: each rule against the fault, beside the earliest it could and the latest it should have. */
export function renderAlertsHtml({ alerts }: ReportModel): string {
  if (alerts === null) return "";
  const head = [
    "alert",
    "fired?",
    "pending after",
    "fired after (earliest possible / latest expected)",
    "notified after",
    "resolved after heal",
    "expected",
    "note",
  ];
  const rows = alerts.rows.map((r) => [
    `<code>${e(r.alert)}</code>`,
    e(r.fired),
    e(r.pendingAfter),
    e(r.firedAfter),
    e(r.notifiedAfter),
    e(r.resolvedAfterHeal),
    r.bad ? `<span class="bad">${e(r.expected)}</span>` : e(r.expected),
    e(r.note),
  ]);
  const intro = `<p class="meta">From ${e(alerts.source)}; times after the first fault (or hand-over), resolution after its heal.</p>`;
  const notes = alerts.notes.length > 0 ? `<p class="warning">${alerts.notes.map(e).join(" ")}</p>` : "";
  return `<section><h2>Alerts</h2>${intro}${table("alerts", head, rows)}${notes}</section>\n`;
}

/** The restore drill: the check's sentence, then each figure (RTO and its phases, RPO, the backup, archive and checks it stood on). */
export function renderRestoreHtml({ restore }: ReportModel): string {
  if (restore === null) return "";
  const summary = restore.valid === false ? `<p class="bad">${e(restore.summary)}</p>` : `<p>${e(restore.summary)}</p>`;
  const rows = restore.rows.map((row) => [e(row.label), htmlText(row.value)]);
  return `<section><h2>Restore</h2>${summary}${table("restore", ["", ""], rows)}</section>\n`;
}
