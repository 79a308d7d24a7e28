/**
 * The drill's monitoring, start to finish: pgdrill's own Prometheus, Alertmanager and exporters
 * beside the target (`start`), or the user's Prometheus read by URL (`prometheus`); then the
 * preflight (which rules can fire at all, and how soon) into the History before any fault, and the
 * watch that records every alert's state through the drill. Before the probes start, so a rule
 * whose metric does not exist is said before the fault, not discovered after it.
 */
import { readFileSync } from "node:fs";
import { toMs } from "../duration.ts";
import { HarnessError, InputError, inputErrors } from "../errors.ts";
import type { Monitoring } from "../scenario/monitoring.ts";
import { authorizationHeader, resolveUrl } from "../scenario/monitoring.ts";
import { dockerClient } from "../targets/shared/docker.ts";
import { localImageFor } from "../targets/shared/image.ts";
import { PollLoop } from "../targets/shared/poll-loop.ts";
import type { StartedTopology } from "../targets/types.ts";
import { AlertmanagerApi, PrometheusApi, displayUrl } from "./api.ts";
import { preflight, type Preflight } from "./preflight.ts";
import { SEED_GUIDE_RULES, metricsOf, selectorsOf } from "../scenario/alert-rules.ts";
import { startMonitoringStack, type StartedMonitoringStack } from "./stack.ts";
import { checkExpectations, firingWindow } from "../scenario/alert-timing.ts";
import { AlertWatch, type AlertingObservation } from "./watch.ts";

export interface MonitoringContext {
  runId: string;
  scenario: string;
  started: StartedTopology;
  /** --image: the stack runs from the same image the target does. */
  image?: string | undefined;
  log: (line: string) => void;
  signal?: AbortSignal | undefined;
  /** Into the History, stamped with the drill's clock. */
  record: (observation: AlertingObservation) => void;
  /** How long the probes run: the watch's lifetime bound, and what an existing Prometheus's rules must fit in. */
  durationMs: number;
  /** When the first fault or hand-over starts, from the start of probing; null when the schedule has none. */
  firstDisruptionAtMs: number | null;
}

export interface DrillMonitoring {
  /** Starts watching the alerts (with the probes). */
  start(): void;
  /** Stops watching; the poll under way finishes first. */
  stop(): Promise<void>;
  /** Removes what pgdrill started for the monitoring (nothing for the user's Prometheus); never throws. */
  teardown(): Promise<string[]>;
}

/** How often the on-node exporters are looked after: a restarted node gets its exporter back within this. */
const SUPERVISE_EVERY_MS = 2000;
/** Beyond the drill's own length, how long the watch may live (teardown stops it long before). */
const LIFETIME_SLACK_MS = 10 * 60_000;

export async function startMonitoring(spec: Monitoring, context: MonitoringContext): Promise<DrillMonitoring> {
  let stack: StartedMonitoringStack | null = null;
  try {
    const { prometheus, alertmanager, source } =
      spec.start !== undefined
        ? await started(spec.start, context).then((made) => {
            stack = made.stack;
            return made;
          })
        : existing(spec);
    const { setup, warnings } = await preflight({
      prometheus,
      alertmanager,
      source,
      expect: spec.expect.map((expected) => ({ alert: expected.alert, withinMs: toMs(expected.within), labels: expected.labels })),
      mustNotFire: spec.mustNotFire,
      metricsOf,
      firingWindow: (timing) => firingWindow(timing),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    context.record(setup);
    for (const warning of warnings) context.log(`monitoring: ${warning}`);
    // The user's rules are known only now: an expectation they make impossible stops the drill before its fault.
    if (source === "existing") refuseImpossible(spec, setup, prometheus.url, context);
    context.log(`monitoring: watching ${setup.rules.length} alerting rules on ${displayUrl(prometheus.url)}`);
    return drillMonitoring(spec, context, prometheus, alertmanager, stack);
  } catch (error) {
    await (stack as StartedMonitoringStack | null)?.teardown();
    throw error;
  }
}

function refuseImpossible(spec: Monitoring, setup: Preflight["setup"], url: string, context: MonitoringContext): void {
  const problems = checkExpectations({
    expect: spec.expect.map((expected) => ({ alert: expected.alert, withinMs: toMs(expected.within) })),
    mustNotFire: spec.mustNotFire,
    rules: setup.rules,
    rulesSource: `the rules of Prometheus at ${displayUrl(url)}`,
    intervals: {
      scrapeIntervalMs: setup.scrapeIntervalMs ?? null,
      scrapeTimeoutMs: null,
      evaluationIntervalMs: setup.evaluationIntervalMs ?? null,
      groupWaitMs: setup.groupWaitMs ?? null,
    },
    firstDisruptionAt: context.firstDisruptionAtMs,
    durationMs: context.durationMs,
  });
  if (problems.length === 0) return;
  throw inputErrors(
    "monitoring",
    problems.map(({ path, problem, fix }) => new InputError(path.join("."), problem, fix)),
  );
}

/** pgdrill's own stack beside a container target, loaded with the user's rules or the seed guide's. */
async function started(spec: NonNullable<Monitoring["start"]>, context: MonitoringContext) {
  const site = context.started.monitoringSite;
  if (!site) throw new HarnessError(`the ${context.started.kind} target cannot have monitoring started beside it (it names no site)`);
  const docker = await dockerClient();
  const { image } = await localImageFor(docker, { cli: context.image }, "monitoring", "Prometheus, Alertmanager and postgres_exporter");
  const stack = await startMonitoringStack({
    runId: context.runId,
    scenarioName: context.scenario,
    site,
    image,
    rulesText: spec.rules === undefined ? SEED_GUIDE_RULES : readFileSync(spec.rules, "utf8"),
    scrapeIntervalMs: toMs(spec.scrapeInterval),
    scrapeTimeoutMs: toMs(spec.scrapeTimeout),
    evaluationIntervalMs: toMs(spec.evaluationInterval),
    groupWaitMs: toMs(spec.groupWait),
    exporter: spec.exporter,
    log: context.log,
    signal: context.signal,
  });
  context.log(`monitoring: Prometheus, Alertmanager and ${spec.exporter} exporters ready in ${stack.startupMs} ms`);
  return {
    stack,
    prometheus: new PrometheusApi({ url: stack.prometheusUrl }, { field: "monitoring.start" }),
    alertmanager: new AlertmanagerApi({ url: stack.alertmanagerUrl }, { field: "monitoring.start" }),
    source: "started" as const,
  };
}

/** The user's Prometheus (and Alertmanager), with their credentials read from the environment now. */
function existing(spec: Monitoring) {
  if (spec.prometheus === undefined) throw new HarnessError("monitoring has neither start nor prometheus (validation should have said)");
  const server = spec.prometheus;
  const prometheus = new PrometheusApi(
    { url: resolveUrl(server.url, "monitoring.prometheus.url"), headers: authorizationHeader(server, "monitoring.prometheus") },
    { field: "monitoring.prometheus" },
  );
  const alertmanager =
    spec.alertmanager === undefined
      ? null
      : new AlertmanagerApi(
          {
            url: resolveUrl(spec.alertmanager.url, "monitoring.alertmanager.url"),
            headers: authorizationHeader(spec.alertmanager, "monitoring.alertmanager"),
          },
          { field: "monitoring.alertmanager" },
        );
  return { prometheus, alertmanager, source: "existing" as const };
}

function drillMonitoring(
  spec: Monitoring,
  context: MonitoringContext,
  prometheus: PrometheusApi,
  alertmanager: AlertmanagerApi | null,
  stack: StartedMonitoringStack | null,
): DrillMonitoring {
  const maxLifetimeMs = context.durationMs + LIFETIME_SLACK_MS;
  const watch = new AlertWatch({
    prometheus,
    alertmanager,
    record: context.record,
    log: context.log,
    selectorsOf,
    everyMs: toMs(spec.poll),
    maxLifetimeMs,
  });
  const supervise = stack?.supervise;
  const supervisor = supervise
    ? new PollLoop({
        poll: supervise,
        everyMs: SUPERVISE_EVERY_MS,
        maxLifetimeMs,
        log: context.log,
        what: "monitoring: the on-node exporters",
      })
    : null;
  return {
    start() {
      watch.start();
      supervisor?.start();
    },
    async stop() {
      await Promise.all([watch.stop(), supervisor?.stop()]);
    },
    async teardown() {
      await Promise.all([watch.stop(), supervisor?.stop()]);
      return stack ? stack.teardown() : [];
    },
  };
}
