/**
 * `pgdrill run a b c`: several scenarios, one after another, each with its own run directory and
 * reports. With --share-cluster the drills share what is slow to make (the cnpg target's kind
 * cluster and operator: minutes each), while each still makes and removes its own namespace and
 * Cluster; the shared cluster is deleted after the last drill, on every path. The exit code is the
 * worst drill's.
 */
import { join } from "node:path";
import { loadScenario } from "../scenario/load.ts";
import { SharedPool, type SharedResources } from "../targets/index.ts";

export interface SeriesIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function runSeries(
  scenarioArgs: readonly string[],
  options: { shareCluster: boolean; out?: string },
  io: SeriesIO,
  runOne: (scenarioArg: string, outDir: string | undefined, shared: SharedResources | undefined) => Promise<number>,
  check: (scenarioArg: string) => Promise<{ scenario: { name: string } }> = loadScenario,
): Promise<number> {
  if (scenarioArgs.length === 1 && !options.shareCluster) return runOne(scenarioArgs[0]!, options.out, undefined);
  // Every scenario is read and validated before the first drill starts: a typo in the last one
  // must not cost the minutes the first ones take.
  const names: string[] = [];
  for (const arg of scenarioArgs) names.push((await check(arg)).scenario.name);
  const pool = options.shareCluster ? new SharedPool() : undefined;
  let worst = 0;
  try {
    for (const [i, arg] of scenarioArgs.entries()) {
      if (scenarioArgs.length > 1) io.out(`\n== ${i + 1}/${scenarioArgs.length}: ${names[i]}${pool ? " (shared cluster)" : ""}\n`);
      const outDir = options.out && scenarioArgs.length > 1 ? join(options.out, names[i]!) : options.out;
      const code = await runOne(arg, outDir, pool);
      worst = Math.max(worst, code);
      // An interrupted drill ends the series (130 = SIGINT, as the shell says it).
      if (code > 2) break;
    }
  } finally {
    if (pool) {
      const { removed, failed } = await pool.release();
      if (removed.length > 0) io.out(`removed what the series shared: ${removed.join(", ")}\n`);
      for (const line of failed) io.err(`pgdrill: could not remove ${line}; \`pgdrill reap\` removes it\n`);
      if (failed.length > 0) worst = Math.max(worst, 2);
    }
  }
  return worst;
}
