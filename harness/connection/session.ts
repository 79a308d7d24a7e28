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
import type pg from "pg";
import { destroy, openClient, withDeadline, type ClientOptions } from "./client.ts";
import type { Endpoint } from "./endpoint.ts";
import { DeadlineError, isServerError } from "./errors.ts";
import { dialHosts, isMultiHost } from "./hosts.ts";
import { hostPortText } from "./conninfo.ts";

export type SessionOptions = ClientOptions;

export class Session {
  private current: Endpoint;
  private readonly client: pg.Client;
  private broken = false;
  /** Warnings the server sent during the last query (e.g. a cancelled synchronous replication wait). */
  readonly notices: Array<{ code: string | undefined; message: string }> = [];
  /** With several hosts (or target_session_attrs): the host:port that answered. */
  readonly dialed: string | undefined;
  /** With several hosts: those passed over before `dialed`, each "host:port: why". */
  readonly skipped: readonly string[];

  private constructor(endpoint: Endpoint, client: pg.Client, dialed?: { dialed: string; skipped: readonly string[] }) {
    this.current = endpoint;
    this.client = client;
    this.dialed = dialed?.dialed;
    this.skipped = dialed?.skipped ?? [];
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
    // A multi-host session is labelled by the host that answered, not by where `resolve` points.
    if (dialed.hosts === undefined && now.node !== dialed.node && now.host === dialed.host && now.port === dialed.port)
      session.current = { ...dialed, node: now.node };
    return session;
  }

  get usable(): boolean {
    return !this.broken;
  }

  /**
   * One host: as `pg` connects. Several (a libpq multi-host list), or a target_session_attrs to
   * check: libpq's rules (hosts.ts), and the session is labelled with the host that answered.
   */
  static async connect(endpoint: Endpoint, options: SessionOptions): Promise<Session> {
    const connectTimeoutMs = endpoint.connectTimeoutMs ?? options.connectTimeoutMs;
    if (!isMultiHost(endpoint)) return new Session(endpoint, (await openClient(endpoint, { ...options, connectTimeoutMs })).client);
    const { client, host, skipped } = await dialHosts(endpoint, options);
    const landed: Endpoint = { ...endpoint, host: host.host, port: host.port, node: host.node ?? endpoint.node };
    return new Session(landed, client, { dialed: hostPortText(host), skipped });
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
