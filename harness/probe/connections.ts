/**
 * How a probe gets its connection for each operation — the three ways applications do:
 * `fresh` connects every time (the seed guide's loop), `held` keeps one and reconnects after an
 * error, `pool` borrows from an application-style pool (see connection/app-pool.ts). A connection
 * an operation failed on is never reused: its protocol state is unknown.
 *
 * This stays in probe/ while Session and AppPool sit below it in connection/: it is the probe's
 * policy per operation (the mode is a probe option), and `nextNode` exists to label the
 * operation's invoke event in the History.
 */
import { AppPool, type PoolSettings } from "../connection/app-pool.ts";
import type { Endpoint } from "../connection/endpoint.ts";
import { HostsError } from "../connection/hosts.ts";
import { Session, type SessionOptions } from "../connection/session.ts";

export type ConnectionMode = "fresh" | "held" | "pool";

export interface Connections {
  /** Opens what must exist before the first operation (the pool's `min`). */
  start(): Promise<void>;
  /** The node the next operation will most likely reach, for its invoke event. */
  nextNode(): string;
  acquire(): Promise<Session>;
  /** After the operation: kept for the next (held, pool) or closed (fresh, or it failed). */
  finish(session: Session, failed: boolean): Promise<void>;
  close(): Promise<void>;
}

/** `pool` settings are required for, and used only by, mode "pool". */
export function connectionsFor(
  mode: ConnectionMode,
  endpoint: () => Endpoint,
  options: SessionOptions,
  pool: PoolSettings | undefined,
): Connections {
  if (mode === "pool") {
    if (!pool) throw new Error('connection "pool" needs pool settings');
    return pooled(endpoint, options, pool);
  }
  let held: Session | null = null;
  return {
    start: async () => undefined,
    nextNode: () => (held?.usable ? held.endpoint.node : endpoint().node),
    acquire: async () => (held?.usable ? held : Session.connectTo(endpoint, options)),
    async finish(session, failed) {
      if (mode === "held" && !failed && session.usable) {
        held = session;
        return;
      }
      held = null;
      await session.close();
    },
    close: async () => {
      await held?.close();
      held = null;
    },
  };
}

function pooled(endpoint: () => Endpoint, options: SessionOptions, settings: PoolSettings): Connections {
  const pool = new AppPool(endpoint, settings, options);
  return {
    start: () => pool.fill(),
    nextNode: () => pool.peekNode() ?? endpoint().node,
    acquire: () => pool.acquire(),
    finish: (session, failed) => (failed ? pool.discard(session) : pool.release(session)),
    close: () => pool.close(),
  };
}

const reported = new WeakSet<Session>();

/**
 * For a complete event, when the session came from a multi-host endpoint: the host:port that
 * answered, and (on the first operation over that connection only) the hosts passed over before it.
 */
export function hostsOf(session: Session): { dialed?: string; skipped?: string[] } {
  if (session.dialed === undefined) return {};
  if (reported.has(session) || session.skipped.length === 0) return { dialed: session.dialed };
  reported.add(session);
  return { dialed: session.dialed, skipped: [...session.skipped] };
}

/** For a failed connect over a multi-host endpoint: what happened at each host. */
export function skippedOf(error: unknown): { skipped?: string[] } {
  return error instanceof HostsError && error.skipped.length > 0 ? { skipped: [...error.skipped] } : {};
}
