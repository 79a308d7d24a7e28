/**
 * The few lines printed at the end of `pgdrill run`: verdict, the model's headline, its heavy
 * findings (whatever the gates say), and any failed gate. Colour is the caller's decision (TTY,
 * NO_COLOR); with `color: false` the text has no escape codes at all.
 */
import picocolors from "picocolors";
import type { RunResult, Verdict } from "../result.ts";
import { clientLine, formatActual, formatIds, formatMs } from "./format.ts";
import { reportModel } from "./model.ts";
import type { Span } from "./types.ts";

export interface SummaryOptions {
  color: boolean;
}

/** The summary of a run's result: drawn from its report model, as every report is. */
export function formatSummary(result: RunResult, options: SummaryOptions): string {
  const c = picocolors.createColors(options.color);
  const { run, headline: h, gates, clients } = reportModel(result);
  const paint: Record<Verdict, (text: string) => string> = { pass: c.green, deviated: c.red, errored: c.yellow };
  // A part set off is red: the terminal's warning colour.
  const text = (span: Span) => (typeof span === "string" ? span : span.bad ? c.red(span.text) : span.text);

  const verdict = c.bold(paint[run.verdict](run.verdict.toUpperCase()));
  const lines = [`${verdict} ${c.bold(run.scenario)} ${c.dim(`run ${run.runId}, ${formatMs(run.durationMs)}`)}`];
  // A deviated run's reason lists the failed gates, which are printed below one per line.
  if (run.reason && run.verdict !== "deviated") lines.push(`  ${paint[run.verdict](run.reason)}`);
  const { ok, fail, info } = result.metrics.availability;
  if (run.verdict === "errored" && ok + fail + info === 0) {
    // Not "downtime 0.00 ms": nothing was measured, and zeros would read as a clean result.
    lines.push("  measured nothing: no probe operation completed before the run errored (why: the line above)");
  } else {
    lines.push(
      `  availability ${h.availability} of the time (${h.operations} of operations) · downtime ${h.downtime} · ${text(h.outage)}`,
      `  writes ${h.acknowledged} acknowledged, ${h.unknown} unknown, lost ${text(h.lost)} · p99 ${h.p99}`,
    );
  }
  if (h.lostIds.length > 0) lines.push(`  lost ids: ${formatIds(h.lostIds, 10)}`);
  // Said whatever the gates say: a run without gates passes whatever it saw.
  for (const finding of h.findings) lines.push(`  ${c.red("!")} ${c.red(finding)}`);
  // Client stacks compared get a line each; one driver's select1 and writes are the lines above already.
  if (new Set(clients.map((client) => client.driver)).size > 1) for (const client of clients) lines.push(`  ${clientLine(client)}`);

  const passed = gates.filter((gate) => gate.pass).length;
  if (gates.length > 0) lines.push(`  gates ${passed}/${gates.length} passed`);
  for (const gate of gates.filter((g) => !g.pass)) {
    const actual = `(actual ${formatActual(gate.actual)}${gate.note ? `: ${gate.note}` : ""})`;
    lines.push(`  ${c.red("✗")} ${gate.metric} ${gate.expected} ${c.dim(actual)}`);
  }
  return lines.join("\n");
}
