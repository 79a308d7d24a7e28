/**
 * The scenario's probes run here, in the drill's process, behind the same ProbeRunner a target
 * that runs them elsewhere hands out (cnpg's in-cluster runner), so the drill has one way to probe.
 */
import type { Clock } from "../clock.ts";
import type { HistoryWriter } from "../history/writer.ts";
import type { ProbeRunner, StartedTopology } from "../targets/types.ts";
import type { Probe } from "./probe.ts";

export function localProbeRunner(probes: readonly Probe[], topology: StartedTopology, log?: (line: string) => void): ProbeRunner {
  let prepared: { history: HistoryWriter; clock: Clock; signal: AbortSignal } | null = null;
  return {
    async prepare(context) {
      prepared = context;
      for (const probe of probes) await probe.prepare?.(topology);
    },
    async run(until) {
      if (!prepared) throw new Error("the local probes were not prepared");
      const { history, clock, signal } = prepared;
      // A probe that fails stops the others, as the drill's stop would, and fails the run once they
      // have settled: none is still writing when the drill heals.
      const failed = new AbortController();
      const context = { topology, history, clock, until, signal: AbortSignal.any([signal, failed.signal]), ...(log ? { log } : {}) };
      const failures: unknown[] = [];
      await Promise.all(
        probes.map((probe) =>
          probe.run(context).catch((error: unknown) => {
            failures.push(error);
            failed.abort();
          }),
        ),
      );
      if (failures.length > 0) throw failures[0];
    },
    async finalRead() {
      if (!prepared) return;
      const { history, clock } = prepared;
      // Its own signal: the drill's have aborted by now, and the final read must still run.
      for (const probe of probes) await probe.finalRead?.({ topology, history, clock, signal: new AbortController().signal });
    },
    // The probes closed their connections when their loops ended; a driver agent that never ran is let go here.
    async close() {
      await Promise.all(probes.map((probe) => probe.close?.().catch(() => undefined)));
    },
  };
}
