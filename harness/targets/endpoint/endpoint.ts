/**
 * Target: an existing endpoint, as the application reaches it (DATABASE_URL, and
 * DATABASE_READ_REPLICA_URL for a replica: libpq connection strings, several hosts too),
 * typically a managed service. pgdrill starts nothing and cannot fail the service over itself:
 * the scenario's `command` faults do (the provider's CLI). What it owns on the server is one
 * schema per run, `pgdrill_<run id>`, made only when the scenario allows writes, commented with
 * its owner, and dropped at the end — or, if the run was killed, by the next run on the same
 * endpoint.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { toMs } from "../../duration.ts";
import { HarnessError, InputError } from "../../errors.ts";
import { hostsText, parseConnInfo } from "../../connection/conninfo.ts";
import { libpqEndpoint } from "../../connection/libpq-endpoint.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { describeError } from "../../connection/errors.ts";
import { Session } from "../../connection/session.ts";
import { forgetOwner, ownerGone, ownerOf, recordOwner, thisProcess, type Owner } from "../shared/owners.ts";
import type { ProbeSpec } from "../../scenario/probes.ts";
import type { EndpointTarget } from "./plugin.ts";
import type { StartedTopology, Topology, TopologyStartOptions } from "../types.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

/** Where each URL comes from, for messages: the scenario, or the variable the seed guide documents. */
interface ResolvedUrls {
  primary: { url: string; from: string };
  replica: { url: string; from: string } | null;
}

/**
 * What the user calls the scenario's own URL fields in messages and the History: `target.url` in a scenario; `pgdrill watch`
 * names its URL argument and --read-replica instead, which its user typed.
 */
export interface UrlSources {
  url: string;
  readReplicaUrl: string;
}
const SCENARIO_SOURCES: UrlSources = { url: "target.url", readReplicaUrl: "target.readReplicaUrl" };

/** Reads the connection strings now (scenario first, then the environment) and refuses what libpq would refuse. */
export function resolveEndpointUrls(spec: EndpointTarget, sources: UrlSources = SCENARIO_SOURCES): ResolvedUrls {
  const primary = spec.url ?? process.env.DATABASE_URL;
  if (!primary) {
    throw new InputError(
      "target.url",
      "no URL: the scenario gives none and DATABASE_URL is not set",
      "Export DATABASE_URL (postgresql://user:password@host:5432/db) or set target.url.",
    );
  }
  // false: no replica, and the environment is not read for one (`pgdrill watch` talks only to the URLs it was given).
  const replica = spec.readReplicaUrl === false ? undefined : (spec.readReplicaUrl ?? process.env.DATABASE_READ_REPLICA_URL);
  const resolved: ResolvedUrls = {
    primary: { url: primary, from: spec.url ? sources.url : "DATABASE_URL" },
    replica: replica ? { url: replica, from: spec.readReplicaUrl ? sources.readReplicaUrl : "DATABASE_READ_REPLICA_URL" } : null,
  };
  for (const { url, from } of [resolved.primary, ...(resolved.replica ? [resolved.replica] : [])]) toEndpoint("check", url, from, spec);
  return resolved;
}

/**
 * One connection string (a URI, multi-host too, or keyword/value pairs, as libpq reads them) as
 * pgdrill's Endpoint, with the scenario's TLS options over the string's own.
 */
export function toEndpoint(node: string, url: string, from: string, spec: EndpointTarget): Endpoint {
  const endpoint = libpqEndpoint(parseConnInfo(url, from), node, from);
  if (!spec.ssl) return endpoint;
  let ca: string | undefined;
  if (spec.ssl.ca) {
    try {
      ca = readFileSync(spec.ssl.ca, "utf8");
    } catch {
      throw new InputError("target.ssl.ca", `cannot read "${spec.ssl.ca}"`, "Point it at a PEM file with the CA certificates to trust.");
    }
  }
  const ssl = endpoint.ssl;
  return {
    ...endpoint,
    ssl: { ...(typeof ssl === "object" ? ssl : {}), rejectUnauthorized: spec.ssl.rejectUnauthorized, ...(ca ? { ca } : {}) },
  };
}

/** Probes that read from the replica need its URL; refused before anything starts, not op by op. */
export function checkReplicaReaders(urls: ResolvedUrls, probes: readonly ProbeSpec[]): void {
  if (urls.replica) return;
  const index = probes.findIndex((probe) => probe.kind === "select1" && (probe.endpoint === "ro" || probe.endpoint === "replica"));
  if (index >= 0) {
    throw new InputError(
      `probes[${index}].endpoint`,
      `reads from the replica, but no replica URL is given`,
      'Export DATABASE_READ_REPLICA_URL or set target.readReplicaUrl, or probe "rw".',
    );
  }
}

export function endpointTopology(spec: EndpointTarget, probes: readonly ProbeSpec[] = [], sources?: UrlSources): Topology {
  const urls = resolveEndpointUrls(spec, sources);
  checkReplicaReaders(urls, probes);
  const nodes = urls.replica ? ["primary", "replica"] : ["primary"];
  return { kind: "endpoint", nodes, initialPrimary: "primary", start: (options) => startEndpoint(spec, urls, nodes, options) };
}

interface ServerIdentity {
  server: string;
  version: string;
  recovery: boolean;
  /** With several hosts (or target_session_attrs): which answered, and which were passed over. */
  dialed?: string | undefined;
  skipped: readonly string[];
}

/** host:port, or every host of a multi-host string with the attributes it asks for. */
function where(endpoint: Endpoint): string {
  const hosts = endpoint.hosts ? hostsText(endpoint.hosts) : `${endpoint.host}:${endpoint.port}`;
  const attrs = [
    ...(endpoint.targetSessionAttrs ? [`target_session_attrs=${endpoint.targetSessionAttrs}`] : []),
    ...(endpoint.loadBalanceHosts ? [`load_balance_hosts=${endpoint.loadBalanceHosts}`] : []),
  ];
  return attrs.length ? `${hosts} [${attrs.join(" ")}]` : hosts;
}

const IDENTITY_QUERY =
  "SELECT coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket') AS server, " +
  "current_setting('server_version') AS version, pg_is_in_recovery() AS recovery";

async function startEndpoint(
  spec: EndpointTarget,
  urls: ResolvedUrls,
  nodes: string[],
  options: TopologyStartOptions,
): Promise<StartedTopology> {
  const endpoints = new Map<string, Endpoint>([["primary", toEndpoint("primary", urls.primary.url, urls.primary.from, spec)]]);
  if (urls.replica) endpoints.set("replica", toEndpoint("replica", urls.replica.url, urls.replica.from, spec));
  const deadline = Date.now() + toMs(spec.startupTimeout);
  for (const [node, endpoint] of endpoints) {
    const identity = await identify(endpoint, deadline, options.signal);
    const from = node === "primary" ? urls.primary.from : urls.replica!.from;
    const passedOver = identity.skipped.length ? ` (passed over ${identity.skipped.join("; ")})` : "";
    options.log(
      `endpoint ${node} (${from}): ${endpoint.user}@${where(endpoint)}/${endpoint.database}${endpoint.ssl ? " over TLS" : ""}` +
        `${identity.dialed ? ` → ${identity.dialed}${passedOver}` : ""}` +
        ` → server ${identity.server}, PostgreSQL ${identity.version}${identity.recovery ? ", in recovery" : ", primary"}`,
    );
    // A standby may be watched, read-only; writes need the primary.
    if (node === "primary" && identity.recovery && spec.allowWrites) {
      const fix = endpoint.hosts ? " (or add target_session_attrs=read-write to the string, as applications with several hosts do)" : "";
      throw new HarnessError(
        `${from} reaches a server in recovery (a standby), and tracked writes need the primary: point it at the primary ` +
          `endpoint the application writes to${fix}, or drop the writes (allowWrites, --writes) to observe it read-only`,
      );
    }
    if (node === "primary" && identity.recovery) {
      options.log(`endpoint ${node} (${from}) is a standby: observing it read-only (SELECT 1 and who answers; nothing is written)`);
    }
  }
  const started = new StartedEndpoint(endpoints, nodes);
  if (spec.allowWrites) await started.claimSchema(options);
  return started;
}

/** Retries until the endpoint answers or the start-up timeout passes. */
async function identify(endpoint: Endpoint, deadline: number, signal: AbortSignal | undefined): Promise<ServerIdentity> {
  return pollUntil<ServerIdentity>(
    async () => {
      let session: Session;
      try {
        session = await Session.connect(endpoint, { connectTimeoutMs: 5000, applicationName: "pgdrill-setup" });
      } catch (error) {
        return notYet(describeError(error));
      }
      try {
        const row = (await session.query<Omit<ServerIdentity, "dialed" | "skipped">>(IDENTITY_QUERY, [], 5000)).rows[0]!;
        return done({ ...row, dialed: session.dialed, skipped: session.skipped });
      } catch (error) {
        return notYet(describeError(error));
      } finally {
        await session.close();
      }
    },
    {
      deadline,
      everyMs: 500,
      signal,
      gaveUp: (last) => new HarnessError(`the endpoint ${where(endpoint)} did not answer before the start-up timeout (${last})`),
    },
  );
}

/** Schema names pgdrill makes on an endpoint: the prefix is how a later run finds leftovers. */
const SCHEMA_PREFIX = "pgdrill_";

class StartedEndpoint implements StartedTopology {
  readonly kind = "endpoint";
  readonly nodes: readonly string[];
  readonly rwNode = "primary";
  private readonly endpoints: Map<string, Endpoint>;
  private schema: string | undefined;
  private runId = "?";
  private tornDown = false;

  constructor(endpoints: Map<string, Endpoint>, nodes: string[]) {
    this.endpoints = endpoints;
    this.nodes = nodes;
  }

  get drillSchema(): string | undefined {
    return this.schema;
  }

  endpoint(name: string): Endpoint {
    const node = name === "rw" ? "primary" : name === "ro" ? "replica" : name;
    const endpoint = this.endpoints.get(node);
    if (!endpoint)
      throw new HarnessError(
        node === "replica"
          ? "no read replica: set DATABASE_READ_REPLICA_URL or target.readReplicaUrl"
          : `no node "${name}" on this endpoint`,
      );
    return endpoint;
  }

  /** A managed service is failed over by its provider: pgdrill controls nothing of it (command faults need no control). */
  readonly controls = {};

  /** The endpoint's nodes keep their names ("replica" is the read replica URL). */
  async resolve(node: string): Promise<string> {
    return node;
  }

  redact(text: string): string {
    let masked = text;
    for (const { password } of this.endpoints.values()) {
      if (password.length >= 4) masked = masked.split(password).join("***");
    }
    return masked;
  }

  /**
   * Creates this run's schema, after dropping those of runs that were killed (their owner, in the
   * schema's comment, is a process on this host that has exited). Nothing else is touched.
   */
  async claimSchema(options: TopologyStartOptions): Promise<void> {
    const schema = `${SCHEMA_PREFIX}${options.runId.toLowerCase().replace(/[^a-z0-9]/g, "_")}`;
    this.runId = options.runId;
    await this.onPrimary(async (session) => {
      const found = await session.query<{ name: string; comment: string | null }>(
        "SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE starts_with(nspname, $1)",
        [SCHEMA_PREFIX],
        10_000,
      );
      for (const { name, comment } of found.rows) {
        const owner = parseOwner(comment);
        if (owner && ownerGone(owner)) {
          await session.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`, [], 30_000);
          options.log(`endpoint: dropped schema ${name}, ${leftBy(name, owner.runId ?? "?")}`);
        }
      }
      await session.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`, [], 10_000);
      const owner = JSON.stringify({ tool: "pgdrill", runId: options.runId, ...thisProcess() });
      await session.query(`COMMENT ON SCHEMA ${pg.escapeIdentifier(schema)} IS ${pg.escapeLiteral(owner)}`, [], 10_000);
    });
    this.schema = schema;
    options.log(`endpoint: created schema ${schema} for the drill's table (dropped after the drill)`);
  }

  async teardown(): Promise<string[]> {
    if (this.tornDown || !this.schema) return [];
    this.tornDown = true;
    const schema = this.schema;
    try {
      await this.onPrimary((session) => session.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`, [], 30_000));
      return [`schema ${schema}`];
    } catch (error) {
      // Never throws: the next run on this endpoint drops it (its owner will have exited), and
      // says this run ended and tried, which a killed run did not.
      recordOwner(undroppedNote(schema), this.runId);
      return [
        `nothing: schema ${schema} could not be dropped (${describeError(error)}); the next run on this endpoint from this host drops it`,
      ];
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  private async onPrimary<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const session = await Session.connect(this.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "pgdrill-setup" });
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }
}

/** The owners' record that a run ended and could not drop its schema (teardown). */
const undroppedNote = (schema: string) => `endpoint-undropped-${schema}`;

/**
 * Whose schema the next run drops: a run that ended (completed or errored) and could not drop it
 * at its end is not called killed; a run with no such note was killed before its teardown.
 */
function leftBy(schema: string, runId: string): string {
  const note = ownerOf(undroppedNote(schema));
  if (!note) return `left by killed run ${runId}`;
  forgetOwner(undroppedNote(schema));
  return `left by run ${runId}, which ended but could not drop it then (the server did not answer its teardown)`;
}

function parseOwner(comment: string | null): (Owner & { runId?: string }) | null {
  if (!comment) return null;
  try {
    const owner = JSON.parse(comment) as { tool?: string; pid?: number; host?: string; runId?: string; start?: string; boot?: string };
    if (owner.tool !== "pgdrill" || typeof owner.pid !== "number" || typeof owner.host !== "string") return null;
    // start and boot (from newer runs) let ownerGone tell a reused pid from the run that wrote it.
    return {
      pid: owner.pid,
      host: owner.host,
      ...(typeof owner.start === "string" ? { start: owner.start } : {}),
      ...(typeof owner.boot === "string" ? { boot: owner.boot } : {}),
      ...(owner.runId ? { runId: owner.runId } : {}),
    };
  } catch {
    return null;
  }
}
