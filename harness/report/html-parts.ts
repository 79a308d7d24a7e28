/**
 * The pieces every report.html section is built from: escaping, a table, a pass mark, a colour
 * swatch. In a module of their own so the sections (anatomy, settings, events) and the page that
 * assembles them import them one way, with no cycle through html-page.ts.
 */
import type { Span } from "./types.ts";

/** Everything from data goes through this: scenario names and error texts are not trusted. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function table(id: string, head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  // Cells are escaped by the callers that build them (some carry markup such as a pass mark).
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("\n");
  return `<div id="${id}"><table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** Report text in HTML, escaped: a part set off is <strong>, a bad one in the warning colour. */
export function htmlText(value: string | readonly Span[]): string {
  if (typeof value === "string") return escapeHtml(value);
  return value
    .map((span) => {
      if (typeof span === "string") return escapeHtml(span);
      const bad = span.bad ? ` class="bad"` : "";
      if (span.strong) return `<strong${bad}>${escapeHtml(span.text)}</strong>`;
      return span.bad ? `<span${bad}>${escapeHtml(span.text)}</span>` : escapeHtml(span.text);
    })
    .join("");
}

export const mark = (pass: boolean) => (pass ? `<span class="ok">✔ pass</span>` : `<span class="bad">✘ fail</span>`);

/**
 * A square of colour before a label. A sized inline-block with its colour inline, so it shows
 * with no stylesheet's help (an empty inline span has no box to paint); `opacity` for shadings.
 */
export function swatch(color: string, opacity = 1): string {
  const alpha = opacity === 1 ? "" : ` opacity: ${opacity};`;
  return (
    `<span class="swatch" style="display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin-right: 4px; ` +
    `border-radius: 2px; background: ${escapeHtml(color)};${alpha}"></span>`
  );
}
