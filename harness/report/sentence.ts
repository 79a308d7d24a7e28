/**
 * The one sentence at the top of a report: what was done, what clients saw, whether the primary
 * moved, and whether an acknowledged write was lost, e.g. "pause primary for 3.00 s: clients were
 * down 2.98 s (select1); no failover: recovered on the same primary in 3.03 s; no acknowledged write
 * lost." Read from the result and the History's faults, so a re-analysed run gets it too. Writes
 * far longer down than the headline probe are named, and a heavy finding (findings.ts) is said
 * whatever the gates say: a split brain first, a probe that never recovered last.
 */
import { formatMs } from "../duration.ts";
import type { HistoryContext } from "../history/context.ts";
import type { RunResult } from "../result.ts";
import { outageHeadline } from "./failover-text.ts";
import { heavyFindings, writesFarLonger } from "./findings.ts";

export function runSentence(result: RunResult, history: HistoryContext): string {
  const { downtime, availability, writes } = result.metrics;
  const done = whatWasDone(history);
  const seen =
    availability.probe === null
      ? "no client probe ran"
      : downtime.totalMs === 0
        ? `clients saw no downtime (${availability.probe})`
        : `clients were down ${formatMs(downtime.totalMs)} (${availability.probe})`;
  const writesDown = writesFarLonger(result.metrics, writeProbes(history, result));
  const headline = outageHeadline(result.metrics);
  const findings = heavyFindings(result.metrics);
  const split = findings.filter((finding) => finding.startsWith("split brain"));
  const never = findings.filter((finding) => finding.includes("never recovered"));
  // "No fault injected: …; no fault injected" says it once.
  const parts = [...split, writesDown ? `${seen}, but ${writesDown}` : seen, ...(headline === done.text ? [] : [headline])];
  if (writes.attempted > 0) {
    parts.push(
      writes.lostAcknowledged === null
        ? "whether acknowledged writes were lost is unknown (no final read)"
        : writes.lostAcknowledged === 0
          ? "no acknowledged write lost"
          : `${writes.lostAcknowledged} acknowledged write${writes.lostAcknowledged === 1 ? "" : "s"} lost`,
    );
  }
  parts.push(...never);
  const sentence = `${done.text}: ${parts.join("; ")}.`;
  // pgdrill's own words start with a capital; a user's label keeps its case ("pg_autoctl perform switchover").
  return done.ownWords ? sentence.charAt(0).toUpperCase() + sentence.slice(1) : sentence;
}

/** The writes probes, by their run-start record; histories older than that record name theirs "writes". */
function writeProbes(history: HistoryContext, result: RunResult): string[] {
  const probes = history.runStart?.probes;
  if (probes) return probes.filter((probe) => probe.type === "write").map((probe) => probe.name);
  return "writes" in result.metrics.downtime.byProbe ? ["writes"] : [];
}

/**
 * "pause primary for 3.00 s, then kill primary": each fault that took, with how long it held when it
 * healed (a one-shot has no "for"), and whether it begins in pgdrill's words or a user's label.
 */
function whatWasDone(history: HistoryContext): { text: string; ownWords: boolean } {
  const heals = new Map<string, number>();
  for (const event of history.events) if (event.kind === "fault" && event.phase === "heal" && event.ok) heals.set(event.id, event.t);
  const steps: Array<{ t: number; text: string; ownWords: boolean }> = [];
  for (const event of history.events) {
    if (event.kind === "fault" && event.phase === "inject" && event.ok) {
      const healed = event.instant ? undefined : heals.get(event.id);
      const text = healed === undefined ? event.label : `${event.label} for ${formatMs(healed - event.t)}`;
      steps.push({ t: event.t, text, ownWords: !userLabel(event.fault, event.label) });
    } else if (event.kind === "action" && event.phase === "start" && event.action !== "heal") {
      steps.push({ t: event.t, text: event.label, ownWords: true });
    }
  }
  // In the order they began: an inject is recorded when it finishes, after actions that began later.
  steps.sort((a, b) => a.t - b.t);
  if (steps.length === 0) return { text: "no fault injected", ownWords: true };
  return { text: steps.map((step) => step.text).join(", then "), ownWords: steps[0]!.ownWords };
}

/** A command fault's label is the user's (its `label`), unless pgdrill made it ("command: …"). */
function userLabel(fault: string, label: string): boolean {
  return fault === "command" && !label.startsWith("command:");
}
