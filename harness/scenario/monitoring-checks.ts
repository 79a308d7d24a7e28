/**
 * What the schema alone cannot say of the `monitoring` section: a started stack needs a target whose
 * containers it can join; its intervals must be ones Prometheus accepts; its rules file must be one
 * Prometheus 2.42 loads; and the expectations must be ones the drill can judge: alerts its rules
 * have, `within` times they can meet, a schedule with a fault to time them from and a duration
 * long enough to see them (harness/scenario/alert-timing.ts). With `prometheus:` the rules are known
 * only when the drill reads them, so the run checks the expectations then.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { formatMs, toMs } from "../duration.ts";
import { errorMessage, InputError } from "../errors.ts";
import { alertingRules, parseRules, SEED_GUIDE_RULES, SEED_GUIDE_SOURCE, type RulesFile } from "./alert-rules.ts";
import { checkExpectations } from "./alert-timing.ts";
import { actionOf } from "../action/registry.ts";
import type { Report } from "../targets/plugin.ts";
import type { TargetKind } from "../targets/registry.ts";
import type { Monitoring, MonitoringStart } from "./monitoring.ts";
import type { StepSpec, Target } from "./schema.ts";

/**
 * The targets a started stack can join: their nodes are containers on a Docker network of their
 * own. cnpg runs in Kubernetes and an endpoint is someone else's server: both are watched by a
 * Prometheus that already exists.
 */
export const STACK_TARGETS = ["container-pair", "patroni", "pg-auto-failover"] as const satisfies readonly TargetKind[];

/** Reading alerts faster than this would load the user's Prometheus for nothing; slower would blur the timings. */
const POLL_MS = { min: 100, max: 10_000 };

export interface MonitoringCheckContext {
  target: Target | undefined;
  /** The whole schedule when every entry's shape was right; undefined otherwise (its checks are skipped). */
  schedule: readonly StepSpec[] | undefined;
  /** The drill's length, when it is a sensible one. */
  durationMs: number | undefined;
  /** The directory a rules file's path is relative to: the scenario file's. */
  dir: string;
}

/**
 * Checks the section, reporting each problem; a problem inside the rules file comes as its own
 * InputError (`alerts.yml: groups[0].rules[1].for`) through `refuse`. Returns the rules file's
 * absolute path when the section names one that loaded.
 */
export function checkMonitoring(
  monitoring: Monitoring,
  context: MonitoringCheckContext,
  report: Report,
  refuse: (error: InputError) => void,
): { rulesPath: string | null } {
  const at = (...path: Array<string | number>) => ["monitoring", ...path];
  checkPoll(monitoring, report);
  monitoring.expect.forEach((expected, i) => {
    const j = monitoring.mustNotFire.indexOf(expected.alert);
    if (j >= 0) {
      report(
        at("expect", i, "alert"),
        `"${expected.alert}" is expected to fire and is also in mustNotFire (mustNotFire[${j}])`,
        "Remove it from one of the two lists.",
      );
    }
  });
  const firstDisruptionAt = context.schedule ? firstDisruption(context.schedule) : undefined;
  if (monitoring.expect.length > 0 && firstDisruptionAt === null) {
    report(
      at("expect"),
      "the schedule has no fault or hand-over to time the expected alerts from",
      'Add a fault (e.g. { at: "10s", fault: { kind: "kill", node: "primary" } }) or a switchover to the schedule, or remove expect.',
    );
  }
  if (!monitoring.start) return { rulesPath: null };

  const { target } = context;
  if (target && !(STACK_TARGETS as readonly string[]).includes(target.kind)) {
    report(
      at("start"),
      `pgdrill cannot start Prometheus beside the ${target.kind} target (it runs no containers of pgdrill's to join)`,
      `Use prometheus: { url: ... } to read the Prometheus that watches it, or a ${STACK_TARGETS.join(", ")} target.`,
    );
  }
  if (!checkIntervals(monitoring.start, report)) return { rulesPath: null };

  const rules = startRules(monitoring.start, context.dir, report, refuse);
  if (!rules) return { rulesPath: null };
  const alerting = alertingRules(rules.file);
  if (alerting.length === 0) {
    report(
      at("start", "rules"),
      `${rules.file.source} has no alerting rules, so no alert can fire`,
      "Add an alerting rule (`- alert: ...`).",
    );
  }
  const { start } = monitoring;
  const problems = checkExpectations({
    expect: monitoring.expect.map((expected) => ({ alert: expected.alert, withinMs: toMs(expected.within) })),
    mustNotFire: monitoring.mustNotFire,
    rules: alerting,
    rulesSource: rules.file.source,
    intervals: {
      scrapeIntervalMs: toMs(start.scrapeInterval),
      scrapeTimeoutMs: toMs(start.scrapeTimeout),
      evaluationIntervalMs: toMs(start.evaluationInterval),
      groupWaitMs: toMs(start.groupWait),
    },
    firstDisruptionAt: firstDisruptionAt ?? null,
    durationMs: context.durationMs ?? null,
  });
  for (const problem of problems) report(problem.path, problem.problem, problem.fix);
  return { rulesPath: rules.path };
}

function checkPoll(monitoring: Monitoring, report: Report): void {
  const pollMs = toMs(monitoring.poll);
  if (pollMs < POLL_MS.min || pollMs > POLL_MS.max) {
    report(
      ["monitoring", "poll"],
      `${formatMs(pollMs)} is outside ${formatMs(POLL_MS.min)}..${formatMs(POLL_MS.max)}`,
      `Use ${POLL_MS.min}ms to ${POLL_MS.max / 1000}s (default 1s).`,
    );
  }
}

/** Prometheus's own rules for its intervals; false when one is broken (the timings would be nonsense). */
function checkIntervals(start: MonitoringStart, report: Report): boolean {
  let ok = true;
  for (const key of ["scrapeInterval", "scrapeTimeout", "evaluationInterval"] as const) {
    if (toMs(start[key]) > 0 && Number.isInteger(toMs(start[key]))) continue;
    report(
      ["monitoring", "start", key],
      `must be a whole number of milliseconds longer than 0, got ${JSON.stringify(start[key])}`,
      'Use e.g. "15s".',
    );
    ok = false;
  }
  if (ok && toMs(start.scrapeTimeout) > toMs(start.scrapeInterval)) {
    report(
      ["monitoring", "start", "scrapeTimeout"],
      `${formatMs(toMs(start.scrapeTimeout))} is longer than scrapeInterval (${formatMs(toMs(start.scrapeInterval))}), ` +
        "which Prometheus refuses",
      "Shorten scrapeTimeout or lengthen scrapeInterval.",
    );
    ok = false;
  }
  return ok;
}

/** The rules a started Prometheus loads: the scenario's file, or the seed guide's. */
function startRules(
  start: MonitoringStart,
  dir: string,
  report: Report,
  refuse: (error: InputError) => void,
): { file: RulesFile; path: string | null } | null {
  if (start.rules === undefined) return { file: parseRules(SEED_GUIDE_RULES, SEED_GUIDE_SOURCE), path: null };
  const path = isAbsolute(start.rules) ? start.rules : resolve(dir, start.rules);
  const shown = relative(process.cwd(), path).startsWith("..") ? path : relative(process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    report(
      ["monitoring", "start", "rules"],
      `cannot read "${shown}": ${errorMessage(error).split("\n")[0]}`,
      `Give the path of a Prometheus rules file, relative to the scenario file (${dir}).`,
    );
    return null;
  }
  try {
    return { file: parseRules(text, shown), path };
  } catch (error) {
    // A problem inside the file is named by the file and the place in it.
    if (!(error instanceof InputError)) throw error;
    for (const problem of error.problems) refuse(problem);
    return null;
  }
}

/** When the first fault or hand-over starts (what the alerts are timed from); null: the schedule has none. */
export function firstDisruption(schedule: readonly StepSpec[]): number | null {
  const times = schedule.flatMap((step) =>
    "fault" in step || ("action" in step && actionOf(step.action).handsOver === true) ? [toMs(step.at)] : [],
  );
  return times.length > 0 ? Math.min(...times) : null;
}
