/**
 * report.html: one self-contained page (inline CSS, inline SVG charts, no scripts, no network) that
 * opens from disk: verdict, claimed vs measured, metrics, gates, the timeline, the failover's
 * anatomy, what the drill did when (in UTC too), the settings, and the details.
 */
import { formatActual, formatIds, formatMs } from "./format.ts";
import { ALERT_COLORS } from "./alerts-timeline.ts";
import { RESTORE_COLORS } from "./restore-timeline.ts";
import { renderAnatomyHtml } from "./anatomy-html.ts";
import { relativeCell, renderEventsHtml } from "./events-html.ts";
import { escapeHtml, htmlText, mark, swatch, table } from "./html-parts.ts";
import { renderAlertsHtml, renderClientsHtml, renderMarksHtml, renderRestoreHtml, renderWarningsHtml } from "./lists-html.ts";
import { renderSettingsHtml } from "./settings-html.ts";
import { renderTimelineSvg, SHADE_COLORS } from "./timeline.ts";
import type { ReportModel } from "./types.ts";
import { wallClockOf } from "./wall-clock.ts";

export const VERDICT_COLORS = { pass: "#2ca02c", deviated: "#d62728", errored: "#b8860b" } as const;

/** The page style, shared with the trials page. */
export const PAGE_STYLE =
  `  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 24px auto; max-width: ` +
  `980px; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
  .verdict { display: inline-block; color: #fff; border-radius: 4px; padding: 2px 10px; font-weight: 600; text-transform: uppercase; }
  .meta { color: #666; font-size: 13px; } .reason { margin: 8px 0; } .summary { font-size: 15px; margin: 10px 0; }
  .warning { background: #fff4ce; border: 1px solid #e0c200; padding: 8px 12px; border-radius: 4px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { text-align: left; padding: 4px 8px; ` +
  `border-bottom: 1px solid #eee; vertical-align: top; }
  th { background: #fafafa; font-weight: 600; } code { font-size: 12px; background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
  .ok { color: #2ca02c; font-weight: 600; } .bad { color: #d62728; font-weight: 600; }
  #timeline svg { max-width: 100%; height: auto; } h3 { font-size: 14px; margin: 16px 0 6px; }
  .timeline-key { margin: 4px 0 0; } .timeline-key .item { white-space: nowrap; margin-right: 14px; }
  time, .t { white-space: nowrap; } .anatomy-client { margin: 10px 0; } .anatomy-head { margin-bottom: 2px; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }`;

/**
 * The start of every self-contained page pgdrill writes (report, trials, trend): up to the open <body>. `style` is the page's own CSS after
 * the shared one.
 */
export function pageHead(title: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="pgdrill">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
${PAGE_STYLE}
${style}
</style>
</head>
<body>`;
}

// The pieces are shared with the sections and the trials page, which import them from here too.
export { escapeHtml, mark, table } from "./html-parts.ts";

const INCOMPLETE =
  `<p class="warning">This history is incomplete: the harness stopped before the run ended. ` + `The numbers cover what was recorded.</p>`;

export async function renderHtml(model: ReportModel): Promise<string> {
  const { run, context, claims } = model;
  const e = escapeHtml;
  const timeline = await renderTimelineSvg(model.result, context);
  // run-start's wall clock is t = 0 (run.startedAt holds it, for a report made without the History too).
  const clock = wallClockOf({ wallClock: run.startedAt });

  const { rows, note } = model.keyMetrics;
  const metricRows = rows.map((row) => [e(row.label), htmlText(row.value)]);
  const metrics = table("metrics", ["metric", "value"], metricRows) + (note === null ? "" : `<p class="meta">${e(note)}</p>`);
  const gates =
    model.gates.length > 0
      ? table(
          "gates",
          ["gate", "expected", "actual", "result"],
          model.gates.map((g) => {
            // A duration reads as one here; report.md shows the number the verdict's reason quotes.
            const actual = e(g.duration && g.actual !== null ? formatMs(g.actual) : formatActual(g.actual));
            const note = g.note ? ` <span class="meta">(${e(g.note)})</span>` : "";
            return [`<code>${e(g.metric)}</code>`, e(g.expected), actual + note, mark(g.pass)];
          }),
        )
      : `<div id="gates"><p>No gates: this run is reported, not judged.</p><table><tbody></tbody></table></div>`;
  const claimRows = claims.rows.map((c) => {
    const measured = c.drilled ? htmlText(claims.measured) + (c.against === null ? "" : ` (${c.against})`) : "—";
    return [c.drilled ? `<strong>${e(c.strategy)}</strong> (drilled)` : e(c.strategy), e(c.failover), e(c.rto), measured];
  });
  const claimsTable = table("claims", ["strategy", "claimed failover", "claimed RTO", "measured here"], claimRows);
  const windowRows = model.downtime.slice(0, 50).map((w) => {
    const to = w.open ? "still down" : relativeCell(clock, w.endMs);
    return [e(w.probe), relativeCell(clock, w.startMs), to, w.duration, String(w.failures), String(w.stalls)];
  });
  const windows = table("downtime", ["probe", "from", "to", "duration", "failed operations", "slow operations"], windowRows);
  const changes = model.roleChanges
    .slice(0, 50)
    .map((c) => [relativeCell(clock, c.t), e(c.node), e(c.label), String(c.timeline ?? ""), e(c.server ?? "")]);
  const roleRows = table("roles", ["at", "node", "role", "timeline", "server"], changes);
  const checkRows = model.checks.map((check) => [e(check.name), e(String(check.valid)), e(check.reason ?? "")]);
  const checks = table("checks", ["checker", "valid", "note"], checkRows);
  const missing = model.lostWrites;
  const lost = missing
    ? `<h2>Lost acknowledged writes</h2><p class="bad">Missing on <code>${e(missing.node ?? "?")}</code>: ` +
      `${e(formatIds(missing.ids, 200))}</p>`
    : "";

  return (
    `${pageHead(`pgdrill: ${e(run.scenario)} — ${e(run.verdict)}`, `  .verdict { background: ${VERDICT_COLORS[run.verdict]}; }`)}
<header>
  <h1>${e(run.scenario)} <span class="verdict">${e(run.verdict)}</span></h1>
  <div class="meta">run <code>${e(run.runId)}</code> · target <code>${e(run.target)}</code> · started <time>` +
    `${e(clock.at(0) ?? run.startedAt)}</time> · ended <time>${e(clock.at(run.durationMs) ?? "unknown")}</time> · ` +
    `${formatMs(run.durationMs)} recorded</div>
  <p class="summary">${e(model.sentence ?? "")}</p>
  ${run.reason ? `<p class="reason">${e(run.reason)}</p>` : ""}
  ${run.complete ? "" : INCOMPLETE}
</header>
${renderWarningsHtml(model, clock)}<div class="grid">
  <section><h2>Metrics</h2>${metrics}</section>
  <section><h2>Gates</h2>${gates}<h2>Claimed vs measured</h2>${claimsTable}<p class="meta">Claims are the operations ` +
    `guide's figures per HA strategy.</p></section>
</div>
${renderClientsHtml(model)}${renderAlertsHtml(model)}${renderRestoreHtml(model)}<section><h2>Timeline</h2>` +
    `<div id="timeline">${timeline}</div>` +
    `${timelineKey(model)}</section>
<section><h2>Anatomy of the failover</h2>${renderAnatomyHtml(model)}</section>
<section><h2>Faults, actions and the steady state</h2>${renderEventsHtml(model)}<p class="meta">Times since the run ` +
    `started; UTC from run-start's wall clock (t = 0), for lining the drill up with dashboards. Hover a time for its ` +
    `date.</p></section>
${renderMarksHtml(model, clock)}${lost}
<div class="grid">
  <section><h2>Downtime windows</h2>${windows}</section>
  <section><h2>Role changes</h2>${roleRows}</section>
</div>
<section><h2>Settings</h2>${renderSettingsHtml(model.result, { scenario: context.scenario, runStart: context.history.runStart })}</section>
<section><h2>Checks</h2>${checks}</section>
<footer class="meta"><p>Generated by pgdrill from history.jsonl; <code>pgdrill report &lt;run-dir&gt;</code> regenerates it.</p></footer>
</body>
</html>
`
  );
}

/**
 * What the timeline's shadings and lines mean, with swatches: the chart can give a legend only to
 * what has a colour scale (outcomes, roles), not to the faults drawn in their own colours.
 */
function timelineKey({ drill, alerts, restore }: ReportModel): string {
  const faults = new Map<string, string>();
  for (const step of drill.steps) if (step.kind === "fault" && step.ok) faults.set(step.label, step.color);
  const item = (html: string) => `<span class="item">${html}</span>`;
  const items = [
    item(`${swatch(SHADE_COLORS.steadyState, 0.35)}steady-state window`),
    item(`${swatch(SHADE_COLORS.downtime, 0.35)}downtime`),
    ...[...faults].map(([label, color]) => item(`${swatch(color)}${escapeHtml(label)}`)),
    item(`${swatch(SHADE_COLORS.action)}action`),
    // Dotted rules where Prometheus said an alert changed state.
    ...(alerts === null
      ? []
      : (["pending", "firing", "resolved"] as const).map((state) => item(`${swatch(ALERT_COLORS[state])}alert ${state}`))),
    // Dashed rules where the disaster struck and each restore phase happened.
    ...(restore === null
      ? []
      : (Object.keys(RESTORE_COLORS) as Array<keyof typeof RESTORE_COLORS>).map((what) =>
          item(`${swatch(RESTORE_COLORS[what])}${what === "disaster" ? "disaster" : `restore ${what}`}`),
        )),
  ];
  return (
    `<p class="timeline-key meta">${items.join(" ")}<br>A fault is a solid line where it was injected, shaded while it held, ` +
    `and a dashed line where it healed; one with no heal recorded stays shaded to the end; one with nothing to heal (kill, ` +
    `stop) is its line alone.</p>`
  );
}
