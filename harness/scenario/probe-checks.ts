/**
 * What the schema alone cannot say of one probe: a unique name, a sane cadence, options that apply
 * to its connection and driver, and an endpoint its target has.
 */
import { formatMs, toMs } from "../duration.ts";
import type { Path, Report, TargetPlugin } from "../targets/plugin.ts";
import { EVERY_NODE, probeName, type ProbeSpec } from "./probes.ts";
import type { Target } from "./schema.ts";

/** Probes faster than this would measure pgdrill, not the database. */
const MIN_INTERVAL_MS = 10;

export interface ProbeCheckContext {
  target: Target | undefined;
  plugin: TargetPlugin | undefined;
  /** Reports `node` if the target has no such node; true when it has (or the target is unknown). */
  knownNode: (path: Path, node: string) => boolean;
}

/** Checks probe `path`; `names` collects the names seen so far (a second probe of one name is refused). */
export function checkProbe(probe: ProbeSpec, path: Path, context: ProbeCheckContext, report: Report, names: Set<string>): void {
  const { target, plugin, knownNode } = context;
  const name = probeName(probe);
  if (names.has(name)) report([...path, "name"], `a second probe named "${name}"`, 'Give each probe of the same kind its own "name".');
  names.add(name);
  if (toMs(probe.every) < MIN_INTERVAL_MS)
    report([...path, "every"], `${formatMs(toMs(probe.every))} is below ${MIN_INTERVAL_MS} ms`, `Use ${MIN_INTERVAL_MS}ms or more.`);
  for (const key of ["timeout", "connectTimeout"] as const) {
    if (toMs(probe[key]) <= 0) report([...path, key], "must be longer than 0", 'Use e.g. "1s".');
  }
  if (probe.kind === "role") return;
  if (probe.pool !== undefined && probe.connection !== "pool") {
    report(
      [...path, "pool"],
      `applies only with connection "pool" (this probe's is "${probe.connection}")`,
      'Set connection: "pool", or remove pool.',
    );
  }
  checkDriver(probe, path, report);
  if (!target || !plugin) return;
  if (probe.endpoint === "pooler" && !plugin.hasPooler?.(target)) {
    report([...path, "endpoint"], "the target has no pooler", plugin.addPooler ?? 'Use "rw".');
  }
  const endpoints = plugin.probeEndpoints(target);
  if (probe.endpoint === EVERY_NODE) {
    if (!endpoints.includes(EVERY_NODE)) {
      report(
        [...path, "endpoint"],
        `the ${target.kind} target cannot list its nodes' own addresses for "${EVERY_NODE}"`,
        target.kind === "endpoint"
          ? 'Put every host in the connection string (postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write) and probe "rw".'
          : 'Use "rw" (or the container pair, patroni or pg-auto-failover target, whose nodes pgdrill reaches directly).',
      );
    }
  } else if (probe.kind === "select1" && probe.endpoint !== "pooler" && !endpoints.includes(probe.endpoint)) {
    if (plugin.endpointsAreServices) {
      report([...path, "endpoint"], `unknown endpoint "${probe.endpoint}"`, `Use one of ${endpoints.join(", ")} (the cluster's services).`);
    } else {
      knownNode([...path, "endpoint"], probe.endpoint);
    }
  }
}

/**
 * A driver agent connects as its driver does (fresh or held); an application pool is node-postgres's
 * (connection/app-pool.ts), and settings go only to an agent.
 */
function checkDriver(probe: Exclude<ProbeSpec, { kind: "role" }>, path: Path, report: Report): void {
  if (probe.driver !== "node-postgres" && probe.connection === "pool") {
    report(
      [...path, "connection"],
      `"pool" is node-postgres's application pool; the ${probe.driver} agent connects as its driver does`,
      'Use connection: "fresh" or "held" with this driver, or driver: "node-postgres" for a pool.',
    );
  }
  if (probe.driver === "node-postgres" && probe.driverSettings !== undefined) {
    report(
      [...path, "driverSettings"],
      "applies only to a driver agent (libpq, pgjdbc, psycopg); node-postgres takes its settings from the endpoint",
      'Set driver (e.g. driver: "libpq"), or remove driverSettings.',
    );
  }
}
