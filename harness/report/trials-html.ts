/** trials.html: the distribution across trials, the gates judged on it, and a row per trial linking its report. */
import type { TrialsResult } from "../trials.ts";
import { formatRatio } from "./format.ts";
import { failoverCount, formatMetric, formatStatistic, trialFailover, trialRecovery } from "./trials.ts";
import { escapeHtml as e, mark, pageHead, table, VERDICT_COLORS } from "./html-page.ts";

export function renderTrialsHtml(trials: TrialsResult): string {
  const distributions = table(
    "distributions",
    ["metric", "min", "median", "p95", "max", "measured"],
    Object.entries(trials.distributions).map(([metric, d]) => [
      `<code>${e(metric)}</code>`,
      ...(["min", "median", "p95", "max"] as const).map((statistic) => e(formatStatistic(trials, metric, statistic))),
      `${d.count}/${trials.trials}`,
    ]),
  );
  const gates = table(
    "gates",
    ["gate", "judged on", "actual", "result"],
    trials.gates.map((gate) => [
      `<code>${e(gate.metric)}</code> ${e(gate.expected)}`,
      e(gate.statistic),
      e(formatMetric(gate.metric, gate.actual)),
      mark(gate.pass),
    ]),
  );
  const perTrial = table(
    "trials",
    ["#", "run", "verdict", "failover", "recovery", "availability", "lost writes"],
    trials.perTrial.map((trial, index) => [
      `<a href="trial-${index + 1}/report.html">${index + 1}</a>`,
      `<code>${e(trial.runId)}</code>`,
      e(trial.verdict),
      e(trialFailover(trial)),
      e(trialRecovery(trial)),
      formatRatio(trial.availability),
      e(trial.lostAcknowledged ?? "unknown"),
    ]),
  );
  const head = pageHead(
    `pgdrill: ${e(trials.scenario)} × ${trials.trials} trials — ${e(trials.verdict)}`,
    `  .verdict { background: ${VERDICT_COLORS[trials.verdict]}; }`,
  );
  return (
    `${head}
<header>
  <h1>${e(trials.scenario)} × ${trials.trials} trials <span class="verdict">${e(trials.verdict)}</span></h1>
  ${trials.reason ? `<p class="reason">${e(trials.reason)}</p>` : ""}
  <div class="meta">Gates are judged on the ${trials.statistic === "worst" ? "worst trial" : e(trials.statistic)} across ` +
    `trials; each trial ran on a fresh target.</div>
</header>
<section><h2>Distributions</h2><p>${e(failoverCount(trials))}. Failover latency is measured only then; recovery (fault → ` +
    `first acknowledged write after the outage, whoever served it) in every trial that recovered, each statistic with the ` +
    `error bars of the trial it picked.</p>${distributions}</section>
<section><h2>Gates</h2>${gates}</section>
<section><h2>Trials</h2>${perTrial}</section>
</body>
</html>
`
  );
}
