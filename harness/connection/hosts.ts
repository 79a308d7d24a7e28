/**
 * libpq's multi-host connecting, for node-postgres (which has none: node-postgres#1470): the hosts
 * are tried in order (shuffled per connection with load_balance_hosts=random), each with its own
 * connect timeout (libpq's connect_timeout is per host), until one answers and fits
 * target_session_attrs. Whether it fits is read as libpq reads it: from `in_hot_standby` and
 * `default_transaction_read_only`, which PostgreSQL 14+ reports at startup, else by asking (`SHOW
 * transaction_read_only`, `SELECT pg_is_in_recovery()`). prefer-standby tries for a standby first,
 * then any server. As libpq does, a server that refuses the startup itself (bad password, a FATAL)
 * ends the attempt: the remaining hosts are not tried.
 *
 * What was passed over, and why, is kept: "host:port: connection refused", "…: in recovery
 * (in_hot_standby=on)", "…: timed out after 1 s".
 */
import type pg from "pg";
import { destroy, openClient, withDeadline, type ClientOptions, type OpenClient } from "./client.ts";
import type { Endpoint, HostPort, TargetSessionAttrs } from "./endpoint.ts";
import { DeadlineError, describeError, isServerError } from "./errors.ts";
import { hostPortText } from "./conninfo.ts";

export interface Dialed {
  client: pg.Client;
  host: HostPort;
  /** Hosts tried and passed over before it, each "host:port: why". */
  skipped: string[];
}

/** No host could be used; `skipped` says what happened at each one tried. The message never holds a password. */
export class HostsError extends Error {
  override readonly name = "HostsError";
  readonly skipped: readonly string[];
  constructor(message: string, skipped: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.skipped = skipped;
  }
}

/** Whether an endpoint needs this dialer: several hosts, or a session attribute to check. */
export function isMultiHost(endpoint: Endpoint): boolean {
  return (endpoint.hosts?.length ?? 0) > 1 || (endpoint.targetSessionAttrs ?? "any") !== "any";
}

export async function dialHosts(endpoint: Endpoint, options: ClientOptions): Promise<Dialed> {
  const listed = endpoint.hosts && endpoint.hosts.length > 0 ? endpoint.hosts : [{ host: endpoint.host, port: endpoint.port }];
  const order = endpoint.loadBalanceHosts === "random" ? shuffled(listed) : listed;
  const attrs = endpoint.targetSessionAttrs ?? "any";
  const timeoutMs = endpoint.connectTimeoutMs ?? options.connectTimeoutMs;
  const skipped: string[] = [];
  for (const want of attrs === "prefer-standby" ? (["standby", "any"] as const) : [attrs]) {
    for (const host of order) {
      const label = hostPortText(host);
      let opened: OpenClient;
      try {
        opened = await openClient({ ...endpoint, host: host.host, port: host.port }, { ...options, connectTimeoutMs: timeoutMs });
      } catch (error) {
        skipped.push(`${label}: ${whyNot(error, timeoutMs)}`);
        if (isServerError(error)) {
          throw new HostsError(`${label} refused the connection (${describeError(error)}); libpq tries no further host`, skipped, {
            cause: error,
          });
        }
        continue;
      }
      const mismatch = await misfit(opened, want, timeoutMs).catch((error: unknown) => `could not check: ${whyNot(error)}`);
      if (mismatch === null) return { client: opened.client, host, skipped };
      skipped.push(`${label}: ${mismatch}`);
      await withDeadline(opened.client.end(), 500, "close", false, () => destroy(opened.client)).catch(() => destroy(opened.client));
    }
  }
  const wanted = attrs === "any" ? "answered" : `fits target_session_attrs=${attrs}`;
  throw new HostsError(`no host ${wanted}: ${skipped.join("; ")}`, skipped);
}

/** Why the server does not fit `want`, or null when it does. */
async function misfit({ client, parameters }: OpenClient, want: TargetSessionAttrs, timeoutMs: number): Promise<string | null> {
  if (want === "any") return null;
  const hotStandby = parameters.get("in_hot_standby");
  if (want === "read-write" || want === "read-only") {
    const defaultReadOnly = parameters.get("default_transaction_read_only");
    let readOnly: string | null;
    if (hotStandby !== undefined && defaultReadOnly !== undefined) {
      readOnly =
        hotStandby === "on"
          ? "in recovery (in_hot_standby=on)"
          : defaultReadOnly === "on"
            ? "read-only (default_transaction_read_only=on)"
            : null;
    } else {
      const value = await ask<{ transaction_read_only: string }>(client, "SHOW transaction_read_only", timeoutMs);
      readOnly = value.transaction_read_only === "on" ? "read-only (transaction_read_only=on)" : null;
    }
    if (want === "read-write") return readOnly;
    return readOnly === null ? "read-write (not read-only)" : null;
  }
  const inRecovery =
    hotStandby !== undefined
      ? hotStandby === "on"
      : (await ask<{ recovery: boolean }>(client, "SELECT pg_catalog.pg_is_in_recovery() AS recovery", timeoutMs)).recovery;
  const how = hotStandby !== undefined ? "in_hot_standby" : "pg_is_in_recovery()";
  if (want === "primary") return inRecovery ? `in recovery (${how}=${hotStandby ?? "true"})` : null;
  return inRecovery ? null : `not in recovery (${how}=${hotStandby ?? "false"})`;
}

async function ask<R extends pg.QueryResultRow>(client: pg.Client, sql: string, timeoutMs: number): Promise<R> {
  const result = await withDeadline(client.query<R>(sql), timeoutMs, "query", true, () => destroy(client));
  const row = result.rows[0];
  if (!row) throw new Error(`${sql} returned no row`);
  return row;
}

/** Short, as libpq would say it: refused, timed out after N s, the server's SQLSTATE and message. */
export function whyNot(error: unknown, timeoutMs?: number): string {
  const timedOut =
    timeoutMs === undefined ? "timed out" : `timed out after ${timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`}`;
  if (error instanceof DeadlineError) return timedOut;
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  const plain: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ENOTFOUND: "could not resolve the host name",
    EAI_AGAIN: "could not resolve the host name",
    ETIMEDOUT: "timed out",
  };
  if (code && plain[code] && !isServerError(error)) return plain[code];
  if (error instanceof Error && /timeout expired|Connection terminated due to connection timeout/i.test(error.message)) return timedOut;
  return describeError(error);
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
