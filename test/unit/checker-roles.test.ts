import { describe, expect, it } from "vitest";
import { rolesChecker } from "../../harness/checker/roles.ts";
import { splitBrainChecker } from "../../harness/checker/split-brain.ts";
import { history } from "../fixtures/histories/builder.ts";

// Role samples complete 2 ms after they are invoked (the builder's default), and are dated then.
const sequential = history()
  .start()
  .role(0, "primary", "primary", 1)
  .role(100, "standby", "standby", 1)
  .role(200, "primary", "primary", 1)
  .role(300, "standby", "standby", 1)
  .role(400, "primary", "down")
  .role(500, "standby", "primary", 2)
  .role(600, "primary", "down")
  .role(700, "standby", "primary", 2)
  .role(800, "primary", "standby", 2)
  .end(1000).events;

describe("roles checker", () => {
  it("records each node's first sample and every change of role or timeline", () => {
    const { valid, metrics } = rolesChecker.check(sequential);
    expect(valid).toBe(true);
    expect(metrics.changes).toEqual([
      { t: 2, node: "primary", role: "primary", timeline: 1 },
      { t: 102, node: "standby", role: "standby", timeline: 1 },
      { t: 402, node: "primary", role: "unreachable", timeline: null },
      { t: 502, node: "standby", role: "primary", timeline: 2 },
      { t: 802, node: "primary", role: "standby", timeline: 2 },
    ]);
  });

  it("is unknown without a role probe", () => {
    expect(rolesChecker.check(history().start().select1(0, "ok").end(10).events).valid).toBe("unknown");
  });
});

describe("split-brain checker", () => {
  it("finds nothing when one primary hands over to the next", () => {
    const { valid, metrics } = splitBrainChecker.check(sequential);
    expect(valid).toBe(true);
    expect(metrics).toEqual({ detected: false, overlapMs: 0, windows: [], acknowledgedInOverlap: {}, readOnlyPrimaries: [] });
  });

  it("detects two primaries whose samples overlap, and measures the overlap", () => {
    const events = history()
      .start()
      .role(0, "primary", "primary", 1)
      .role(100, "standby", "standby", 1)
      .role(200, "primary", "primary", 1)
      .role(300, "standby", "primary", 2) // promoted while the old primary still accepts writes
      .role(400, "primary", "primary", 1)
      .role(500, "standby", "primary", 2)
      .role(600, "primary", "down")
      .role(700, "standby", "primary", 2)
      .end(1000).events;
    const { valid, metrics, reason } = splitBrainChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics).toEqual({
      detected: true,
      overlapMs: 300,
      windows: [{ startMs: 302, endMs: 602, nodes: ["primary", "standby"], acknowledged: { primary: 0, standby: 0 } }],
      acknowledgedInOverlap: { primary: 0, standby: 0 },
      readOnlyPrimaries: [],
    });
    expect(reason).toMatch(/primary and standby were both writable primaries from 302 ms/);
  });

  it("does not count a hand-over at the same instant as an overlap", () => {
    const events = history()
      .start()
      .role(0, "primary", "primary")
      .role(100, "primary", "down")
      .role(100, "standby", "primary", 2)
      .role(200, "standby", "primary", 2)
      .end(300).events;
    expect(splitBrainChecker.check(events).metrics.detected).toBe(false);
  });

  // pg_auto_failover's promotion: the new primary is out of recovery but read-only for up to its demote timeout.
  const promotedReadOnly = history()
    .start()
    .role(0, "primary", "writable", 1)
    .role(100, "standby", "standby", 1)
    .role(200, "primary", "writable", 1)
    .role(300, "standby", "read-only", 2) // promoted, refuses writes
    .role(400, "primary", "writable", 1)
    .role(500, "standby", "read-only", 2)
    .role(600, "primary", "down")
    .role(700, "standby", "writable", 2)
    .role(800, "standby", "writable", 2)
    .end(1000).events;

  it("does not call two promoted nodes a split brain when only one accepts writes, and names the read-only one", () => {
    const { valid, metrics, reason } = splitBrainChecker.check(promotedReadOnly);
    expect(valid).toBe(true);
    expect(metrics).toEqual({
      detected: false,
      overlapMs: 0,
      windows: [],
      acknowledgedInOverlap: {},
      readOnlyPrimaries: [{ node: "standby", startMs: 302, endMs: 702 }],
    });
    expect(reason).toBe(
      "no split brain: primary and standby were both promoted from 302 ms, but at most one accepted writes (read-only: standby from 302 to 702 ms)",
    );
  });

  it("detects two writable primaries as a split brain", () => {
    const events = history()
      .start()
      .role(0, "primary", "writable", 1)
      .role(100, "standby", "read-only", 2)
      .role(200, "standby", "writable", 2) // writable while the old primary still is
      .role(300, "primary", "writable", 1)
      .role(400, "primary", "standby", 2)
      .role(500, "standby", "writable", 2)
      .end(600).events;
    const { valid, metrics } = splitBrainChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics.windows).toEqual([
      { startMs: 202, endMs: 402, nodes: ["primary", "standby"], acknowledged: { primary: 0, standby: 0 } },
    ]);
    expect(metrics.readOnlyPrimaries).toEqual([{ node: "standby", startMs: 102, endMs: 202 }]);
  });

  // pg_auto_failover's old primary cut from the monitor (CI): it stayed writable, but synchronous replication held every commit.
  it("counts the writes each node acknowledged inside the overlap, so an old primary that committed nothing is told apart", () => {
    const events = history()
      .start()
      .role(0, "primary", "writable", 1)
      .role(0, "standby", "standby", 1)
      .write(1, 50, "ok", 5, "primary")
      .role(200, "standby", "writable", 2)
      .write(2, 250, "info", 1000, "primary") // hung on the old primary: never acknowledged
      .write(3, 300, "ok", 5, "standby")
      .write(4, 350, "ok", 5, "standby")
      .role(400, "primary", "writable", 1)
      .role(600, "primary", "standby", 2)
      .role(600, "standby", "writable", 2)
      .write(5, 700, "ok", 5, "standby") // after the overlap
      .end(800).events;
    const { valid, metrics, reason } = splitBrainChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics.windows).toEqual([
      { startMs: 202, endMs: 602, nodes: ["primary", "standby"], acknowledged: { primary: 0, standby: 2 } },
    ]);
    expect(reason).toMatch(/writes acknowledged in the overlap: primary 0, standby 2$/);
  });

  it("records a primary turning writable as a role change, marked read-only before", () => {
    const { metrics } = rolesChecker.check(promotedReadOnly);
    expect(metrics.changes.filter((change) => change.node === "standby")).toEqual([
      { t: 102, node: "standby", role: "standby", timeline: 1 },
      { t: 302, node: "standby", role: "primary", readOnly: true, timeline: 2 },
      { t: 702, node: "standby", role: "primary", timeline: 2 },
    ]);
  });
});
