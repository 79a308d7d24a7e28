/**
 * The application's own connection pool, configured as the seed guide does it (DATABASE_POOL_MIN,
 * DATABASE_POOL_MAX, DATABASE_POOL_RECYCLE, or the probe's `pool` option): `min` connections
 * opened up front and handed out in turn, each closed and replaced once older than `recycle`.
 * There is no health check on checkout (the default of asyncpg, psycopg and SQLAlchemy): a
 * connection the server closed and said so is dropped, but one that died silently (a killed host,
 * a black-holed network) is handed out and its operation fails or times out — after a failover,
 * once per stale connection, which is what applications with such a pool go through.
 *
 * Part of the connection layer, beside Session: it pools sessions and knows nothing of probes (a
 * probe picks it with `connection: "pool"`, in probe/connections.ts).
 */
import { toMs } from "../duration.ts";
import { InputError } from "../errors.ts";
import type { Endpoint } from "./endpoint.ts";
import { Session, type SessionOptions } from "./session.ts";

export interface PoolSettings {
  min: number;
  max: number;
  recycleMs: number;
}

/** The seed guide's values (DATABASE_POOL_MIN=5, _MAX=20, _RECYCLE=300). */
const GUIDE_DEFAULTS: PoolSettings = { min: 5, max: 20, recycleMs: 300_000 };

/** Scenario options first, then the environment the application reads, then the guide's values. */
export function poolSettings(
  options: { min?: number; max?: number; recycle?: string | number } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): PoolSettings {
  const fromEnv = (name: string): number | undefined => {
    const text = env[name];
    if (text === undefined || text === "") return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0)
      throw new InputError(
        name,
        `must be a whole number, got "${text}"`,
        `Fix ${name} in the environment, or set the probe's pool option.`,
      );
    return value;
  };
  const envRecycle = fromEnv("DATABASE_POOL_RECYCLE");
  const settings: PoolSettings = {
    min: options?.min ?? fromEnv("DATABASE_POOL_MIN") ?? GUIDE_DEFAULTS.min,
    max: options?.max ?? fromEnv("DATABASE_POOL_MAX") ?? GUIDE_DEFAULTS.max,
    // Seconds in the environment (as the guide writes it); a duration in the scenario.
    recycleMs:
      options?.recycle !== undefined ? toMs(options.recycle) : envRecycle !== undefined ? envRecycle * 1000 : GUIDE_DEFAULTS.recycleMs,
  };
  if (settings.max < 1 || settings.min > settings.max) {
    throw new InputError(
      "pool",
      `min ${settings.min} and max ${settings.max} do not make a pool`,
      "Use 0 <= min <= max and max >= 1 (DATABASE_POOL_MIN/MAX or the probe's pool option).",
    );
  }
  return settings;
}

export class AppPool {
  private readonly endpoint: () => Endpoint;
  private readonly settings: PoolSettings;
  private readonly options: SessionOptions;
  /** Idle connections, oldest checkout first: each is used in turn, as a busy application would. */
  private idle: Session[] = [];
  private readonly bornAt = new WeakMap<Session, number>();
  private open = 0;

  constructor(endpoint: () => Endpoint, settings: PoolSettings, options: SessionOptions) {
    this.endpoint = endpoint;
    this.settings = settings;
    this.options = options;
  }

  /** Opens `min` connections before the drill; one that fails is simply not there (it will be opened on demand). */
  async fill(): Promise<void> {
    const missing = Math.max(0, this.settings.min - this.open);
    const sessions = await Promise.all(Array.from({ length: missing }, () => this.connect().catch(() => null)));
    for (const session of sessions) if (session) this.idle.push(session);
  }

  /** The next idle connection, or a new one; never checks it (no pre-ping), but retires old ones. */
  async acquire(): Promise<Session> {
    while (this.idle.length > 0) {
      const session = this.idle.shift()!;
      const age = Date.now() - (this.bornAt.get(session) ?? 0);
      if (session.usable && age < this.settings.recycleMs) return session;
      await this.discard(session);
    }
    if (this.open >= this.settings.max) throw new Error(`the pool is exhausted (max ${this.settings.max} connections)`);
    return this.connect();
  }

  /** The node the next idle connection is connected to, if there is one. */
  peekNode(): string | undefined {
    return this.idle[0]?.endpoint.node;
  }

  /** Back to the pool after a successful operation; a broken connection is dropped instead. */
  async release(session: Session): Promise<void> {
    if (session.usable) this.idle.push(session);
    else await this.discard(session);
  }

  async discard(session: Session): Promise<void> {
    this.open -= 1;
    await session.close();
  }

  async close(): Promise<void> {
    const sessions = this.idle;
    this.idle = [];
    await Promise.all(sessions.map((session) => this.discard(session)));
  }

  private async connect(): Promise<Session> {
    this.open += 1;
    try {
      const session = await Session.connectTo(this.endpoint, this.options);
      this.bornAt.set(session, Date.now());
      return session;
    } catch (error) {
      this.open -= 1;
      throw error;
    }
  }
}
