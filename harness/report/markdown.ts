/**
 * `report.md`: a compact Markdown report that reads well as a GitHub job summary. Drawing only:
 * it formats the report model (types.ts), as every format does.
 */
import type { ReportModel, Span } from "./types.ts";
import type { Verdict } from "../result.ts";
import { formatActual, formatIds, formatMs } from "./format.ts";

const VERDICT_MARK: Record<Verdict, string> = { pass: "✅", deviated: "❌", errored: "⚠️" };
/** Long lists are cut so a bad run still gives a readable summary; result.json has everything. */
const MAX_WINDOWS = 20;
const MAX_ID_RANGES = 50;
const MAX_ROLE_CHANGES = 30;
const MAX_MARKS = 100;
/** Shown at most; the rest are counted (history.jsonl has them all). */
const MAX_WARNINGS = 20;

export function renderMarkdown(model: ReportModel): string {
  const sections = [
    header,
    keyMetrics,
    gates,
    alerts,
    restore,
    claimedVsMeasured,
    clientsCompared,
    downtime,
    lostWrites,
    roleChanges,
    marks,
    warnings,
    checks,
  ];
  return (
    sections
      .map((section) => section(model))
      .filter((text) => text !== "")
      .join("\n\n") + "\n"
  );
}

/**
 * What the run itself warned about, from the History's log events (a heal that failed, probes that
 * ran outside the cluster, a kill switch that fired): a reader of the report must not miss them.
 */
function warnings({ warnings: logged }: ReportModel): string {
  if (logged.length === 0) return "";
  const rows = logged.slice(0, MAX_WARNINGS).map((event) => `| ${formatMs(event.t)} | ${event.level} | ${cell(event.message)} |`);
  const more = logged.length > MAX_WARNINGS ? ["", `… and ${logged.length - MAX_WARNINGS} more in history.jsonl.`] : [];
  return ["### Warnings recorded", "", "| at | level | message |", "|---|---|---|", ...rows, ...more].join("\n");
}

/** The operations guide's claim for the strategy drilled, beside what this run measured. */
function claimedVsMeasured({ claims }: ReportModel): string {
  const claim = claims.rows.find((row) => row.drilled);
  if (!claim) return "";
  const verdict = claim.against === "within" ? " (within the claim)" : claim.against === "slower" ? " (slower than claimed)" : "";
  return [
    "### Claimed vs measured",
    "",
    "| strategy | claimed failover | claimed RTO | measured failover |",
    "|---|---|---|---|",
    `| ${claim.strategy} | ${claim.failover} | ${claim.rto} | ${cell(text(claims.measured) + verdict)} |`,
  ].join("\n");
}

/** With several client paths (drivers, direct and through a pooler), what each of them went through, side by side. */
function clientsCompared({ clients }: ReportModel): string {
  if (clients.length === 0) return "";
  const rows = clients.map((c) => {
    const counts = `${c.ok} / ${c.fail} / ${c.info}`;
    const errors = c.errors.length > 0 ? c.errors.join("; ") : "—";
    return (
      `| ${cell(c.probe)} | ${cell(c.driver)} | ${cell(c.via)} | ${c.downtime} | ${c.longest} | ${c.recovered} | ${counts} | ${c.hung} | ` +
      `${c.readOnly} | ${cell(errors)} |`
    );
  });
  return [
    "### Clients compared",
    "",
    "| probe | driver | path | downtime | longest window | served again after the fault | ok / fail / info | hung past timeout | " +
      "refused read-only | errors seen |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/**
 * The heading, the one-sentence summary when the History was at hand, the heavy findings (set off:
 * a run without gates passes whatever it saw), and the run's facts.
 */
function header({ run, sentence, headline }: ReportModel): string {
  const lines = [`## ${VERDICT_MARK[run.verdict]} ${cell(run.scenario)}: ${run.verdict}`];
  if (sentence !== null) lines.push("", sentence);
  if (headline.findings.length > 0) lines.push("", `**Whatever the gates say:** ${cell(headline.findings.join("; "))}.`);
  if (run.reason) lines.push("", `**Why:** ${run.reason}`);
  const completeness = run.complete ? "" : " · **incomplete history**";
  lines.push(
    "",
    `Run \`${run.runId}\` · target \`${run.target}\` · started ${run.startedAt} · took ${formatMs(run.durationMs)}${completeness}`,
  );
  return lines.join("\n");
}

function keyMetrics({ keyMetrics: { rows, note } }: ReportModel): string {
  const lines = rows.map((row) => `| ${cell(row.label)} | ${cell(text(row.value))} |`);
  return ["### Key metrics", "", "| metric | value |", "|---|---|", ...lines, ...(note === null ? [] : ["", note])].join("\n");
}

function gates({ gates: rows }: ReportModel): string {
  if (rows.length === 0) return "### Gates\n\nNo gates: the verdict only says whether the run completed.";
  const lines = rows.map(
    (gate) =>
      `| ${gate.pass ? "✅" : "❌"} | \`${gate.metric}\` | ${cell(gate.expected)} | ${formatActual(gate.actual)}` +
      `${gate.note ? ` (${cell(gate.note)})` : ""} |`,
  );
  return ["### Gates", "", "| | metric | expected | actual |", "|---|---|---|---|", ...lines].join("\n");
}

/** Did the alerts fire: each rule against the fault, beside the earliest it could and the latest it should have. */
function alerts({ alerts: section }: ReportModel): string {
  if (section === null) return "";
  const rows = section.rows.map(
    (r) =>
      `| ${r.bad ? "❌ " : ""}\`${cell(r.alert)}\` | ${r.fired} | ${r.pendingAfter} | ${r.firedAfter} | ${r.notifiedAfter} | ` +
      `${r.resolvedAfterHeal} | ${cell(r.expected)} | ${cell(r.note)} |`,
  );
  return [
    "### Alerts",
    "",
    `From ${section.source}; times after the first fault (or hand-over), resolution after its heal.`,
    "",
    "| alert | fired? | pending after | fired after (earliest possible / latest expected) | notified after | resolved after heal | " +
      "expected | note |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    ...(section.notes.length > 0 ? ["", section.notes.join(" ")] : []),
  ].join("\n");
}

/** The restore drill: the check's sentence, then each figure (RTO and its phases, RPO, the backup, archive and checks it stood on). */
function restore({ restore: section }: ReportModel): string {
  if (section === null) return "";
  const mark = section.valid === false ? "❌ " : section.valid === "unknown" ? "❔ " : "";
  const rows = section.rows.map((row) => `| ${cell(row.label)} | ${cell(text(row.value))} |`);
  return ["### Restore", "", `${mark}${section.summary}`, "", "| | |", "|---|---|", ...rows].join("\n");
}

function downtime({ downtime: windows }: ReportModel): string {
  if (windows.length === 0) return "";
  const rows = windows
    .slice(0, MAX_WINDOWS)
    .map(
      (w) =>
        `| ${cell(w.probe)} | ${formatMs(w.startMs)} | ${formatMs(w.endMs)}${w.open ? " (still down)" : ""} | ${w.duration} ` +
        `| ${w.failures} | ${w.stalls} |`,
    );
  const more = windows.length > MAX_WINDOWS ? [`\n… and ${windows.length - MAX_WINDOWS} more windows in result.json`] : [];
  const note =
    "Each edge is known to within the probe's cadence: the duration's range is from the latest start and earliest end to the " +
    "earliest start and latest end.";
  return [
    "### Downtime windows",
    "",
    "| probe | from | to | duration | failed ops | slow ops |",
    "|---|---|---|---|---|---|",
    ...rows,
    ...more,
    "",
    note,
  ].join("\n");
}

function lostWrites({ lostWrites: lost }: ReportModel): string {
  if (lost === null) return "";
  return `### Lost acknowledged writes\n\n${lost.count} lost, ids: ${formatIds(lost.ids, MAX_ID_RANGES)}`;
}

/** Marks and manual steps: what people said and did, when (a game day's own timeline). */
function marks({ marks: moments }: ReportModel): string {
  if (moments.length === 0) return "";
  const rows = moments
    .slice(0, MAX_MARKS)
    .map((m) => `| ${formatMs(m.t)} | ${m.timeOfDay ?? ""} | ${m.kind} | ${cell(m.text)} | ${m.by} |`);
  const more = moments.length > MAX_MARKS ? [`\n… and ${moments.length - MAX_MARKS} more in history.jsonl`] : [];
  return ["### Marks and manual steps", "", "| at | UTC | what | note | by |", "|---|---|---|---|---|", ...rows, ...more].join("\n");
}

function roleChanges({ roleChanges: changes }: ReportModel): string {
  if (changes.length === 0) return "";
  const rows = changes
    .slice(0, MAX_ROLE_CHANGES)
    .map(
      (change) => `| ${formatMs(change.t)} | ${cell(change.node)} | ${change.label} | ${change.timeline ?? ""} | ${change.server ?? ""} |`,
    );
  const more = changes.length > MAX_ROLE_CHANGES ? [`\n… and ${changes.length - MAX_ROLE_CHANGES} more in result.json`] : [];
  return ["### Role changes", "", "| at | node | role | timeline | server |", "|---|---|---|---|---|", ...rows, ...more].join("\n");
}

function checks(model: ReportModel): string {
  const mark = (valid: true | false | "unknown") => (valid === true ? "✅ valid" : valid === false ? "❌ invalid" : "❔ unknown");
  const rows = model.checks.map((check) => `| ${check.name} | ${mark(check.valid)} | ${cell(check.reason ?? "")} |`);
  return ["### Checks", "", "| check | result | note |", "|---|---|---|", ...rows].join("\n");
}

/** Report text in Markdown: a part set off is bold (Markdown has no colour). */
function text(value: string | readonly Span[]): string {
  if (typeof value === "string") return value;
  return value.map((span) => (typeof span === "string" ? span : span.strong ? `**${span.text}**` : span.text)).join("");
}

/** Table cells: a pipe or newline in free text (error messages) would break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
