/**
 * What the pg_auto_failover monitor says about the formation, read from its own tables every
 * ~100 ms over one connection and kept as a current picture; what it says goes to the History as
 * `monitor` events: each new row of `pgautofailover.event` (the monitor's log of its state machine,
 * from the formation's bootstrap on), each data node's row of `pgautofailover.node` when it changes,
 * and whether pgdrill could read the monitor at all.
 *
 * The monitor is a target too (a drill may kill it): a poll that cannot reach it records it
 * unreachable and returns; the next poll dials again, once, within the connect timeout. The loop is
 * bounded in time and count, and `stop()` ends it at teardown.
 */
import type { Endpoint } from "../../connection/endpoint.ts";
import { describeError } from "../../connection/errors.ts";
import { Session } from "../../connection/session.ts";
import { PollLoop } from "../shared/poll-loop.ts";
import { WRITING_STATES, type MonitorEvent, type NodeHealth } from "./events.ts";

/** What this observer writes to the History. */
export type MonitorObservation = Omit<MonitorEvent, "t">;

/** One data node as the monitor's `pgautofailover.node` row describes it. */
export interface NodeView {
  reportedState: string | null;
  goalState: string | null;
  health: NodeHealth;
  /** Whether the keeper last reported its PostgreSQL running; null before its first report. */
  pgRunning: boolean | null;
}

export interface MonitorPicture {
  /** Whether the last poll read the monitor; null before the first poll. */
  reachable: boolean | null;
  /** The data nodes by their pg_auto_failover names, as the last poll that reached the monitor read them. */
  nodes: Map<string, NodeView>;
  /** The last `pgautofailover.event` id read; 0 before the first. */
  lastEventId: number;
  /** Polls completed so far. */
  polls: number;
}

export interface MonitorObserverOptions {
  /** The monitor's database from the host: user autoctl_node, database pg_auto_failover. */
  monitor: () => Endpoint;
  record: (observation: MonitorObservation) => void;
  log: (line: string) => void;
  everyMs?: number;
  /** Each query's limit, and each connect's: a frozen monitor costs at most this per poll. */
  requestTimeoutMs?: number;
  /** The loop ends by itself after this long (a drill's teardown stops it long before). */
  maxLifetimeMs?: number;
}

const DEFAULT_EVERY_MS = 100;
const DEFAULT_REQUEST_TIMEOUT_MS = 500;
const DEFAULT_MAX_LIFETIME_MS = 6 * 60 * 60 * 1000;
/** Event rows read per poll; a longer backlog (the bootstrap log) is read over the next polls. */
const EVENTS_PER_POLL = 500;
const APPLICATION_NAME = "pgdrill-monitor-observer";

// Enum columns cast to text: node-postgres does not know pg_auto_failover's types.
const EVENTS_SQL = `SELECT eventid, eventtime, nodename, reportedstate::text AS reportedstate, goalstate::text AS goalstate, description
  FROM pgautofailover.event WHERE eventid > $1 ORDER BY eventid LIMIT ${EVENTS_PER_POLL}`;
const NODES_SQL = `SELECT nodename, reportedstate::text AS reportedstate, goalstate::text AS goalstate, health, reportedpgisrunning
  FROM pgautofailover.node ORDER BY nodeid`;

/** The monitor's health column (-1 unknown, 0 bad, 1 good) in words. */
export function healthOf(value: unknown): NodeHealth {
  const health = typeof value === "string" ? Number(value) : value;
  if (health === 1) return "good";
  if (health === 0) return "bad";
  return "unknown";
}

/** A bigint column (node-postgres hands int8 over as a string) as a number; null when it is not one. */
function idOf(value: unknown): number | null {
  const id = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof id === "number" && Number.isSafeInteger(id) ? id : null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function isoTime(value: unknown): string | null {
  const time = value instanceof Date ? value : typeof value === "string" ? new Date(value) : null;
  return time && Number.isFinite(time.getTime()) ? time.toISOString() : null;
}

/** One `pgautofailover.event` row as the History's observation; null for a row without an id. */
export function eventObservation(row: Readonly<Record<string, unknown>>): (MonitorObservation & { eventId: number }) | null {
  const eventId = idOf(row["eventid"]);
  if (eventId === null) return null;
  const node = text(row["nodename"]);
  const at = isoTime(row["eventtime"]);
  const reportedState = text(row["reportedstate"]);
  const goalState = text(row["goalstate"]);
  const description = text(row["description"]);
  return {
    kind: "monitor",
    subject: "event",
    eventId,
    ...(node !== null ? { node } : {}),
    ...(at !== null ? { at } : {}),
    ...(reportedState !== null ? { reportedState } : {}),
    ...(goalState !== null ? { goalState } : {}),
    ...(description !== null ? { description } : {}),
  };
}

/** The `pgautofailover.node` rows as views by node name; rows without a name are skipped. */
export function nodeViews(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Map<string, NodeView> {
  const views = new Map<string, NodeView>();
  for (const row of rows) {
    const name = text(row["nodename"]);
    if (name === null) continue;
    const running = row["reportedpgisrunning"];
    views.set(name, {
      reportedState: text(row["reportedstate"]),
      goalState: text(row["goalstate"]),
      health: healthOf(row["health"]),
      pgRunning: typeof running === "boolean" ? running : null,
    });
  }
  return views;
}

function sameView(a: NodeView | undefined, b: NodeView): boolean {
  return (
    a !== undefined &&
    a.reportedState === b.reportedState &&
    a.goalState === b.goalState &&
    a.health === b.health &&
    a.pgRunning === b.pgRunning
  );
}

/** The nodes whose row changed (or appeared) between two polls, as observations, in `after`'s order. */
export function nodeChanges(before: ReadonlyMap<string, NodeView>, after: ReadonlyMap<string, NodeView>): MonitorObservation[] {
  const changes: MonitorObservation[] = [];
  for (const [node, view] of after) {
    if (sameView(before.get(node), view)) continue;
    changes.push({
      kind: "monitor",
      subject: "node",
      node,
      ...(view.reportedState !== null ? { reportedState: view.reportedState } : {}),
      ...(view.goalState !== null ? { goalState: view.goalState } : {}),
      health: view.health,
      pgRunning: view.pgRunning,
    });
  }
  return changes;
}

const writing = (state: string | null): boolean => state !== null && WRITING_STATES.includes(state);

/** The node the monitor has as primary: its reported and goal state both a writing state; null when none (or two). */
export function primaryByMonitor(picture: Pick<MonitorPicture, "nodes">): string | null {
  const primaries = [...picture.nodes].filter(([, view]) => writing(view.reportedState) && writing(view.goalState));
  return primaries.length === 1 ? primaries[0]![0] : null;
}

/**
 * A healthy formation: the monitor answers, every node is registered and in good health, exactly
 * one is settled in a writing state and every other is a settled secondary. Otherwise, what is not
 * there yet.
 */
export function settled(picture: Pick<MonitorPicture, "nodes" | "reachable">, nodes: readonly string[]): true | string {
  if (picture.reachable !== true) return picture.reachable === null ? "the monitor not read yet" : "the monitor does not answer";
  const missing = nodes.filter((node) => !picture.nodes.has(node));
  if (missing.length > 0) return `${missing.join(", ")} not registered with the monitor yet`;
  const states = (node: string, view: NodeView) => `${node} ${view.reportedState ?? "?"}/${view.goalState ?? "?"}`;
  const writers = nodes.filter((node) => {
    const view = picture.nodes.get(node)!;
    return writing(view.reportedState) && view.reportedState === view.goalState;
  });
  if (writers.length !== 1) {
    const all = nodes.map((node) => states(node, picture.nodes.get(node)!)).join(", ");
    return writers.length === 0 ? `no primary yet (${all})` : `${writers.length} primaries (${all})`;
  }
  const unsettled = nodes
    .filter((node) => node !== writers[0])
    .map((node) => [node, picture.nodes.get(node)!] as const)
    .filter(([, view]) => view.reportedState !== "secondary" || view.goalState !== "secondary");
  if (unsettled.length > 0) return `not every standby is secondary yet (${unsettled.map(([node, view]) => states(node, view)).join(", ")})`;
  const unhealthy = nodes.map((node) => [node, picture.nodes.get(node)!.health] as const).filter(([, health]) => health !== "good");
  if (unhealthy.length > 0)
    return `the monitor's health checks have not passed yet (${unhealthy.map(([node, health]) => `${node}: ${health}`).join(", ")})`;
  return true;
}

export class MonitorObserver {
  readonly picture: MonitorPicture = { reachable: null, nodes: new Map(), lastEventId: 0, polls: 0 };
  private readonly options: MonitorObserverOptions;
  private readonly loop: PollLoop;
  private session: Session | null = null;

  constructor(options: MonitorObserverOptions) {
    this.options = options;
    this.loop = new PollLoop({
      poll: () => this.poll(),
      everyMs: options.everyMs ?? DEFAULT_EVERY_MS,
      maxLifetimeMs: options.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS,
      log: options.log,
      what: "pg-auto-failover: observing the monitor",
      polled: () => (this.picture.polls += 1),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Ends the loop and closes the connection; safe to call again. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.closeSession();
  }

  /** Resolves once `ready` holds after a poll; rejects past `timeoutMs` with the last reason. */
  waitUntil(ready: () => true | string, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    return this.loop.waitUntil(ready, timeoutMs, what, signal);
  }

  /** One round: the new event rows and every node's row; what changed is recorded. Never throws for a monitor that is down. */
  async poll(): Promise<void> {
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    let events: Array<Record<string, unknown>>;
    let nodes: Array<Record<string, unknown>>;
    try {
      const session = await this.connected(timeoutMs);
      events = (await session.query<Record<string, unknown>>(EVENTS_SQL, [this.picture.lastEventId], timeoutMs)).rows;
      nodes = (await session.query<Record<string, unknown>>(NODES_SQL, [], timeoutMs)).rows;
    } catch (error) {
      if (this.session && !this.session.usable) await this.closeSession();
      if (!this.loop.stopped) this.reachable(false, describeError(error));
      return;
    }
    if (this.loop.stopped) return;
    this.reachable(true);
    for (const row of events) {
      const observation = eventObservation(row);
      if (!observation) continue;
      this.picture.lastEventId = Math.max(this.picture.lastEventId, observation.eventId);
      this.options.record(observation);
    }
    const views = nodeViews(nodes);
    for (const change of nodeChanges(this.picture.nodes, views)) this.options.record(change);
    this.picture.nodes = views;
  }

  /** The open connection, or one new connect attempt within the timeout. */
  private async connected(timeoutMs: number): Promise<Session> {
    if (this.session?.usable) return this.session;
    await this.closeSession();
    this.session = await Session.connect(this.options.monitor(), { connectTimeoutMs: timeoutMs, applicationName: APPLICATION_NAME });
    return this.session;
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.close();
  }

  /** Records reachability when it changes, with the error when the monitor stops answering (a new error while down is not news). */
  private reachable(reachable: boolean, error?: string): void {
    if (this.picture.reachable === reachable) return;
    this.picture.reachable = reachable;
    this.options.record({
      kind: "monitor",
      subject: "reachable",
      reachable,
      ...(!reachable && error !== undefined ? { error: short(error) } : {}),
    });
  }
}

/** An error short enough for one History line. */
function short(error: string): string {
  const line = error.split("\n")[0] ?? error;
  return line.length > 200 ? `${line.slice(0, 197)}…` : line;
}
