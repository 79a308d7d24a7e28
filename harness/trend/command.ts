/**
 * `pgdrill trend DIR...`: reads the runs, writes trend.html and trend.md into --out, prints the
 * regression gate's lines and what was skipped, and returns the exit code: 0 when no regression
 * gate is breached (or none was asked for), 1 when one is, 2 for bad input or no run found.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT, InputError } from "../errors.ts";
import { buildTrend, parseRegression } from "./trend.ts";
import { renderTrendHtml } from "./trend-html.ts";
import { describeCheck, renderTrendMarkdown } from "./trend-md.ts";

export interface TrendOptions {
  out: string;
  regression: string[];
  baseline: string;
}

export interface TrendIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function trendCommand(
  dirs: readonly string[],
  options: TrendOptions,
  io: TrendIO,
): Promise<{ exitCode: number; markdownFile: string | null }> {
  const specs = options.regression.map(parseRegression);
  const baseline = Number(options.baseline);
  if (!Number.isInteger(baseline) || baseline < 1 || baseline > 1000) {
    throw new InputError(
      "--baseline",
      `"${options.baseline}" is not a number of runs`,
      "Give a whole number from 1 to 1000: the regression baseline is the median of that many previous runs.",
    );
  }
  const trend = buildTrend(dirs, specs, baseline);
  for (const skip of trend.skipped) io.err(`pgdrill: skipped ${skip.file}: ${skip.reason}\n`);
  if (trend.trends.length === 0) {
    io.err(`pgdrill: no readable result.json under ${dirs.join(", ")}: nothing to chart\n`);
    return { exitCode: EXIT.errored, markdownFile: null };
  }
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "trend.html"), await renderTrendHtml(trend, outDir));
  const markdownFile = join(outDir, "trend.md");
  writeFileSync(markdownFile, renderTrendMarkdown(trend));
  const runs = trend.trends.reduce((sum, each) => sum + each.runs.length, 0);
  io.out(
    `${runs} run${runs === 1 ? "" : "s"} of ` +
      `${trend.trends.map((each) => `${each.scenario} (${each.runs.length})`).join(", ")}` +
      `${trend.skipped.length > 0 ? `; ${trend.skipped.length} skipped` : ""}\n`,
  );
  const breaches = trend.checks.filter((check) => check.breached);
  for (const check of trend.checks)
    io.out(`${check.breached ? "REGRESSION" : check.note ? "not judged" : "ok        "} ${describeCheck(check)}\n`);
  io.out(`wrote ${join(outDir, "trend.html")} and ${markdownFile}\n`);
  return { exitCode: breaches.length > 0 ? EXIT.deviated : EXIT.pass, markdownFile };
}
