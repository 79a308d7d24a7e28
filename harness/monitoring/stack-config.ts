/**
 * What the started monitoring stack's containers are told, as pure functions of its options:
 * Prometheus's prometheus.yml, Alertmanager's alertmanager.yml, and each exporter's data source.
 * Nothing here starts anything, so a unit test reads exactly what the containers get.
 */
import { stringify } from "yaml";
import type { MonitoringNode, MonitoringSite } from "../targets/types.ts";

export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const EXPORTER_PORT = 9187;
/** Where the files are copied into the containers (the image's user can read them; nothing writes there). */
export const CONFIG_DIR = "/tmp/pgdrill-monitoring";
export const PROMETHEUS_NAME = "prometheus";
export const ALERTMANAGER_NAME = "alertmanager";

export interface StackTimings {
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
  evaluationIntervalMs: number;
  groupWaitMs: number;
}

/** How the exporter of each node runs, so Prometheus knows where to scrape it. */
export type ExporterMode = "on-node" | "separate";

/** The separate exporter's container (and name on the network) for a node. */
export function exporterName(node: string): string {
  return `exporter-${node}`;
}

/** Where Prometheus finds a node's exporter: inside the node's container, or in a container of its own. */
export function exporterAddress(node: MonitoringNode, mode: ExporterMode): string {
  return `${mode === "on-node" ? node.host : exporterName(node.node)}:${EXPORTER_PORT}`;
}

/**
 * A Prometheus duration ("15s", "1m30s", "250ms"): whole seconds where it can, so the file reads as
 * a person writes it.
 */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`a Prometheus duration must be a positive whole number of ms, not ${ms}`);
  if (ms % 1000 !== 0) return `${ms}ms`;
  const seconds = ms / 1000;
  const parts: string[] = [];
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  if (seconds % 60 > 0) parts.push(`${seconds % 60}s`);
  return parts.join("");
}

/**
 * prometheus.yml: the timings, the user's rules, Alertmanager on the network, one `postgres` target per
 * node's exporter and the site's other metrics endpoints, every series labelled with its node (and the
 * node as its instance, so an alert names the node rather than an address).
 */
export function prometheusConfig(site: MonitoringSite, mode: ExporterMode, timings: StackTimings): string {
  const byJob = new Map<string, Array<{ node: string; address: string }>>();
  byJob.set(
    "postgres",
    site.nodes.map((node) => ({ node: node.node, address: exporterAddress(node, mode) })),
  );
  for (const entry of site.scrape) byJob.set(entry.job, [...(byJob.get(entry.job) ?? []), entry]);
  const config = {
    global: {
      scrape_interval: promDuration(timings.scrapeIntervalMs),
      scrape_timeout: promDuration(timings.scrapeTimeoutMs),
      evaluation_interval: promDuration(timings.evaluationIntervalMs),
    },
    rule_files: [`${CONFIG_DIR}/rules.yml`],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`${ALERTMANAGER_NAME}:${ALERTMANAGER_PORT}`] }] }] },
    scrape_configs: [...byJob].map(([job, targets]) => ({
      job_name: job,
      static_configs: targets.map((target) => ({ targets: [target.address], labels: { node: target.node, instance: target.node } })),
    })),
  };
  return stringify(config);
}

/**
 * alertmanager.yml: every alert to a receiver that sends nothing (pgdrill reads Alertmanager's API),
 * after the scenario's group_wait.
 */
export function alertmanagerConfig(timings: Pick<StackTimings, "groupWaitMs">): string {
  const config = {
    route: { receiver: "null", group_by: ["alertname"], group_wait: promDuration(timings.groupWaitMs) },
    receivers: [{ name: "null" }],
  };
  return stringify(config);
}

/**
 * The exporter's DATA_SOURCE_NAME for a node: from inside its container (on-node, over loopback) or
 * across the network (separate); the password percent-encoded, TLS as the node needs.
 */
export function dataSourceName(node: MonitoringNode, mode: ExporterMode): string {
  const host = mode === "on-node" ? "127.0.0.1" : node.host;
  const user = encodeURIComponent(node.user);
  const password = encodeURIComponent(node.password);
  return `postgresql://${user}:${password}@${host}:${node.port}/postgres?sslmode=${node.sslmode ?? "disable"}`;
}

/**
 * Prometheus refuses a scrape timeout longer than the scrape interval; said here with the field the
 * scenario names and the fix, before a container prints it.
 */
export function timingProblem(timings: StackTimings): { field: string; problem: string; fix: string } | null {
  const { scrapeIntervalMs, scrapeTimeoutMs, evaluationIntervalMs, groupWaitMs } = timings;
  for (const [name, ms] of Object.entries({ scrapeIntervalMs, scrapeTimeoutMs, evaluationIntervalMs, groupWaitMs })) {
    const field = `monitoring.start.${name.replace(/Ms$/, "")}`;
    if (!Number.isInteger(ms) || ms <= 0)
      return { field, problem: `must be a positive duration (got ${ms} ms)`, fix: "Give one such as 15s." };
  }
  if (scrapeTimeoutMs > scrapeIntervalMs)
    return {
      field: "monitoring.start.scrapeTimeout",
      problem: `${promDuration(scrapeTimeoutMs)} is longer than monitoring.start.scrapeInterval (${promDuration(scrapeIntervalMs)})`,
      fix: "Prometheus refuses that: make the timeout at most the interval.",
    };
  return null;
}
