/**
 * One PostgreSQL connection with hard deadlines. `pg`'s own timeouts cover the common cases, but a
 * frozen (paused) server or a black-holed network can leave a socket waiting forever, so every
 * connect and query here races a timer and destroys the socket when the timer wins.
 *
 * This is the connection layer (harness/connection/), below both targets and probes: a target
 * hands out endpoints (endpoint.ts) and opens sessions of its own to set up and check its nodes; a
 * probe opens sessions on those endpoints for its operations, and decides what they mean for the
 * History. Nothing here knows about probes, targets or the History.
 */
import pg from "pg";
import type { Endpoint } from "./endpoint.ts";
import { DeadlineError, isServerError } from "./errors.ts";

export interface SessionOptions {
  connectTimeoutMs: number;
  applicationName: string;
  /** Server-side statement_timeout; omitted for writes (a cancelled sync-rep wait still commits). */
  statementTimeoutMs?: number;
}

export class Session {
  private current: Endpoint;
  private readonly client: pg.Client;
  private broken = false;
  /** Warnings the server sent during the last query (e.g. a cancelled synchronous replication wait). */
  readonly notices: Array<{ code: string | undefined; message: string }> = [];

  private constructor(endpoint: Endpoint, client: pg.Client) {
    this.current = endpoint;
    this.client = client;
    // An idle connection can die (node killed): pg emits 'error' on the client, which must not crash us.
    client.on("error", () => {
      this.broken = true;
    });
    client.on("end", () => {
      this.broken = true;
    });
    client.on("notice", (notice) => this.notices.push({ code: notice.code, message: notice.message ?? "" }));
  }

  /** Where this connection goes, and which node the harness believes answers there. */
  get endpoint(): Endpoint {
    return this.current;
  }

  /**
   * Dials where `resolve` points now, and asks again once connected: behind a service or a pooler
   * the address stays the same while the node behind it changes, and a connection that completed
   * after the change reached the new node, so it is labelled with that one (a write acknowledged
   * by the new primary must not be counted as the old one's).
   */
  static async connectTo(resolve: () => Endpoint, options: SessionOptions): Promise<Session> {
    const dialed = resolve();
    const session = await Session.connect(dialed, options);
    const now = resolve();
    if (now.node !== dialed.node && now.host === dialed.host && now.port === dialed.port) session.current = { ...dialed, node: now.node };
    return session;
  }

  get usable(): boolean {
    return !this.broken;
  }

  static async connect(endpoint: Endpoint, options: SessionOptions): Promise<Session> {
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
    const session = new Session(endpoint, client);
    try {
      await withDeadline(client.connect(), options.connectTimeoutMs + 50, "connect", false, () => destroy(client));
    } catch (error) {
      destroy(client);
      throw error;
    }
    return session;
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[], timeoutMs: number): Promise<pg.QueryResult<R>> {
    this.notices.length = 0;
    try {
      return await withDeadline(this.client.query<R>(text, values), timeoutMs, "query", true, () => destroy(this.client));
    } catch (error) {
      // After a deadline or a connection-level error the protocol state is unknown: never reuse.
      if (error instanceof DeadlineError || !isServerError(error)) this.broken = true;
      throw error;
    }
  }

  /** Closes politely when the connection is healthy, otherwise drops the socket. Never waits long. */
  async close(): Promise<void> {
    if (this.broken) {
      destroy(this.client);
      return;
    }
    this.broken = true;
    await withDeadline(this.client.end(), 500, "close", false, () => destroy(this.client)).catch(() => destroy(this.client));
  }
}

function destroy(client: pg.Client): void {
  client.connection.stream.destroy();
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string, afterSend: boolean, onTimeout: () => void): Promise<T> {
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
