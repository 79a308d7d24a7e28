/**
 * The pg-auto-failover observer: its pure parts (a `pgautofailover.event` row as an observation,
 * node rows recorded on change only, who the monitor has as primary, when the formation is settled),
 * then the observer itself against a stand-in monitor that speaks PostgreSQL's wire protocol and
 * answers the two queries from in-memory tables: it reads the event log from the start and then only
 * what is new, records a node only when its row changes, and records the monitor unreachable (once)
 * when it goes away and reachable when it comes back.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Endpoint } from "../../harness/connection/endpoint.ts";
import {
  eventObservation,
  healthOf,
  MonitorObserver,
  nodeChanges,
  nodeViews,
  primaryByMonitor,
  settled,
  type MonitorObservation,
  type MonitorPicture,
  type NodeView,
} from "../../harness/targets/pg-auto-failover/observer.ts";

const view = (
  reportedState: string,
  goalState: string,
  health: NodeView["health"] = "good",
  pgRunning: boolean | null = true,
): NodeView => ({
  reportedState,
  goalState,
  health,
  pgRunning,
});
const picture = (nodes: Record<string, NodeView>, reachable: boolean | null = true): Pick<MonitorPicture, "nodes" | "reachable"> => ({
  reachable,
  nodes: new Map(Object.entries(nodes)),
});

describe("the monitor's rows, as the History says them", () => {
  it("maps an event row (int8 id as a string, timestamptz as a Date, enums cast to text)", () => {
    const row = {
      eventid: "12",
      eventtime: new Date("2025-01-01T10:00:20.200Z"),
      nodename: "node2",
      reportedstate: "secondary",
      goalstate: "prepare_promotion",
      description:
        'Setting goal state of node 2 "node2" (node2:5432) to prepare_promotion after node 1 "node1" (node1:5432) became unhealthy.',
    };
    expect(eventObservation(row)).toEqual({
      kind: "monitor",
      subject: "event",
      eventId: 12,
      node: "node2",
      at: "2025-01-01T10:00:20.200Z",
      reportedState: "secondary",
      goalState: "prepare_promotion",
      description: row.description,
    });
    // Columns the monitor left empty are left out; a row without an id is no event.
    expect(eventObservation({ eventid: 3, nodename: null, eventtime: "not a time", description: "" })).toEqual({
      kind: "monitor",
      subject: "event",
      eventId: 3,
    });
    expect(eventObservation({ eventid: null, nodename: "node1" })).toBeNull();
  });

  it("reads health -1/0/1 as unknown/bad/good, and node rows by name", () => {
    expect([-1, 0, 1, "1", null].map(healthOf)).toEqual(["unknown", "bad", "good", "good", "unknown"]);
    const views = nodeViews([
      { nodename: "node1", reportedstate: "primary", goalstate: "primary", health: 1, reportedpgisrunning: true },
      { nodename: "node2", reportedstate: "init", goalstate: "wait_standby", health: -1, reportedpgisrunning: null },
      { nodename: null, reportedstate: "primary" },
    ]);
    expect([...views]).toEqual([
      ["node1", view("primary", "primary")],
      ["node2", view("init", "wait_standby", "unknown", null)],
    ]);
  });

  it("records a node when it appears and when its row changes, and not otherwise", () => {
    const before = new Map([["node1", view("primary", "primary")]]);
    const after = new Map([
      ["node1", view("primary", "primary")],
      ["node2", view("secondary", "secondary", "unknown")],
    ]);
    expect(nodeChanges(before, after)).toEqual([
      {
        kind: "monitor",
        subject: "node",
        node: "node2",
        reportedState: "secondary",
        goalState: "secondary",
        health: "unknown",
        pgRunning: true,
      },
    ]);
    expect(nodeChanges(after, new Map(after))).toEqual([]);
    const unhealthy = new Map(after).set("node1", view("primary", "primary", "bad", false));
    expect(nodeChanges(after, unhealthy)).toEqual([
      { kind: "monitor", subject: "node", node: "node1", reportedState: "primary", goalState: "primary", health: "bad", pgRunning: false },
    ]);
  });
});

describe("who the monitor has as primary, and when the formation is settled", () => {
  it("names the node whose reported and goal states are both writing states", () => {
    expect(primaryByMonitor(picture({ node1: view("primary", "primary"), node2: view("secondary", "secondary") }))).toBe("node1");
    // Mid-failover: node2 promoted but holding writes, the old primary draining: no primary yet.
    expect(
      primaryByMonitor(picture({ node1: view("primary", "draining", "bad"), node2: view("stop_replication", "wait_primary") })),
    ).toBeNull();
    expect(primaryByMonitor(picture({ node1: view("demoted", "demoted", "bad"), node2: view("wait_primary", "wait_primary") }))).toBe(
      "node2",
    );
    expect(primaryByMonitor(picture({ node1: view("primary", "primary"), node2: view("wait_primary", "wait_primary") }))).toBeNull();
  });

  it("is settled with one primary, every other node secondary and every health check passed; otherwise says what is missing", () => {
    const nodes = ["node1", "node2", "node3"];
    expect(settled(picture({}, null), nodes)).toBe("the monitor not read yet");
    expect(settled(picture({}, false), nodes)).toBe("the monitor does not answer");
    expect(settled(picture({ node1: view("single", "single") }), nodes)).toBe("node2, node3 not registered with the monitor yet");
    const joining = {
      node1: view("wait_primary", "wait_primary"),
      node2: view("catchingup", "secondary"),
      node3: view("wait_standby", "catchingup"),
    };
    expect(settled(picture(joining), nodes)).toBe(
      "not every standby is secondary yet (node2 catchingup/secondary, node3 wait_standby/catchingup)",
    );
    const noPrimary = {
      node1: view("wait_primary", "primary"),
      node2: view("secondary", "secondary"),
      node3: view("secondary", "secondary"),
    };
    expect(settled(picture(noPrimary), nodes)).toBe(
      "no primary yet (node1 wait_primary/primary, node2 secondary/secondary, node3 secondary/secondary)",
    );
    const unchecked = {
      node1: view("primary", "primary"),
      node2: view("secondary", "secondary"),
      node3: view("secondary", "secondary", "unknown"),
    };
    expect(settled(picture(unchecked), nodes)).toBe("the monitor's health checks have not passed yet (node3: unknown)");
    expect(settled(picture({ ...unchecked, node3: view("secondary", "secondary") }), nodes)).toBe(true);
  });
});

// ---- A stand-in monitor: PostgreSQL's wire protocol, just enough for node-postgres and the observer's two queries ----

type Row = Record<string, string | number | boolean | Date | null>;
const OIDS: Record<string, number> = { eventid: 20, eventtime: 1184, health: 23, reportedpgisrunning: 16 };

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(n);
  return buffer;
};
const cstring = (text: string) => Buffer.from(`${text}\0`, "utf8");

function resultSet(columns: readonly string[], rows: readonly Row[]): Buffer {
  const description = Buffer.concat([
    int16(columns.length),
    ...columns.map((name) => Buffer.concat([cstring(name), int32(0), int16(0), int32(OIDS[name] ?? 25), int16(-1), int32(-1), int16(0)])),
  ]);
  const data = rows.map((row) =>
    message(
      "D",
      Buffer.concat([
        int16(columns.length),
        ...columns.map((name) => {
          const value = row[name];
          if (value === null || value === undefined) return int32(-1);
          const text = value instanceof Date ? pgTimestamp(value) : typeof value === "boolean" ? (value ? "t" : "f") : String(value);
          const bytes = Buffer.from(text, "utf8");
          return Buffer.concat([int32(bytes.length), bytes]);
        }),
      ]),
    ),
  );
  return Buffer.concat([message("T", description), ...data, message("C", cstring(`SELECT ${rows.length}`))]);
}

/** timestamptz as PostgreSQL sends it in text: "2025-01-01 10:00:02.123456+00". */
const pgTimestamp = (time: Date) => `${time.toISOString().replace("T", " ").replace("Z", "")}456+00`;

const EVENT_COLUMNS = ["eventid", "eventtime", "nodename", "reportedstate", "goalstate", "description"];
const NODE_COLUMNS = ["nodename", "reportedstate", "goalstate", "health", "reportedpgisrunning"];

/** Answers the observer's queries from `tables`; `queries` counts what it was asked. */
class FakeMonitor {
  readonly tables: { event: Row[]; node: Row[] } = { event: [], node: [] };
  readonly asked: Array<{ sql: string; params: string[] }> = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async listen(port = 0): Promise<void> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The monitor dies: every connection dropped, the port closed. */
  async kill(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  private answer(sql: string, params: string[]): Buffer {
    this.asked.push({ sql, params });
    if (sql.includes("pgautofailover.event")) {
      const after = Number(params[0] ?? 0);
      return resultSet(
        EVENT_COLUMNS,
        this.tables.event.filter((row) => Number(row["eventid"]) > after),
      );
    }
    return resultSet(NODE_COLUMNS, this.tables.node);
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffer = Buffer.alloc(0);
    let started = false;
    let pending: { sql: string; params: string[] } | null = null;
    const ready = message("Z", Buffer.from("I"));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started) {
        if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
        buffer = buffer.subarray(buffer.readInt32BE(0));
        started = true;
        socket.write(Buffer.concat([message("R", int32(0)), ready]));
      }
      while (buffer.length >= 5 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        const type = String.fromCharCode(buffer[0]!);
        const body = buffer.subarray(5, 1 + buffer.readInt32BE(1));
        buffer = buffer.subarray(1 + buffer.readInt32BE(1));
        if (type === "Q") socket.write(Buffer.concat([this.answer(body.toString("utf8", 0, body.length - 1), []), ready]));
        else if (type === "P")
          pending = { sql: body.toString("utf8", body.indexOf(0) + 1, body.indexOf(0, body.indexOf(0) + 1)), params: [] };
        else if (type === "B" && pending) pending.params = bindParams(body);
        else if (type === "S" && pending) {
          const { sql, params } = pending;
          pending = null;
          socket.write(Buffer.concat([message("1", Buffer.alloc(0)), message("2", Buffer.alloc(0)), this.answer(sql, params), ready]));
        } else if (type === "X") socket.end();
      }
    });
  }
}

/** A Bind message's parameters, as text. */
function bindParams(body: Buffer): string[] {
  let at = body.indexOf(0) + 1; // portal
  at = body.indexOf(0, at) + 1; // statement
  const formats = body.readInt16BE(at);
  at += 2 + formats * 2;
  const count = body.readInt16BE(at);
  at += 2;
  const params: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const length = body.readInt32BE(at);
    at += 4;
    params.push(length < 0 ? "" : body.toString("utf8", at, at + length));
    if (length > 0) at += length;
  }
  return params;
}

const endpoint = (port: number): Endpoint => ({
  node: "monitor",
  host: "127.0.0.1",
  port,
  user: "autoctl_node",
  password: "x",
  database: "pg_auto_failover",
});
const event = (eventid: number, nodename: string, reportedstate: string, goalstate: string, description: string): Row => ({
  eventid,
  eventtime: new Date(Date.UTC(2025, 0, 1, 10, 0, eventid)),
  nodename,
  reportedstate,
  goalstate,
  description,
});
const node = (nodename: string, reportedstate: string, goalstate: string, health: number): Row => ({
  nodename,
  reportedstate,
  goalstate,
  health,
  reportedpgisrunning: true,
});

describe("MonitorObserver", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function observe(port: () => number, everyMs = 10_000) {
    const seen: MonitorObservation[] = [];
    const observer = new MonitorObserver({
      monitor: () => endpoint(port()),
      record: (o) => seen.push(o),
      log: () => undefined,
      everyMs,
      requestTimeoutMs: 500,
    });
    cleanups.push(() => observer.stop());
    return { observer, seen };
  }

  it("reads the event log from the start, then only new rows; nodes on change; the monitor's going and coming back", async () => {
    const monitor = new FakeMonitor();
    await monitor.listen();
    cleanups.push(() => monitor.kill());
    monitor.tables.event.push(
      event(
        1,
        "node1",
        "init",
        "single",
        'Registering node 1 "node1" (node1:5432) to formation "default" with replication quorum true and candidate priority 50 [50]',
      ),
      event(2, "node1", "single", "single", 'New state is reported by node 1 "node1" (node1:5432): "single"'),
    );
    monitor.tables.node.push(node("node1", "primary", "primary", 1), node("node2", "secondary", "secondary", 1));
    const { observer, seen } = observe(() => monitor.port);

    await observer.poll();
    expect(seen.map((o) => [o.subject, o.eventId ?? o.node ?? o.reachable])).toEqual([
      ["reachable", true],
      ["event", 1],
      ["event", 2],
      ["node", "node1"],
      ["node", "node2"],
    ]);
    expect(seen[2]).toMatchObject({ node: "node1", at: "2025-01-01T10:00:02.000Z", reportedState: "single", goalState: "single" });
    expect(observer.picture).toMatchObject({ reachable: true, lastEventId: 2 });
    expect(primaryByMonitor(observer.picture)).toBe("node1");
    expect(monitor.asked[0]?.params).toEqual(["0"]);

    // Nothing new: nothing recorded, and the log is asked only for what follows event 2.
    seen.length = 0;
    await observer.poll();
    expect(seen).toEqual([]);
    expect(monitor.asked.at(-2)?.params).toEqual(["2"]);

    monitor.tables.event.push(
      event(3, "node1", "primary", "primary", 'Node node 1 "node1" (node1:5432) is marked as unhealthy by the monitor'),
    );
    monitor.tables.node[0] = node("node1", "primary", "primary", 0);
    await observer.poll();
    expect(seen).toEqual([
      {
        kind: "monitor",
        subject: "event",
        eventId: 3,
        node: "node1",
        at: "2025-01-01T10:00:03.000Z",
        reportedState: "primary",
        goalState: "primary",
        description: 'Node node 1 "node1" (node1:5432) is marked as unhealthy by the monitor',
      },
      { kind: "monitor", subject: "node", node: "node1", reportedState: "primary", goalState: "primary", health: "bad", pgRunning: true },
    ]);

    // The monitor dies: unreachable once, with the error; a poll does not throw, and the picture keeps the last nodes seen.
    seen.length = 0;
    const port = monitor.port;
    await monitor.kill();
    await observer.poll();
    await observer.poll();
    expect(seen).toEqual([{ kind: "monitor", subject: "reachable", reachable: false, error: expect.any(String) }]);
    expect(observer.picture.reachable).toBe(false);
    expect(observer.picture.nodes.get("node1")?.health).toBe("bad");

    // It comes back on the same port: one new connection, reachable again, and the log read on from where it was.
    seen.length = 0;
    monitor.tables.event.push(event(4, "node2", "secondary", "prepare_promotion", "Setting goal state of node 2 … to prepare_promotion"));
    await monitor.listen(port);
    await observer.poll();
    expect(seen.map((o) => [o.subject, o.eventId ?? o.reachable])).toEqual([
      ["reachable", true],
      ["event", 4],
    ]);
  });

  it("records a monitor on a closed port unreachable once, and its loop runs until stopped", async () => {
    const closed = new FakeMonitor();
    await closed.listen();
    const port = closed.port;
    await closed.kill();
    const { observer, seen } = observe(() => port, 20);
    observer.start();
    await observer.waitUntil(() => (observer.picture.polls >= 3 ? true : `${observer.picture.polls} polls`), 5000, "three polls");
    expect(seen).toEqual([{ kind: "monitor", subject: "reachable", reachable: false, error: expect.stringMatching(/ECONNREFUSED/) }]);
    expect(settled(observer.picture, ["node1", "node2"])).toBe("the monitor does not answer");
    await observer.stop();
    await observer.stop();
    const polls = observer.picture.polls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(observer.picture.polls).toBe(polls);
    await expect(observer.waitUntil(() => "never", 1000, "something")).rejects.toThrow(/something: the observer stopped \(never\)/);
  });
});
