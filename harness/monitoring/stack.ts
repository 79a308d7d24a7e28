/**
 * The monitoring stack pgdrill starts beside a container target: Prometheus and Alertmanager from
 * pgdrill's image (Debian's packages) on the target's own Docker network, and a postgres_exporter
 * for each PostgreSQL node, inside the node's container ("on-node", as a host runs it) or in one of
 * its own ("separate"). Its containers carry the run's labels, so the target's teardown and
 * `pgdrill reap` find them; its own teardown removes exactly what it started. Prometheus and
 * Alertmanager answer on 127.0.0.1 only, where the drill reads their APIs.
 */
import { Wait, type GenericContainer } from "testcontainers";
import { HarnessError, InputError, errorMessage } from "../errors.ts";
import { PrivateNetworkContainer } from "../targets/shared/container-node.ts";
import { LABELS, dockerClient, runLabels, type Docker } from "../targets/shared/docker.ts";
import { done, notYet, pollUntil } from "../targets/shared/poll.ts";
import { demux, startNamed } from "../targets/shared/start-named.ts";
import type { MonitoringSite } from "../targets/types.ts";
import { OnNodeExporters, keyLines, within } from "./node-exporter.ts";
import {
  ALERTMANAGER_NAME,
  ALERTMANAGER_PORT,
  CONFIG_DIR,
  EXPORTER_PORT,
  PROMETHEUS_NAME,
  PROMETHEUS_PORT,
  alertmanagerConfig,
  dataSourceName,
  exporterName,
  prometheusConfig,
  timingProblem,
  type ExporterMode,
  type StackTimings,
} from "./stack-config.ts";

export interface MonitoringStackOptions extends StackTimings {
  runId: string;
  scenarioName: string;
  site: MonitoringSite;
  /** An image with Debian's prometheus, prometheus-alertmanager and prometheus-postgres-exporter (pgdrill's local image). */
  image: string;
  /** The Prometheus rules file, as loaded (the user's, or the seed guide's). */
  rulesText: string;
  exporter: ExporterMode;
  log: (line: string) => void;
  signal?: AbortSignal | undefined;
}

export interface StartedMonitoringStack {
  /** http://127.0.0.1:<port>, Prometheus's HTTP API. */
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  /** From the first container to every target scraped once, with `pg_up` 1 on every node (ms). */
  readonly startupMs: number;
  /** Removes everything it started (containers, on-node exporters); idempotent, never throws. */
  teardown(): Promise<string[]>;
  /** On-node exporters only: starts one again where its node's container runs again (call it every poll). */
  supervise?: () => Promise<void>;
}

const STARTING = "pgdrill-monitoring: starting";
/** Prometheus and Alertmanager answer /-/ready within this (their start is a second or two). */
const READY_TIMEOUT_MS = 60_000;
/** Beyond the scrape interval: how long the first scrape of every target may take to say all is well. */
const SCRAPED_SLACK_MS = 20_000;

/** Starts the stack; on any failure removes what it started and says what each container printed. */
export async function startMonitoringStack(options: MonitoringStackOptions): Promise<StartedMonitoringStack> {
  const problem = timingProblem(options);
  if (problem) throw new InputError(problem.field, problem.problem, problem.fix);
  if (options.site.nodes.length === 0) throw new HarnessError("the target named no PostgreSQL node to monitor");
  const docker = await dockerClient();
  const names = new Map<string, string>();
  const onNode =
    options.exporter === "on-node"
      ? new OnNodeExporters({
          docker,
          image: options.image,
          runId: options.runId,
          scenario: options.scenarioName,
          nodes: options.site.nodes,
          log: options.log,
        })
      : null;
  const teardown = once(() => removeStarted(docker, names, onNode));
  const t0 = Date.now();
  try {
    const labels = runLabels(options.runId, options.scenarioName);
    const ours = (name: string, script: string) => {
      names.set(name, `pgdrill-${options.runId}-${name}`);
      return new PrivateNetworkContainer(options.image, options.site.network, name)
        .withName(`pgdrill-${options.runId}-${name}`)
        .withLabels({ ...labels, [LABELS.node]: name })
        .withEntrypoint(["/bin/sh", "-c", script, "pgdrill-monitoring"])
        .withWaitStrategy(Wait.forLogMessage(STARTING))
        .withStartupTimeout(READY_TIMEOUT_MS);
    };
    const start = (container: GenericContainer, name: string) => {
      if (options.signal?.aborted) throw new HarnessError("interrupted while starting the monitoring stack");
      return startNamed(docker, container, name);
    };

    // The exporters first, so Prometheus's first scrape finds them.
    if (onNode) await onNode.start();
    else {
      await Promise.all(
        options.site.nodes.map((node) =>
          start(
            ours(
              exporterName(node.node),
              launcher("prometheus-postgres-exporter", `--web.listen-address=:${EXPORTER_PORT}`),
            ).withEnvironment({
              DATA_SOURCE_NAME: dataSourceName(node, "separate"),
            }),
            exporterName(node.node),
          ),
        ),
      );
    }
    const prometheusFlags = [
      `--config.file=${CONFIG_DIR}/prometheus.yml`,
      "--storage.tsdb.path=/tmp/prometheus",
      `--web.listen-address=:${PROMETHEUS_PORT}`,
      "--web.enable-lifecycle",
    ];
    const alertmanagerFlags = [
      `--config.file=${CONFIG_DIR}/alertmanager.yml`,
      "--storage.path=/tmp/alertmanager",
      `--web.listen-address=:${ALERTMANAGER_PORT}`,
      // One Alertmanager, no gossip: nothing to wait for before it sends.
      "--cluster.listen-address=",
    ];
    const [prometheus, alertmanager] = await Promise.all([
      start(
        ours(PROMETHEUS_NAME, launcher("prometheus", ...prometheusFlags))
          .withExposedPorts(PROMETHEUS_PORT)
          .withCopyContentToContainer([
            { content: prometheusConfig(options.site, options.exporter, options), target: `${CONFIG_DIR}/prometheus.yml`, mode: 0o644 },
            { content: options.rulesText, target: `${CONFIG_DIR}/rules.yml`, mode: 0o644 },
          ]),
        PROMETHEUS_NAME,
      ),
      start(
        ours(ALERTMANAGER_NAME, launcher("prometheus-alertmanager", ...alertmanagerFlags))
          .withExposedPorts(ALERTMANAGER_PORT)
          .withCopyContentToContainer([{ content: alertmanagerConfig(options), target: `${CONFIG_DIR}/alertmanager.yml`, mode: 0o644 }]),
        ALERTMANAGER_NAME,
      ),
    ]);
    const prometheusUrl = `http://127.0.0.1:${prometheus.getMappedPort(PROMETHEUS_PORT)}`;
    const alertmanagerUrl = `http://127.0.0.1:${alertmanager.getMappedPort(ALERTMANAGER_PORT)}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    await Promise.all([
      untilReady(
        docker,
        { name: "Prometheus", container: prometheus.getId(), url: prometheusUrl, field: "monitoring.start.rules" },
        deadline,
        options.signal,
      ),
      untilReady(
        docker,
        { name: "Alertmanager", container: alertmanager.getId(), url: alertmanagerUrl, field: null },
        deadline,
        options.signal,
      ),
    ]);
    const readyMs = Date.now() - t0;
    await untilScraped(docker, options, prometheusUrl, names, onNode);
    const startupMs = Date.now() - t0;
    options.log(
      `monitoring: Prometheus ${prometheusUrl} and Alertmanager ${alertmanagerUrl} ready in ${readyMs} ms; every target scraped, ` +
        `pg_up 1 on ${options.site.nodes.map((node) => node.node).join(", ")} after ${startupMs} ms (exporter ${options.exporter})`,
    );
    return { prometheusUrl, alertmanagerUrl, startupMs, teardown, ...(onNode ? { supervise: () => onNode.supervise() } : {}) };
  } catch (error) {
    await teardown();
    if (error instanceof InputError) throw error;
    throw new HarnessError(`could not start the monitoring stack: ${redact(errorMessage(error), options.site)}`, { cause: error });
  }
}

/** The container's command: say that it starts (the wait strategy's line), or why it cannot (no such binary in the image). */
function launcher(binary: string, ...flags: string[]): string {
  return (
    `bin=$(command -v ${binary}) || { echo "pgdrill-monitoring: no ${binary} in this image: rebuild pgdrill's local image ` +
    `(bash fixtures/image/build-local-image.sh)"; exit 3; }; echo "${STARTING} ${binary}"; ` +
    `exec "$bin" ${flags.map((flag) => `'${flag}'`).join(" ")}`
  );
}

/** Polls /-/ready; a container that exited fails at once, and any failure says what the container printed. */
async function untilReady(
  docker: Docker,
  which: { name: string; container: string; url: string; field: string | null },
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const failed = async (why: string) => {
    const output = await printed(docker, which.container);
    return new HarnessError(`${which.name} ${why}${output ? `; it printed:\n${output}` : ""}`);
  };
  let exited: number | null = null;
  const last = await pollUntil(
    async () => {
      const answer = await httpGet(`${which.url}/-/ready`);
      if (answer.status === 200) return done(null);
      const state = (await docker.getContainer(which.container).inspect()).State;
      if (!state.Running) {
        exited = state.ExitCode;
        return done(`exited`);
      }
      return notYet(answer.status === null ? answer.body : `HTTP ${answer.status} ${answer.body.trim()}`);
    },
    {
      deadline,
      everyMs: 100,
      signal,
      gaveUp: (why) => new Error(why),
      aborted: () => new HarnessError(`interrupted while waiting for ${which.name}`),
    },
  ).catch((error: unknown) => {
    if (error instanceof HarnessError) throw error;
    return errorMessage(error);
  });
  if (last === null) return;
  if (exited !== null) {
    const blame = which.field ? ` (its configuration or the rules in ${which.field} were refused)` : "";
    throw await failed(`exited with code ${exited} before it was ready${blame}`);
  }
  throw await failed(`did not answer /-/ready within ${READY_TIMEOUT_MS} ms (${last})`);
}

interface ActiveTarget {
  labels: Record<string, string>;
  health: "up" | "down" | "unknown";
  lastError: string;
}

/**
 * Until Prometheus has scraped every target once and each is up, and every node's `pg_up` is 1: what
 * the rules read exists before the drill looks for missing metrics, and an exporter that cannot log
 * in is a set-up error, not an alert the fault caused.
 */
async function untilScraped(
  docker: Docker,
  options: MonitoringStackOptions,
  prometheusUrl: string,
  names: Map<string, string>,
  onNode: OnNodeExporters | null,
): Promise<void> {
  const expected = options.site.nodes.length + options.site.scrape.length;
  let problemNodes: string[] = [];
  await pollUntil(
    async () => {
      const targets = await apiData<{ activeTargets: ActiveTarget[] }>(`${prometheusUrl}/api/v1/targets?state=active`);
      if (typeof targets === "string") return notYet(targets);
      const active = targets.activeTargets;
      if (active.length < expected) return notYet(`Prometheus knows ${active.length} of ${expected} targets`);
      const notUp = active.filter((target) => target.health !== "up");
      problemNodes = notUp.filter((target) => target.labels.job === "postgres").map((target) => target.labels.node ?? "");
      if (notUp.length > 0) return notYet(notUp.map(describeTarget).join("; "));
      const pgUp = await apiData<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `${prometheusUrl}/api/v1/query?query=pg_up`,
      );
      if (typeof pgUp === "string") return notYet(pgUp);
      const up = new Map(pgUp.result.map((series) => [series.metric.node ?? "", series.value[1]]));
      problemNodes = options.site.nodes.map((node) => node.node).filter((node) => up.get(node) !== "1");
      if (problemNodes.length > 0)
        return notYet(
          problemNodes.map((node) => `${node}: pg_up ${up.get(node) ?? "absent"} (its exporter cannot log in to PostgreSQL)`).join("; "),
        );
      return done(undefined);
    },
    {
      deadline: Date.now() + 2 * options.scrapeIntervalMs + options.scrapeTimeoutMs + SCRAPED_SLACK_MS,
      everyMs: 200,
      signal: options.signal,
      before: "Prometheus has not answered yet",
      gaveUp: (last) => new HarnessError(`Prometheus did not scrape every target with pg_up 1 in time: ${last}`),
      aborted: () => new HarnessError("interrupted while waiting for Prometheus's first scrape"),
    },
  ).catch(async (error: unknown) => {
    // What the exporters of the nodes at fault printed is the evidence (a refused password, TLS required).
    const printedBy = await Promise.all(
      problemNodes.map(async (node) => {
        // It says the same every scrape: its last few lines are enough.
        const output = onNode ? await onNode.printed(node, 4) : await printed(docker, names.get(exporterName(node)) ?? "", 4);
        return output ? `\npostgres_exporter on ${node} printed:\n${output}` : "";
      }),
    );
    if (error instanceof HarnessError) throw new HarnessError(`${error.message}${printedBy.join("")}`, { cause: error });
    throw error;
  });
}

function describeTarget(target: ActiveTarget): string {
  const what = `${target.labels.job ?? "?"} on ${target.labels.node ?? target.labels.instance ?? "?"}`;
  return target.health === "unknown" ? `${what} not scraped yet` : `${what} down (${target.lastError || "no error given"})`;
}

/** A Prometheus API answer's `data`, or why there is none. */
async function apiData<T>(url: string): Promise<T | string> {
  const answer = await httpGet(url);
  if (answer.status !== 200) return answer.status === null ? answer.body : `HTTP ${answer.status} from ${url}`;
  try {
    const parsed = JSON.parse(answer.body) as { status?: string; data?: T; error?: string };
    return parsed.status === "success" && parsed.data !== undefined
      ? parsed.data
      : `Prometheus said ${parsed.error ?? answer.body.slice(0, 200)}`;
  } catch {
    return `not JSON from ${url}`;
  }
}

/** GET with a short timeout; status null and the reason when nothing answered. */
async function httpGet(url: string): Promise<{ status: number | null; body: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { status: null, body: `${errorMessage(error)}${cause}` };
  }
}

/** Removes the containers it named (each may or may not have been made) and stops the on-node exporters. */
async function removeStarted(docker: Docker, names: Map<string, string>, onNode: OnNodeExporters | null): Promise<string[]> {
  await onNode?.stop();
  const removed = await Promise.all(
    [...names.values()].map(async (name) => {
      try {
        await within(docker.getContainer(name).remove({ force: true, v: true }), 30_000);
        return `container ${name}`;
      } catch {
        // Not made, or already removed (the target's teardown removes the run's containers too).
        return null;
      }
    }),
  );
  return removed.filter((name) => name !== null);
}

/** What a container printed that matters (stdout and stderr), or "" when it cannot be read. */
async function printed(docker: Docker, container: string, max = 8): Promise<string> {
  if (container === "") return "";
  try {
    const logs = await within(docker.getContainer(container).logs({ stdout: true, stderr: true, tail: 50, follow: false }), 5000);
    return keyLines(demux(Buffer.from(logs)), max);
  } catch {
    return "";
  }
}

function redact(text: string, site: MonitoringSite): string {
  return site.nodes.reduce((masked, node) => (node.password ? masked.split(node.password).join("***") : masked), text);
}

/** The first call runs `run`; later ones get its result, or [] once it is done, as a teardown should. */
function once(run: () => Promise<string[]>): () => Promise<string[]> {
  let started: Promise<string[]> | null = null;
  return async () => {
    if (started) {
      await started.catch(() => undefined);
      return [];
    }
    started = run().catch(() => []);
    return started;
  };
}
