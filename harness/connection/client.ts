/**
 * One node-postgres client to one host, opened with a hard deadline (a frozen server or a
 * black-holed network can leave a socket waiting forever), keeping the ParameterStatus values the
 * server reported at startup: PostgreSQL 14+ reports `in_hot_standby` and
 * `default_transaction_read_only` there, which is how libpq checks target_session_attrs without a
 * query. Session (one host) and the multi-host dialer (hosts.ts) both open clients here.
 */
import pg from "pg";
import type { Endpoint } from "./endpoint.ts";
import { DeadlineError } from "./errors.ts";

export interface ClientOptions {
  connectTimeoutMs: number;
  applicationName: string;
  /** Server-side statement_timeout; omitted for writes (a cancelled sync-rep wait still commits). */
  statementTimeoutMs?: number;
}

export interface OpenClient {
  client: pg.Client;
  /** ParameterStatus values from startup (server_version, in_hot_standby, default_transaction_read_only, …). */
  parameters: Map<string, string>;
}

/** Connects to `endpoint.host:endpoint.port` only (its `hosts` list is the caller's business). */
export async function openClient(endpoint: Endpoint, options: ClientOptions): Promise<OpenClient> {
  const client = new pg.Client({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    password: endpoint.password,
    database: endpoint.database,
    ...(endpoint.ssl !== undefined ? { ssl: endpoint.ssl } : {}),
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // Until the Session takes it over: an error while connecting must not be an unhandled 'error' event.
  client.on("error", () => undefined);
  const parameters = new Map<string, string>();
  // pg keeps no record of them: listen on its connection before it starts up.
  client.connection.on("parameterStatus", (message: { parameterName: string; parameterValue: string }) => {
    parameters.set(message.parameterName, message.parameterValue);
  });
  try {
    await withDeadline(client.connect(), options.connectTimeoutMs + 50, "connect", false, () => destroy(client));
  } catch (error) {
    destroy(client);
    throw error;
  }
  return { client, parameters };
}

export function destroy(client: pg.Client): void {
  client.connection.stream.destroy();
}

export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  afterSend: boolean,
  onTimeout: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DeadlineError(what, ms, afterSend));
    }, ms);
  });
  // The losing promise may reject later (socket destroyed): swallow it so it is not unhandled.
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
