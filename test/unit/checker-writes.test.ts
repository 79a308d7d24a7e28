import { describe, expect, it } from "vitest";
import { writesChecker } from "../../harness/checker/writes.ts";
import { history, type HistoryBuilder } from "../fixtures/histories/builder.ts";

/** ids 1-4 acknowledged, 5 failed, 6-7 unknown (info), 8 invoked and never completed. */
function drill(): HistoryBuilder {
  return history()
    .start()
    .write(1, 0, "ok")
    .write(2, 100, "ok")
    .write(3, 200, "ok")
    .write(4, 300, "ok")
    .write(5, 400, "fail")
    .write(6, 500, "info")
    .write(7, 600, "info")
    .write(8, 700, "pending");
}

describe("writes checker (lost writes)", () => {
  it("finds acknowledged ids missing from the final read; unknown writes are neither lost nor safe", () => {
    const events = drill().finalRead(1000, [1, 2, 4, 6]).end(1100).events;
    const { valid, metrics, reason } = writesChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics).toEqual({
      attempted: 8,
      acknowledged: 4,
      failed: 1,
      unknown: 3,
      lostAcknowledged: 1,
      lostIds: [3],
      unknownCommitted: 1,
      failedButPresent: 0,
      finalReadNode: "standby",
    });
    expect(reason).toMatch(/1 acknowledged write/);
  });

  it("is valid when every acknowledged id survived, whatever happened to unknown ones", () => {
    const events = drill().finalRead(1000, [1, 2, 3, 4, 7, 8]).end(1100).events;
    const { valid, metrics } = writesChecker.check(events);
    expect(valid).toBe(true);
    expect(metrics).toMatchObject({ lostAcknowledged: 0, lostIds: [], unknownCommitted: 2 });
  });

  it("flags a failed write that is present as an anomaly", () => {
    const events = drill().finalRead(1000, [1, 2, 3, 4, 5]).end(1100).events;
    const { valid, metrics, reason } = writesChecker.check(events);
    expect(valid).toBe(false);
    expect(metrics.failedButPresent).toBe(1);
    expect(reason).toMatch(/failed write/);
  });

  it("uses the last final read of the probe", () => {
    const events = drill().finalRead(1000, [1]).finalRead(1200, [1, 2, 3, 4], { node: "primary" }).end(1300).events;
    expect(writesChecker.check(events).metrics).toMatchObject({ lostAcknowledged: 0, finalReadNode: "primary" });
  });

  it("cannot say without a final read: loss counts are null and the check is unknown", () => {
    const { valid, metrics, reason } = writesChecker.check(drill().end(1100).events);
    expect(valid).toBe("unknown");
    expect(metrics).toMatchObject({ acknowledged: 4, lostAcknowledged: null, unknownCommitted: null, failedButPresent: null });
    expect(reason).toMatch(/no final read/);
  });

  it("treats a failed final read like a missing one", () => {
    const events = drill().finalRead(1000, [], { ok: false }).end(1100).events;
    const { valid, metrics, reason } = writesChecker.check(events);
    expect(valid).toBe("unknown");
    expect(metrics.lostAcknowledged).toBeNull();
    expect(reason).toMatch(/failed \(connection refused\)/);
  });

  it("is unknown when the run had no writes probe", () => {
    const events = history().start().select1(0, "ok").end(100).events;
    expect(writesChecker.check(events)).toMatchObject({ valid: "unknown", metrics: { attempted: 0, lostAcknowledged: null } });
  });
});
