/**
 * What Patroni and HAProxy say about the cluster, polled from the host every ~150 ms and kept as a
 * current picture; changes go to the History as they happen: `ha` events (the leader key's holder,
 * each member's role, state, timeline and lag, from Patroni's REST API) and `endpoint` events
 * (which node HAProxy's rw and ro send clients to, from its stats socket's `show stat`).
 *
 * Each member is asked `GET /patroni` (its own view of its PostgreSQL); one member that answered
 * is asked `GET /cluster` (the DCS's view: who holds the leader key, each member's lag). The loop
 * is bounded in time and count, and `stop()` ends it at teardown.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { PollLoop } from "../shared/poll-loop.ts";
import type { EndpointEvent } from "../../history/events.ts";
import type { HaEvent } from "./events.ts";

/** What this observer writes to the History. */
export type PatroniObservation = Omit<HaEvent, "t"> | Omit<EndpointEvent, "t">;

/** One member, as its own REST API and the DCS describe it; all null while its API does not answer. */
export interface MemberView {
  /** "primary", "replica", "standby_leader", … (Patroni 3.0's "master" is said as "primary"). */
  role: string | null;
  state: string | null;
  timeline: number | null;
  /** Bytes behind the leader, from /cluster; null for the leader, or when unknown. */
  lagBytes: number | null;
}

/** A wal sender on a member (its /patroni `replication` list): who streams from it. */
export interface Sender {
  application_name: string;
  state: string;
}

export interface HaproxyView {
  /**
   * Each server's status per listener, as `show stat` says it ("UP", "DOWN", "UP 1/3", "MAINT", …), or "unchecked" before its first
   * check.
   */
  rw: Record<string, string>;
  ro: Record<string, string>;
}

export interface Picture {
  /** The leader key's holder; null: none; undefined: no member's /cluster answered yet. */
  leader: string | null | undefined;
  members: Map<string, MemberView>;
  /** Who streams from each member now (the leader's list is the one that matters). */
  senders: Map<string, Sender[]>;
  haproxy: HaproxyView | null;
  /** Polls completed so far. */
  polls: number;
}

export interface ObserverOptions {
  /** Each member's REST API from the host, e.g. { pg1: "http://127.0.0.1:49153" }. */
  apis: Record<string, string>;
  /** HAProxy's stats socket from the host. */
  stats: { host: string; port: number };
  record: (observation: PatroniObservation) => void;
  log: (line: string) => void;
  everyMs?: number;
  /** Each request's limit; a frozen member costs at most this per poll. */
  requestTimeoutMs?: number;
  /** The loop ends by itself after this long (a drill's teardown stops it long before). */
  maxLifetimeMs?: number;
}

const DEFAULT_EVERY_MS = 150;
const DEFAULT_REQUEST_TIMEOUT_MS = 500;
const DEFAULT_MAX_LIFETIME_MS = 6 * 60 * 60 * 1000;
const MANAGER = "patroni";

/** Patroni's names for a role, as the History says them. */
export function normaliseRole(role: unknown): string | null {
  if (typeof role !== "string" || role === "") return null;
  return role === "master" ? "primary" : role;
}

/** The stats CSV's server rows of the rw and ro listeners: { rw: { pg1: "UP", … }, ro: { … } }. */
export function parseShowStat(csv: string): HaproxyView {
  const lines = csv.split("\n").filter((line) => line.trim() !== "");
  const header = (lines[0] ?? "").replace(/^#\s*/, "").split(",");
  const px = header.indexOf("pxname");
  const sv = header.indexOf("svname");
  const status = header.indexOf("status");
  const check = header.indexOf("check_status");
  const view: HaproxyView = { rw: {}, ro: {} };
  if (px < 0 || sv < 0 || status < 0) return view;
  for (const line of lines.slice(1)) {
    const fields = line.split(",");
    const listener = fields[px];
    const server = fields[sv];
    if ((listener !== "rw" && listener !== "ro") || !server || server === "FRONTEND" || server === "BACKEND") continue;
    // HAProxy counts a server up before its first check has answered (check_status INI): not yet known.
    const unchecked = check >= 0 && /^(\* )?INI$/.test(fields[check] ?? "");
    view[listener][server] = unchecked ? "unchecked" : (fields[status] ?? "");
  }
  return view;
}

/** Servers HAProxy sends clients to: "UP", and "UP 1/3" (still up while its checks start failing). */
export function upServers(statuses: Record<string, string>): string[] {
  return Object.entries(statuses)
    .filter(([, status]) => status.startsWith("UP"))
    .map(([server]) => server)
    .sort();
}

export class PatroniObserver {
  readonly picture: Picture = { leader: undefined, members: new Map(), senders: new Map(), haproxy: null, polls: 0 };
  private readonly options: ObserverOptions;
  private readonly nodes: string[];
  /** Each member's REST API, as the options gave it or as it moved since. */
  private readonly apis: Record<string, string>;
  private readonly loop: PollLoop;
  private lastLeader: string | null | undefined = undefined;
  private readonly lastMember = new Map<string, string>();
  private readonly lastEndpoint: { rw?: string; ro?: string } = {};

  constructor(options: ObserverOptions) {
    this.options = options;
    this.apis = { ...options.apis };
    this.nodes = Object.keys(options.apis);
    this.loop = new PollLoop({
      poll: () => this.poll(),
      everyMs: options.everyMs ?? DEFAULT_EVERY_MS,
      maxLifetimeMs: options.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS,
      log: options.log,
      what: "patroni: observing the cluster",
      polled: () => (this.picture.polls += 1),
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** A node's REST API moved (a restore gave it a new container): asked there from the next poll. */
  moveApi(node: string, url: string): void {
    this.apis[node] = url;
  }

  /** Where HAProxy sends clients is recorded again once it has a server up, even the node it was (the members were replaced). */
  forgetEndpoints(): void {
    delete this.lastEndpoint.rw;
    delete this.lastEndpoint.ro;
  }

  /** Resolves once `ready` holds after a poll; rejects past `timeoutMs` with the last reason. */
  waitUntil(ready: () => true | string, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    return this.loop.waitUntil(ready, timeoutMs, what, signal);
  }

  /** One round: every member's /patroni, one /cluster, HAProxy's show stat; changes recorded. */
  async poll(): Promise<void> {
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const statsPromise = showStat(this.options.stats, timeoutMs).then(parseShowStat, () => null);
    const own = await Promise.all(this.nodes.map((node) => getJson(`${this.apis[node]}/patroni`, timeoutMs).catch(() => null)));
    // The DCS's view, from a member that answered (the leader's first: it is the one most likely connected).
    let cluster: ClusterJson | null = null;
    const claimsPrimary = (node: string) => normaliseRole(record(own[this.nodes.indexOf(node)])?.["role"]) === "primary";
    const answered = this.nodes.filter((_, i) => own[i] !== null);
    answered.sort((a, b) => Number(claimsPrimary(b)) - Number(claimsPrimary(a)));
    for (const node of answered.slice(0, 2)) {
      cluster = asCluster(await getJson(`${this.apis[node]}/cluster`, timeoutMs).catch(() => null));
      if (cluster) break;
    }
    const haproxy = await statsPromise;
    if (this.loop.stopped) return;

    if (cluster) {
      const holder = cluster.members.find((member) => member.role === "leader" || member.role === "standby_leader");
      this.picture.leader = holder?.name ?? null;
    }
    if (this.picture.leader !== undefined && this.picture.leader !== this.lastLeader) {
      this.lastLeader = this.picture.leader;
      this.options.record({ kind: "ha", manager: MANAGER, subject: "leader", leader: this.picture.leader });
    }
    this.nodes.forEach((node, i) => {
      const status = record(own[i]);
      const inDcs = cluster?.members.find((member) => member.name === node);
      const view: MemberView = {
        role: status ? normaliseRole(status["role"]) : null,
        state: status && typeof status["state"] === "string" ? status["state"] : null,
        timeline: status && typeof status["timeline"] === "number" ? status["timeline"] : null,
        lagBytes: typeof inDcs?.lag === "number" ? inDcs.lag : null,
      };
      this.picture.members.set(node, view);
      this.picture.senders.set(node, senders(status?.["replication"]));
      const key = JSON.stringify(view);
      if (this.lastMember.get(node) !== key) {
        this.lastMember.set(node, key);
        this.options.record({ kind: "ha", manager: MANAGER, subject: "member", name: node, ...view });
      }
    });

    if (haproxy) {
      this.picture.haproxy = haproxy;
      for (const endpoint of ["rw", "ro"] as const) {
        const first = upServers(haproxy[endpoint])[0];
        if (first !== undefined && first !== this.lastEndpoint[endpoint]) {
          this.lastEndpoint[endpoint] = first;
          this.options.record({ kind: "endpoint", endpoint, node: first });
        }
      }
    }
  }
}

interface ClusterJson {
  members: Array<{ name: string; role?: string; state?: string; lag?: number | string }>;
}

function asCluster(value: unknown): ClusterJson | null {
  const object = record(value);
  if (!object || !Array.isArray(object["members"])) return null;
  const members = (object["members"] as unknown[])
    .map(record)
    .filter((member): member is Record<string, unknown> => member !== null && typeof member["name"] === "string");
  return { members: members as unknown as ClusterJson["members"] };
}

function senders(value: unknown): Sender[] {
  if (!Array.isArray(value)) return [];
  return value
    .map(record)
    .filter((entry): entry is Record<string, unknown> => entry !== null)
    .map((entry) => ({ application_name: String(entry["application_name"] ?? ""), state: String(entry["state"] ?? "") }));
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** GET a JSON document; Patroni answers 503 with a body on its health endpoints, so any status with JSON counts. */
export function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return httpJson("GET", url, undefined, timeoutMs).then(({ body }) => JSON.parse(body) as unknown);
}

/** One HTTP request without keep-alive; resolves with the status and body, rejects on a network error or the timeout. */
export function httpJson(
  method: "GET" | "POST" | "PATCH",
  url: string,
  payload: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = payload === undefined ? undefined : JSON.stringify(payload);
    const req = request(
      url,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: data === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(data);
  });
}

/** HAProxy's `show stat` on its stats socket. */
export function showStat(stats: { host: string; port: number }, timeoutMs: number): Promise<string> {
  return statsCommand(stats, "show stat", timeoutMs);
}

/** One command on HAProxy's stats socket (its runtime API): HAProxy closes the connection after answering. */
export function statsCommand(stats: { host: string; port: number }, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const socket = connect({ host: stats.host, port: stats.port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`HAProxy's stats socket did not answer within ${timeoutMs} ms`)));
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk: string) => (out += chunk));
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
  });
}
