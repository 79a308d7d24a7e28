/**
 * `report.md`: a compact Markdown report that reads well as a GitHub job summary. Drawing only:
 * every number comes from the RunResult.
 */
import type { GateResult, RunResult, Verdict } from "../result.ts";
import { claimFor } from "./strategy-claims.ts";
import { formatActual, formatCount, formatIds, formatMs, formatRatio } from "./format.ts";

const VERDICT_MARK: Record<Verdict, string> = { pass: "✅", deviated: "❌", errored: "⚠️" };
/** Long lists are cut so a bad run still gives a readable summary; result.json has everything. */
const MAX_WINDOWS = 20;
const MAX_ID_RANGES = 50;
const MAX_ROLE_CHANGES = 30;

export function renderMarkdown(result: RunResult): string {
  const sections = [header(result), keyMetrics(result), gates(result.gates), claimedVsMeasured(result), clientsCompared(result), downtime(result), lostWrites(result), roleChanges(result), checks(result)];
  return sections.filter((section) => section !== "").join("\n\n") + "\n";
}

/** The operations guide's claim for the strategy drilled, beside what this run measured. */
function claimedVsMeasured(result: RunResult): string {
  const claim = claimFor(result.target);
  if (!claim) return "";
  const measured = result.metrics.failover.latencyMs;
  const verdict = claim.failoverBoundMs === null || measured === null ? "" : measured <= claim.failoverBoundMs ? " (within the claim)" : " (slower than claimed)";
  return [
    "### Claimed vs measured",
    "",
    "| strategy | claimed failover | claimed RTO | measured failover |",
    "|---|---|---|---|",
    `| ${claim.strategy} | ${claim.failover} | ${claim.rto} | **${formatMs(measured)}**${verdict} |`,
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
    return `| ${cell(name)} | ${formatRatio(seen.ratio)} | ${seen.ok} / ${seen.fail} / ${seen.info} | ${formatMs(down?.totalMs ?? null)} | ${formatMs(down?.longestMs ?? null)} |`;
  });
  return ["### Clients compared", "", "| probe | availability | ok / fail / info | downtime | longest window |", "|---|---|---|---|---|", ...rows].join("\n");
}

function header(result: RunResult): string {
  const lines = [`## ${VERDICT_MARK[result.verdict]} ${cell(result.scenario)}: ${result.verdict}`];
  if (result.reason) lines.push("", `**Why:** ${result.reason}`);
  const completeness = result.complete ? "" : " · **incomplete history**";
  lines.push("", `Run \`${result.runId}\` · target \`${result.target}\` · started ${result.startedAt} · took ${formatMs(result.durationMs)}${completeness}`);
  return lines.join("\n");
}

function keyMetrics(result: RunResult): string {
  const { availability, downtime, failover, writes, latency, splitBrain } = result.metrics;
  const rows: Array<[string, string]> = [
    [
      `availability${availability.probe ? ` (${availability.probe})` : ""}`,
      `${formatRatio(availability.ratio)} (ok ${availability.ok}, fail ${availability.fail}, info ${availability.info})`,
    ],
    ["availability from first fault", formatRatio(availability.faultWindowRatio)],
    ["downtime", `${formatMs(downtime.totalMs)} total, longest ${formatMs(downtime.longestMs)}`],
    ["failover latency", failoverText(result)],
    ["writes stable after", formatMs(failover.stableAfterMs)],
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
  return ["### Key metrics", "", "| metric | value |", "|---|---|", ...rows.map(([name, value]) => `| ${name} | ${cell(value)} |`)].join("\n");
}

/** The operator's view (cnpg target only): what Kubernetes said, beside what clients saw. */
function operatorRows(result: RunResult): Array<[string, string]> {
  const operator = result.metrics.operator;
  if (!operator.observed) return [];
  return [
    ["operator promoted", operator.promotedAfterMs === null ? "no promotion seen" : `${formatMs(operator.promotedAfterMs)} after the first fault → ${operator.newPrimary ?? "?"}`],
    ["targetPrimary pending", formatMs(operator.pendingMs)],
    ["no pod labelled primary", formatMs(operator.noPrimaryLabelMs)],
    ["two pods labelled primary", operator.multiplePrimaryLabelsMs > 0 ? `**${formatMs(operator.multiplePrimaryLabelsMs)}**` : "never"],
    ...(operator.resyncs > 0 ? [["watch resyncs", `${operator.resyncs} observations made by listing again after a watch broke`] as [string, string]] : []),
  ];
}

function failoverText(result: RunResult): string {
  const { failover } = result.metrics;
  if (failover.faultLabel === null) return failover.latencyMs === null ? "n/a" : "no fault injected";
  const from = `after "${failover.faultLabel}" at ${formatMs(failover.faultAtMs)}`;
  if (failover.latencyMs === null) return `**did not recover** ${from}`;
  const moved = failover.newPrimary && failover.newPrimary !== failover.originalPrimary ? `, now on ${failover.newPrimary} (was ${failover.originalPrimary ?? "?"})` : "";
  return `${formatMs(failover.latencyMs)} ${from}${moved}`;
}

function gates(results: readonly GateResult[]): string {
  if (results.length === 0) return "### Gates\n\nNo gates: the verdict only says whether the run completed.";
  const rows = results.map(
    (gate) => `| ${gate.pass ? "✅" : "❌"} | \`${gate.metric}\` | ${cell(gate.expected)} | ${formatActual(gate.actual)} |`,
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
        `| ${cell(window.probe)} | ${formatMs(window.startMs)} | ${formatMs(window.endMs)}${window.open ? " (still down)" : ""} | ${formatMs(window.durationMs)} | ${window.failures} |`,
    );
  const more = windows.length > MAX_WINDOWS ? [`\n… and ${windows.length - MAX_WINDOWS} more windows in result.json`] : [];
  return ["### Downtime windows", "", "| probe | from | to | duration | failed ops |", "|---|---|---|---|---|", ...rows, ...more].join("\n");
}

function lostWrites(result: RunResult): string {
  const { writes } = result.metrics;
  if (!writes.lostAcknowledged) return "";
  return `### Lost acknowledged writes\n\n${writes.lostAcknowledged} lost, ids: ${formatIds(writes.lostIds, MAX_ID_RANGES)}`;
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
