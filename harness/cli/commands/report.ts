/** `pgdrill report <run-dir>`: re-analyses a saved run from its History, no target needed. */
import { join } from "node:path";
import { Option } from "commander";
import { analyzeRunDir } from "../../analyze.ts";
import { parseGateOverride } from "../../gate/gate.ts";
import { RENDERERS } from "../../report/index.ts";
import { formatSummary } from "../../report/summary.ts";
import { onInterrupt } from "../interrupt.ts";
import { appendJobSummary, collect, verdictExit, type CommandModule } from "../io.ts";

export const registerReport: CommandModule = (program, { io, exit }) => {
  const files = Object.values(RENDERERS)
    .map((renderer) => renderer.file)
    .join(", ");
  program
    .command("report")
    .description(`re-analyse a saved run from its history.jsonl (no containers): rewrites every report in it (${files})`)
    .argument("<run-dir>", "a run directory written by `pgdrill run`")
    .addOption(new Option("--gate <metric-op-value>", "add or replace a gate (repeatable)").argParser(collect).default([]))
    .addHelpText("after", "\nExample:\n  pgdrill report reports/pair-kill-primary/20261125-101500-ab12 --gate 'failover.latencyMs<5000'")
    .action(async (runDir: string, options: { gate: string[] }) => {
      options.gate.forEach(parseGateOverride);
      const interrupt = onInterrupt(io, "stopping the analysis (the history is not changed)");
      try {
        io.err(`analysing ${join(runDir, "history.jsonl")}\n`);
        const result = await analyzeRunDir(runDir, { gateOverrides: options.gate, signal: interrupt.signal });
        io.out(`${formatSummary(result, { color: io.color })}\n`);
        await appendJobSummary(runDir, "report.md");
        exit(verdictExit(result.verdict));
      } finally {
        interrupt.dispose();
      }
    });
};
