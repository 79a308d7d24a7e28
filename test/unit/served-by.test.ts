/**
 * Operations put on the node whose server answered them (history/served-by.ts), as the readers
 * see them. The first case is the CloudNativePG drill CI caught: under load the rw Service's move
 * reached pgdrill after the first write that went through it, so that write still carried the old
 * primary's name, and the drill read "no failover: recovered on the same primary (pg-1)".
 */
import { describe, expect, it } from "vitest";
import { failoverChecker } from "../../harness/checker/failover.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { OperationSequencer, type Operation } from "../../harness/history/operations.ts";
import { splitHistory } from "../../harness/history/read-model.ts";
import { ServedBy } from "../../harness/history/served-by.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

const PG1 = "10.244.1.5:5432";
const PG2 = "10.244.2.5:5432";

/** Role samples of both instances every 500 ms until `until`: pg-1 primary, pg-2 in recovery; pg-2 primary from `promotedAt`. */
function roleSamples(builder: HistoryBuilder, until: number, promotedAt = Number.POSITIVE_INFINITY, pg1DownFrom = Number.POSITIVE_INFINITY): HistoryBuilder {
  for (let at = 0; at < until; at += 500) {
    if (at < pg1DownFrom) builder.op("role", "role", at, at + 2, "ok", { node: "pg-1", worker: 0, value: { primary: true, timeline: 1, server: PG1 } });
    else builder.op("role", "role", at, at + 2, "fail", { node: "pg-1", worker: 0 });
    builder.op("role", "role", at + 1, at + 3, "ok", { node: "pg-2", worker: 1, value: { primary: at >= promotedAt, timeline: at >= promotedAt ? 2 : 1, server: PG2 } });
  }
  return builder;
}

/** The pod kill at 1000; writes through pg-rw fail until pg-2 takes them at 2800, the first still named after pg-1. */
function lateRouteChange(): HistoryEvent[] {
  const builder = history().start({ primary: "pg-1", nodes: ["pg-1", "pg-2"] });
  for (let id = 1; id <= 10; id += 1) builder.op("writes", "write", (id - 1) * 100, (id - 1) * 100 + 4, "ok", { node: "pg-1", server: PG1, value: id });
  builder.fault(1000, "kill primary (pod delete, grace 0) (pg-1)");
  for (let id = 11; id <= 27; id += 1) builder.op("writes", "write", (id - 1) * 100 + 50, (id - 1) * 100 + 52, "fail", { node: "pg-1", value: id });
  // Sent while the route still read pg-1 here, answered by pg-2's server.
  builder.op("writes", "write", 2750, 2764, "ok", { node: "pg-1", server: PG2, value: 28 });
  builder.op("writes", "write", 2850, 2854, "ok", { node: "pg-2", server: PG2, value: 29 });
  return roleSamples(builder, 4000, 2600, 1000).end(4000).events;
}

describe("which node served an operation", () => {
  it("a write answered by the new primary's server counts as the failover it was, though its route still named the old primary", () => {
    const { metrics, valid } = failoverChecker.check(lateRouteChange());
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ happened: true, evidence: "node pg-1 → pg-2", newPrimary: "pg-2", latencyMs: 1764, latencyUpperMs: 1764 });
  });

  it("names the same node whether the History is read whole or streamed with the 1 s hold", () => {
    const whole = splitHistory(lateRouteChange()).operations.filter((operation) => operation.type === "write").map((operation) => operation.node);
    const streamed: Operation[] = [];
    const sequencer = new OperationSequencer((operation) => streamed.push(operation), { holdMs: 1000 });
    for (const event of lateRouteChange()) if (event.kind === "invoke" || event.kind === "complete") sequencer.add(event);
    sequencer.finish();
    expect(streamed.filter((operation) => operation.type === "write").map((operation) => operation.node)).toEqual(whole);
    expect(whole.slice(26)).toEqual(["pg-1", "pg-2", "pg-2"]);
    expect(whole.slice(0, 10).every((node) => node === "pg-1")).toBe(true);
  });

  it("leaves the route's name where the server cannot tell: no server, a server no role sample named, one server behind two names", () => {
    const servedBy = new ServedBy();
    servedBy.learn("primary", "10.0.0.7:5432");
    servedBy.learn("replica", "10.0.0.8:5432");
    expect(servedBy.nodeFor(null, "primary")).toBe("primary");
    // A Unix-socket connection names no server: never matched.
    servedBy.learn("standby", "local socket");
    expect(servedBy.nodeFor("local socket", "pg-rw")).toBe("pg-rw");
    expect(servedBy.nodeFor("10.0.0.9:5432", "pgbouncer")).toBe("pgbouncer");
    expect(servedBy.nodeFor("10.0.0.8:5432", "pg-rw")).toBe("replica");
    // A managed endpoint after its failover: its "primary" host name now reaches the old replica's server.
    servedBy.learn("primary", "10.0.0.8:5432");
    expect(servedBy.nodeFor("10.0.0.8:5432", "primary")).toBe("primary");
    expect(servedBy.nodeFor("10.0.0.8:5432", "pg-rw")).toBe("pg-rw");
    // The route's own name, already sampled as that server, stays even when another name shares it.
    expect(servedBy.nodeFor("10.0.0.7:5432", "primary")).toBe("primary");
  });

  it("keeps the recorded node without role samples, and a select1 through a Service lands on its server's node with them", () => {
    const bare = history().start({ primary: "pg-1", nodes: ["pg-1", "pg-2"] }).op("select1", "select1", 0, 3, "ok", { node: "pg-rw", server: PG2 }).end(1000).events;
    expect(splitHistory(bare).operations[0]!.node).toBe("pg-rw");
    const sampled = roleSamples(history().start({ primary: "pg-1", nodes: ["pg-1", "pg-2"] }).op("select1", "select1", 0, 3, "ok", { node: "pg-rw", server: PG2 }), 1000).end(1000).events;
    const select = splitHistory(sampled).operations.find((operation) => operation.type === "select1")!;
    expect(select).toMatchObject({ node: "pg-2", server: PG2 });
  });
});
