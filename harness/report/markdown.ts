/**
 * `report.md`: a compact Markdown report that reads well as a GitHub job summary. Drawing only:
 * every number comes from the RunResult.
 */
import { runSentence } from "./sentence.ts";
import type { ReportContext } from "./types.ts";
import { operatorMoments } from "./timeline.ts";
import { wallClockOf } from "./wall-clock.ts";
import type { GateResult, RunResult, Verdict } from "../result.ts";
import type { LogEvent } from "../history/events.ts";
import { anatomyLine, BOUNDS_NOTE, failoverDetail, outageHeadline, recoveryDetail, withBounds } from "./failover-text.ts";
import { againstClaim, claimFor } from "./strategy-claims.ts";
import { formatActual, formatCount, formatIds, formatMs, formatMsWithin, formatRatio, formatRatioWithin } from "./format.ts";

const VERDICT_MARK: Record<Verdict, string> = { pass: "✅", deviated: "❌", errored: "⚠️" };
/** Long lists are cut so a bad run still gives a readable summary; result.json has everything. */
const MAX_WINDOWS = 20;
const MAX_ID_RANGES = 50;
const MAX_ROLE_CHANGES = 30;
const MAX_MARKS = 100;

export function renderMarkdown(result: RunResult, context?: ReportContext): string {
  const sections = [header(result, context), keyMetrics(result), gates(result.gates), claimedVsMeasured(result), clientsCompared(result), downtime(result), lostWrites(result), roleChanges(result), marks(context), warnings(context), checks(result)];
  return sections.filter((section) => section !== "").join("\n\n") + "\n";
}

/** Shown at most; the rest are counted (history.jsonl has them all). */
const MAX_WARNINGS = 20;

/**
 * What the run itself warned about, from the History's log events (a heal that failed, probes that
 * ran outside the cluster, a kill switch that fired): a reader of the report must not miss them.
 */
function warnings(context: ReportContext | undefined): string {
  const logged = (context?.history.events ?? []).filter((event): event is LogEvent => event.kind === "log" && event.level !== "info");
  if (logged.length === 0) return "";
  const rows = logged.slice(0, MAX_WARNINGS).map((event) => `| ${formatMs(event.t)} | ${event.level} | ${cell(event.message)} |`);
  const more = logged.length > MAX_WARNINGS ? ["", `… and ${logged.length - MAX_WARNINGS} more in history.jsonl.`] : [];
  return ["### Warnings recorded", "", "| at | level | message |", "|---|---|---|", ...rows, ...more].join("\n");
}

/** The operations guide's claim for the strategy drilled, beside what this run measured. */
function claimedVsMeasured(result: RunResult): string {
  const claim = claimFor(result.target);
  if (!claim) return "";
  const { failover } = result.metrics;
  // Only a failover is compared with a failover claim: a pause or a restart that came back on the same primary is not one.
  const against = againstClaim(claim, failover);
  const verdict = against === "within" ? " (within the claim)" : against === "slower" ? " (slower than claimed)" : "";
  const cellText = failover.happened === true ? `**${withBounds(failover.latencyMs, failover.latencyLowerMs, failover.latencyUpperMs)}**${verdict}` : `— (${outageHeadline(result.metrics)})`;
  return [
    "### Claimed vs measured",
    "",
    "| strategy | claimed failover | claimed RTO | measured failover |",
    "|---|---|---|---|",
    `| ${claim.strategy} | ${claim.failover} | ${claim.rto} | ${cell(cellText)} |`,
  ].join("\n");
}

/** With several client probes (direct and through a pooler, say), what each of them went through. */
function clientsCompared(result: RunResult): string {
  const { availability, downtime } = result.metrics;
  const names = Object.keys(availability.byProbe);
  if (names.length < 2) return "";
  const rows = names.map((name) => {
    const seen = availability.byProbe[name]!;
    const down = downtime.byProbe[name];
    const downText = down ? formatMsWithin(down.totalMs, down.totalLowerMs, down.totalUpperMs) : "n/a";
    return `| ${cell(name)} | ${formatRatio(seen.ratio)} | ${formatRatio(seen.operationRatio)} | ${seen.ok} / ${seen.fail} / ${seen.info} | ${downText} | ${formatMs(down?.longestMs ?? null)} |`;
  });
  return [
    "### Clients compared",
    "",
    "| probe | availability (time) | operations ok | ok / fail / info | downtime | longest window |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** The heading, the one-sentence summary when the History's context is at hand, and the run's facts. */
function header(result: RunResult, context: ReportContext | undefined): string {
  const lines = [`## ${VERDICT_MARK[result.verdict]} ${cell(result.scenario)}: ${result.verdict}`];
  if (context) lines.push("", runSentence(result, context.history));
  if (result.reason) lines.push("", `**Why:** ${result.reason}`);
  const completeness = result.complete ? "" : " · **incomplete history**";
  lines.push("", `Run \`${result.runId}\` · target \`${result.target}\` · started ${result.startedAt} · took ${formatMs(result.durationMs)}${completeness}`);
  return lines.join("\n");
}

/** A failover's phases, one row: nothing without a failover. */
function anatomyRow(result: RunResult): Array<[string, string]> {
  const line = anatomyLine(result.metrics.anatomy);
  return line ? [["failover anatomy", line]] : [];
}

function keyMetrics(result: RunResult): string {
  const { availability, downtime, writes, latency, splitBrain } = result.metrics;
  const rows: Array<[string, string]> = [
    [`availability${availability.probe ? ` (${availability.probe})` : ""}`, availabilityText(result)],
    ["availability from first fault", `${formatRatio(availability.faultWindowRatio)} of the time · ${formatRatio(availability.faultWindowOperationRatio)} of operations`],
    ["downtime", `${formatMsWithin(downtime.totalMs, downtime.totalLowerMs, downtime.totalUpperMs)} total, longest ${formatMs(downtime.longestMs)}`],
    ["failover", failoverDetail(result.metrics)],
    // A failover's row already is its recovery; without one, the recovery is the outage's figure.
    ...(result.metrics.failover.happened === true ? [] : [["recovery", recoveryDetail(result.metrics)] as [string, string]]),
    ...anatomyRow(result),
    ["writes stable after", formatMs(result.metrics.recovery.stableAfterMs)],
    [
      "writes",
      `${writes.attempted} attempted, ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${writes.unknown} unknown`,
    ],
    [
      "lost acknowledged writes",
      writes.lostAcknowledged === null
        ? "n/a (no final read)"
        : `**${writes.lostAcknowledged}** (final read on ${writes.finalReadNode ?? "?"}; unknown committed ${formatCount(writes.unknownCommitted)}, failed but present ${formatCount(writes.failedButPresent)})`,
    ],
    [
      "latency (ok operations)",
      latency.count === 0
        ? "n/a"
        : `p50 ${formatMs(latency.p50Ms)} · p90 ${formatMs(latency.p90Ms)} · p99 ${formatMs(latency.p99Ms)} · max ${formatMs(latency.maxMs)} (${latency.count} ops)`,
    ],
    ["split brain", splitBrain.detected ? `**detected**, ${formatMs(splitBrain.overlapMs)} of overlap` : "none seen"],
    ...operatorRows(result),
  ];
  const { recovery } = result.metrics;
  const bounded = recovery.latencyLowerMs !== null && recovery.latencyUpperMs !== null && recovery.latencyUpperMs > recovery.latencyLowerMs;
  return ["### Key metrics", "", "| metric | value |", "|---|---|", ...rows.map(([name, value]) => `| ${name} | ${cell(value)} |`), ...(bounded ? ["", BOUNDS_NOTE] : [])].join("\n");
}

/** The share of time served, its range, and the operation count beside it. */
function availabilityText(result: RunResult): string {
  const a = result.metrics.availability;
  const time = `${formatRatioWithin(a.ratio, a.ratioLower, a.ratioUpper)} of ${formatMs(a.observedMs)} observed`;
  const slo = a.sloMs === null ? "" : ` · slo ${formatMs(a.sloMs)}, ${a.stalled} slower`;
  return `${time} · operations ${formatRatio(a.operationRatio)} (ok ${a.ok}, fail ${a.fail}, info ${a.info})${slo}`;
}

/** The operator's view (cnpg target only): what Kubernetes said, beside what clients saw. */
function operatorRows(result: RunResult): Array<[string, string]> {
  const operator = result.metrics.operator;
  if (!operator.observed) return [];
  return [
    ["operator promoted", operator.promotedAfterMs === null ? "no promotion seen" : `${formatMs(operator.promotedAfterMs)} after the first fault → ${operator.newPrimary ?? "?"}`],
    ["targetPrimary pending", formatMs(operator.pendingMs)],
    ["no pod labelled primary", formatMs(operator.noPrimaryLabelMs)],
    ["two pods labelled primary (label overlap, not a split brain)", operator.multiplePrimaryLabelsMs > 0 ? formatMs(operator.multiplePrimaryLabelsMs) : "never"],
    ...(operator.leaseAcquiredAfterMs === null
      ? []
      : [["primary Lease taken", `${formatMs(operator.leaseAcquiredAfterMs)} after the first fault, ${operator.leaseReleased ? "released by the old holder first" : "while still held: the candidate waited leaseDurationSeconds out"}`] as [string, string]]),
    ...(operator.rwObserved
      ? ([
          ["rw Service routed to the new primary", operator.rwMovedAfterMs === null ? "not seen" : `${formatMs(operator.rwMovedAfterMs)} after the first fault (EndpointSlices)`],
          ["rw Service with no ready endpoint", formatMs(operator.noRwEndpointMs)],
          ["rw Service with two ready endpoints", operator.multipleRwEndpointsMs ? `**${formatMs(operator.multipleRwEndpointsMs)}**` : "never"],
        ] as Array<[string, string]>)
      : []),
    ...(operator.resyncs > 0 ? [["watch resyncs", `${operator.resyncs} observations made by listing again after a watch broke`] as [string, string]] : []),
  ];
}

function gates(results: readonly GateResult[]): string {
  if (results.length === 0) return "### Gates\n\nNo gates: the verdict only says whether the run completed.";
  const rows = results.map(
    (gate) => `| ${gate.pass ? "✅" : "❌"} | \`${gate.metric}\` | ${cell(gate.expected)} | ${formatActual(gate.actual)}${gate.note ? ` (${cell(gate.note)})` : ""} |`,
  );
  return ["### Gates", "", "| | metric | expected | actual |", "|---|---|---|---|", ...rows].join("\n");
}

function downtime(result: RunResult): string {
  const { windows } = result.metrics.downtime;
  if (windows.length === 0) return "";
  const rows = windows
    .slice(0, MAX_WINDOWS)
    .map(
      (window) =>
        `| ${cell(window.probe)} | ${formatMs(window.startMs)} | ${formatMs(window.endMs)}${window.open ? " (still down)" : ""} | ${formatMsWithin(window.durationMs, window.durationLowerMs, window.durationUpperMs)} | ${window.failures} | ${window.stalls} |`,
    );
  const more = windows.length > MAX_WINDOWS ? [`\n… and ${windows.length - MAX_WINDOWS} more windows in result.json`] : [];
  const note = "Each edge is known to within the probe's cadence: the duration's range is from the latest start and earliest end to the earliest start and latest end.";
  return ["### Downtime windows", "", "| probe | from | to | duration | failed ops | slow ops |", "|---|---|---|---|---|---|", ...rows, ...more, "", note].join("\n");
}

function lostWrites(result: RunResult): string {
  const { writes } = result.metrics;
  if (!writes.lostAcknowledged) return "";
  return `### Lost acknowledged writes\n\n${writes.lostAcknowledged} lost, ids: ${formatIds(writes.lostIds, MAX_ID_RANGES)}`;
}

/** Marks and manual steps: what people said and did, when (a game day's own timeline). */
function marks(context: ReportContext | undefined): string {
  if (!context) return "";
  const moments = operatorMoments(context.history.events);
  if (moments.length === 0) return "";
  const clock = wallClockOf(context.history.runStart);
  const rows = moments.slice(0, MAX_MARKS).map((moment) => `| ${formatMs(moment.t)} | ${clock.timeOfDay(moment.t) ?? ""} | ${moment.kind} | ${cell(moment.text)} | ${moment.by} |`);
  const more = moments.length > MAX_MARKS ? [`\n… and ${moments.length - MAX_MARKS} more in history.jsonl`] : [];
  return ["### Marks and manual steps", "", "| at | UTC | what | note | by |", "|---|---|---|---|---|", ...rows, ...more].join("\n");
}

function roleChanges(result: RunResult): string {
  const { changes } = result.metrics.roles;
  if (changes.length === 0) return "";
  const rows = changes
    .slice(0, MAX_ROLE_CHANGES)
    .map((change) => `| ${formatMs(change.t)} | ${cell(change.node)} | ${change.role} | ${change.timeline ?? ""} | ${change.server ?? ""} |`);
  const more = changes.length > MAX_ROLE_CHANGES ? [`\n… and ${changes.length - MAX_ROLE_CHANGES} more in result.json`] : [];
  return ["### Role changes", "", "| at | node | role | timeline | server |", "|---|---|---|---|---|", ...rows, ...more].join("\n");
}

function checks(result: RunResult): string {
  const mark = (valid: true | false | "unknown") => (valid === true ? "✅ valid" : valid === false ? "❌ invalid" : "❔ unknown");
  const rows = Object.entries(result.checks).map(([name, check]) => `| ${name} | ${mark(check.valid)} | ${cell(check.reason ?? "")} |`);
  return ["### Checks", "", "| check | result | note |", "|---|---|---|", ...rows].join("\n");
}

/** Table cells: a pipe or newline in free text (error messages) would break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
