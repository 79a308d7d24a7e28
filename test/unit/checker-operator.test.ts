/**
 * The operator check (harness/checker/operator.ts) on CloudNativePG's own sequences: how long
 * targetPrimary was "pending" when the operator resets it on every pass of a waiting failover, as
 * the first real run (kind v1.34.4, CloudNativePG 1.30.0: test/fixtures/cnpg/kind/kill-primary)
 * recorded it.
 */
import { describe, expect, it } from "vitest";
import { operatorChecker } from "../../harness/targets/cnpg/operator-check.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import type { KubeEvent } from "../../harness/targets/cnpg/events.ts";
import { readHistory } from "../../harness/history/reader.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import { history } from "../fixtures/histories/builder.ts";

const REAL = new URL("../fixtures/cnpg/kind/kill-primary/history.jsonl", import.meta.url).pathname;

const cluster = (t: number, currentPrimary: string, targetPrimary: string, phase = "Failing over"): KubeEvent => ({ kind: "k8s", t, subject: "cluster", name: "pg", currentPrimary, targetPrimary, phase });

/** A fault at 1000 and the Cluster's status events after it. */
function drill(...events: KubeEvent[]): HistoryEvent[] {
  const builder = history().start({ primary: "pg-1", nodes: ["pg-1", "pg-2"] });
  builder.events.push(cluster(10, "pg-1", "pg-1", "Cluster in healthy state"));
  builder.fault(1000, "delete primary pod");
  builder.events.push(...events);
  return builder.end(9000).events;
}

describe("the operator check's targetPrimary pending", () => {
  it("runs from the first pending to the new name, across the resets to currentPrimary of a failover that waits for the WAL receivers", () => {
    const events = drill(cluster(1600, "pg-1", "pg-1"), cluster(1620, "pg-1", "pending"), cluster(1740, "pg-1", "pg-1"), cluster(1940, "pg-1", "pending"), cluster(2040, "pg-1", "pg-1"), cluster(2560, "pg-1", "pending"), cluster(2670, "pg-1", "pg-2"), cluster(8000, "pg-2", "pg-2"));
    expect(operatorChecker.check(events).metrics).toMatchObject({ pendingMs: 2670 - 1620, promotedAfterMs: 7000, newPrimary: "pg-2" });
  });

  it("ends at a reset that stays (the phase moved on: no failover after all), and a later failover counts on its own", () => {
    const events = drill(
      cluster(1620, "pg-1", "pending"),
      cluster(1740, "pg-1", "pg-1"),
      cluster(2500, "pg-1", "pg-1", "Cluster in healthy state"),
      cluster(5000, "pg-1", "pending"),
      cluster(5300, "pg-1", "pg-2"),
    );
    expect(operatorChecker.check(events).metrics.pendingMs).toBe(1740 - 1620 + 300);
  });

  it("ends when currentPrimary changes, and at the reset when the History ends inside one", () => {
    expect(operatorChecker.check(drill(cluster(1200, "pg-1", "pending"), cluster(1600, "pg-2", "pg-2"))).metrics.pendingMs).toBe(400);
    expect(operatorChecker.check(drill(cluster(1200, "pg-1", "pending"), cluster(1500, "pg-1", "pg-1"))).metrics.pendingMs).toBe(300);
  });

  it("reads the real run's five flips as one election of 2.05 s (the sum of its pending spans was 0.87 s)", async () => {
    const { events } = await readHistory(REAL, TARGET_OBSERVATIONS);
    const { metrics } = operatorChecker.check(events);
    expect(metrics.pendingMs).toBeCloseTo(164652.039 - 162605.472, 3);
    expect(metrics).toMatchObject({ newPrimary: "pgdrill-2", leaseReleased: false });
  });
});
