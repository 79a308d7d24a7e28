/**
 * The one sentence at the top of a report: what was done, what clients saw, whether the primary
 * moved, and whether an acknowledged write was lost, e.g. "pause primary for 3.00 s: clients were
 * down 2.98 s (select1); no failover: recovered on the same primary in 3.03 s; no acknowledged write
 * lost." Read from the result and the History's faults, so a re-analysed run gets it too.
 */
import { formatMs } from "../duration.ts";
import type { HistoryContext } from "../history/context.ts";
import type { RunResult } from "../result.ts";
import { outageHeadline } from "./failover-text.ts";

export function runSentence(result: RunResult, history: HistoryContext): string {
  const { downtime, availability, writes } = result.metrics;
  const done = whatWasDone(history);
  const seen =
    availability.probe === null
      ? "no client probe ran"
      : downtime.totalMs === 0
        ? `clients saw no downtime (${availability.probe})`
        : `clients were down ${formatMs(downtime.totalMs)} (${availability.probe})`;
  const headline = outageHeadline(result.metrics);
  // "No fault injected: …; no fault injected" says it once.
  const parts = headline === done ? [seen] : [seen, headline];
  if (writes.attempted > 0) {
    parts.push(
      writes.lostAcknowledged === null
        ? "whether acknowledged writes were lost is unknown (no final read)"
        : writes.lostAcknowledged === 0
          ? "no acknowledged write lost"
          : `${writes.lostAcknowledged} acknowledged write${writes.lostAcknowledged === 1 ? "" : "s"} lost`,
    );
  }
  const sentence = `${done}: ${parts.join("; ")}.`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/** "pause primary for 3.00 s, then kill primary": each fault that took, with how long it held when it healed. */
function whatWasDone(history: HistoryContext): string {
  const heals = new Map<string, number>();
  for (const event of history.events) if (event.kind === "fault" && event.phase === "heal" && event.ok) heals.set(event.id, event.t);
  const steps: Array<{ t: number; text: string }> = [];
  for (const event of history.events) {
    if (event.kind === "fault" && event.phase === "inject" && event.ok) {
      const healed = heals.get(event.id);
      steps.push({ t: event.t, text: healed === undefined ? event.label : `${event.label} for ${formatMs(healed - event.t)}` });
    } else if (event.kind === "action" && event.phase === "start" && event.action !== "heal") {
      steps.push({ t: event.t, text: event.label });
    }
  }
  // In the order they began: an inject is recorded when it finishes, after actions that began later.
  steps.sort((a, b) => a.t - b.t);
  return steps.length === 0 ? "no fault injected" : steps.map((step) => step.text).join(", then ");
}
