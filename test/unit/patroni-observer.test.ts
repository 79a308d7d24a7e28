/**
 * The patroni observer against stand-ins: HTTP servers answering as Patroni's REST API does
 * (GET /patroni, GET /cluster) and a TCP server answering `show stat` as HAProxy's stats socket
 * does. It records `ha` and `endpoint` events on change only, says "no leader" as null, and a
 * member whose API does not answer as nulls.
 */
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PatroniObserver, type PatroniObservation } from "../../harness/targets/patroni/observer.ts";

interface FakeMember {
  patroni: object | null;
}

const HEADER = "# pxname,svname,status,check_status,";

describe("PatroniObserver", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function listen(server: Server | TcpServer): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  }

  async function world() {
    const members: Record<string, FakeMember> = {
      pg1: { patroni: { state: "running", role: "master", timeline: 1, replication: [{ application_name: "pg2", state: "streaming" }] } },
      pg2: { patroni: { state: "running", role: "replica", timeline: 1 } },
    };
    const state = { cluster: [{ name: "pg1", role: "leader", state: "running" }, { name: "pg2", role: "replica", state: "running", lag: 0 }] as object[], stat: "rw,pg1,UP,L7OK,\nrw,pg2,DOWN,L7STS,\nro,pg1,DOWN,L7STS,\nro,pg2,UP,L7OK,\n" };
    const apis: Record<string, string> = {};
    for (const name of Object.keys(members)) {
      const server = createServer((req, res) => {
        const member = members[name]!;
        // A member whose API does not answer: the connection is closed without a response.
        if (member.patroni === null) return req.socket.destroy();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(req.url === "/cluster" ? { members: state.cluster } : member.patroni));
      });
      apis[name] = `http://127.0.0.1:${await listen(server)}`;
    }
    const stats = createTcpServer((socket) => {
      socket.once("data", () => socket.end(`${HEADER}\n${state.stat}`));
    });
    const statsPort = await listen(stats);
    const seen: PatroniObservation[] = [];
    const observe = (everyMs: number) => new PatroniObserver({ apis, stats: { host: "127.0.0.1", port: statsPort }, record: (event) => seen.push(event), log: () => undefined, everyMs });
    return { members, state, observer: observe(10_000), observe, seen };
  }

  it("records the leader, each member and HAProxy's rw and ro once, then only what changed", async () => {
    const { members, state, observer, seen } = await world();
    await observer.poll();
    expect(seen).toEqual([
      { kind: "ha", manager: "patroni", subject: "leader", leader: "pg1" },
      { kind: "ha", manager: "patroni", subject: "member", name: "pg1", role: "primary", state: "running", timeline: 1, lagBytes: null },
      { kind: "ha", manager: "patroni", subject: "member", name: "pg2", role: "replica", state: "running", timeline: 1, lagBytes: 0 },
      { kind: "endpoint", endpoint: "rw", node: "pg1" },
      { kind: "endpoint", endpoint: "ro", node: "pg2" },
    ]);
    expect(observer.picture.senders.get("pg1")).toEqual([{ application_name: "pg2", state: "streaming" }]);

    seen.length = 0;
    await observer.poll();
    expect(seen).toEqual([]);

    // pg1 dies: its API stops answering, the leader key expires, then pg2 takes it and HAProxy follows.
    members.pg1!.patroni = null;
    state.cluster = [{ name: "pg2", role: "replica", state: "running", lag: 0 }];
    await observer.poll();
    expect(seen).toEqual([
      { kind: "ha", manager: "patroni", subject: "leader", leader: null },
      { kind: "ha", manager: "patroni", subject: "member", name: "pg1", role: null, state: null, timeline: null, lagBytes: null },
    ]);
    seen.length = 0;
    members.pg2!.patroni = { state: "running", role: "master", timeline: 2 };
    state.cluster = [{ name: "pg2", role: "leader", state: "running" }];
    state.stat = "rw,pg1,DOWN,L4CON,\nrw,pg2,UP,L7OK,\nro,pg1,DOWN,L4CON,\nro,pg2,DOWN,L7STS,\n";
    await observer.poll();
    expect(seen).toEqual([
      { kind: "ha", manager: "patroni", subject: "leader", leader: "pg2" },
      { kind: "ha", manager: "patroni", subject: "member", name: "pg2", role: "primary", state: "running", timeline: 2, lagBytes: null },
      { kind: "endpoint", endpoint: "rw", node: "pg2" },
    ]);
    await observer.stop();
  });

  it("runs on its own until stopped, and waitUntil sees each poll", async () => {
    const { observe } = await world();
    const fast = observe(20);
    fast.start();
    await fast.waitUntil(() => (fast.picture.polls >= 3 ? true : `${fast.picture.polls} polls`), 5000, "three polls");
    await fast.stop();
    const polls = fast.picture.polls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fast.picture.polls).toBe(polls);
    await expect(fast.waitUntil(() => "never", 1000, "something")).rejects.toThrow(/something: the observer stopped \(never\)/);
  });
});
