/**
 * The cnpg target for real: kind clusters from the node image fixtures/kind/build.sh builds here
 * (Kubernetes v1.34 from its Go modules), CloudNativePG 1.30's operator built from its module and
 * installed from its own release manifest, PostgreSQL from Debian 12, the probes in the cluster
 * (the runner pod). pgdrill is run as users run it: `pgdrill run <scenario>`, as a process. Run by
 * `npm run test:k8s`; each drill takes minutes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { pgdrill, readEvents } from "../integration/helpers.ts";
import { describeRun, pgdrillKindClusters, pgdrillKindNodes, readResult, requireLocalImages } from "./helpers.ts";

const out = mkdtempSync(join(tmpdir(), "pgdrill-k8s-"));

function logLines(events: HistoryEvent[], prefix: string): string[] {
  return events.filter((e) => e.kind === "log" && e.message.startsWith(prefix)).map((e) => (e.kind === "log" ? e.message : ""));
}

/** What every real in-cluster drill must show: the runner pod probed, from the image pgdrill loaded, with clock estimates. */
function expectRanInCluster(events: HistoryEvent[]) {
  expect(logLines(events, "probes ran in the cluster: pod ").length).toBe(1);
  expect(logLines(events, "probe runner: pgdrill ")).toEqual([expect.stringMatching(/^probe runner: pgdrill \S+ on node v24\.\d+\.\d+ as uid 1000$/)]);
  expect(logLines(events, "probe runner clock (before the probes)").length).toBe(1);
}

beforeAll(() => {
  requireLocalImages();
  expect(pgdrillKindClusters(), "a pgdrill kind cluster is left from an earlier run: pgdrill reap --all").toEqual([]);
});

afterAll(() => {
  // Whatever a failed test left: pgdrill's own clean-up is what the tests assert, this is the net.
  if (pgdrillKindClusters().length > 0) pgdrill(["reap", "--all"]);
});

describe("cnpg on a real kind cluster and a real CloudNativePG operator", { timeout: 1_800_000 }, () => {
  it("the seed guide's test as a user runs it: `pgdrill run cnpg-kill-primary` makes a kind cluster, installs the operator, deletes the primary pod and measures the failover, then deletes everything", async () => {
    const runDir = join(out, "cnpg-kill-primary");
    const run = pgdrill(["run", "cnpg-kill-primary", "--out", runDir]);
    const { code } = await run.exit;
    const output = run.output();
    console.log(output);
    const result = readResult(runDir);
    console.log(describeRun("cnpg-kill-primary (own cluster)", result));
    const events = readEvents(runDir);
    // The images came from this machine: kind's node image, the operator and PostgreSQL built here, loaded into the nodes.
    const logged = output;
    expect(logged).toMatch(/cnpg: creating kind cluster pgdrill-\S+ from pgdrill\/kind-node:v1\.34\.\d+/);
    expect(logLines(events, "cnpg: kind cluster pgdrill-")).toEqual([expect.stringMatching(/ up in \d+ ms$/)]);
    expect(logLines(events, "cnpg: operator cnpg-system/cnpg-controller-manager ready in ")).toHaveLength(1);
    expect(logged).toMatch(/cnpg: loaded pgdrill\/probe-runner:\S+ into pgdrill-/);
    expect(logged).toMatch(/cnpg: loaded pgdrill\/cloudnative-pg:1\.30\.0 into pgdrill-/);
    expect(logged).toMatch(/cnpg: loaded pgdrill\/cnpg-postgresql:15\.\d+ into pgdrill-/);
    expectRanInCluster(events);
    // The operator failed over and the clients came back. The shipped gate holds the promotion to
    // CloudNativePG's own E2E budget on kind (20 s: the 15 s Lease, then 2 + 3); on this 2-core
    // machine real runs promote in 19.7–20.7 s, so the verdict is the drill's finding (pass or
    // deviated) and the test holds pgdrill to what it must do: measure it, and not error.
    expect(result.metrics.failover.happened).toBe(true);
    expect(result.metrics.operator.leaseReleased).toBe(false);
    expect(result.metrics.operator.leaseAcquiredAfterMs).toBeGreaterThan(14_000);
    expect(result.metrics.operator.promotedAfterMs).toBeLessThan(30_000);
    expect(result.metrics.splitBrain.overlapMs).toBe(0);
    expect(result.verdict).not.toBe("errored");
    expect(code).toBeLessThan(2);
    // Nothing left: no kind cluster, no node container.
    expect(pgdrillKindClusters()).toEqual([]);
    expect(pgdrillKindNodes()).toEqual([]);
  });

  it("five more shipped scenarios as one series sharing a kind cluster and operator (--share-cluster): each drill its own namespace and Cluster, the cluster made once and deleted after the last", async () => {
    const names = ["cnpg-switchover", "cnpg-partition-primary", "cnpg-slow-network-to-replica", "cnpg-kill-operator-then-primary", "cnpg-node-down"];
    const dir = join(out, "series");
    const run = pgdrill(["run", ...names, "--share-cluster", "--out", dir]);
    const { code } = await run.exit;
    const output = run.output();
    console.log(output.split("\n").filter((line) => !line.includes("watch ended")).join("\n"));
    // One kind cluster and one operator for the five drills; deleted once the series ended.
    expect(output.match(/cnpg: creating kind cluster /g)).toHaveLength(1);
    expect(output.match(/cnpg: using the series' shared kind cluster /g)).toHaveLength(5);
    expect(output.match(/cnpg: no CloudNativePG installed; installing /g)).toHaveLength(1);
    expect(output.match(/cnpg: using the installed CloudNativePG /g)).toHaveLength(4);
    expect(output).toMatch(/removed what the series shared: kind cluster pgdrill-/);
    const results = Object.fromEntries(names.map((name) => [name, readResult(join(dir, name))]));
    for (const name of names) {
      console.log(describeRun(name, results[name]!));
      expectRanInCluster(readEvents(join(dir, name)));
      // Each drill removed its own namespace and Cluster; the shared cluster stayed for the next.
      expect(output).toMatch(new RegExp(`removed namespace pgdrill-${results[name]!.runId}`));
      expect(results[name]!.verdict).not.toBe("errored");
    }
    // A planned switchover loses nothing.
    expect(results["cnpg-switchover"]!.metrics.failover.happened).toBe(true);
    expect(results["cnpg-switchover"]!.metrics.writes.lostAcknowledged).toBe(0);
    // A primary cut off the network for 60 s: the rw Service empties once the kubelet's probes fail,
    // the operator starts a failover (targetPrimary pending) and no two instances take writes. What
    // CloudNativePG 1.30 does next is what the drill reports: here the cut healed before the
    // replica held the primary Lease, the old primary renewed it, and the failover stalled
    // (test/fixtures/cnpg/kind/partition-primary), so whether it failed over is not asserted.
    const partition = readEvents(join(dir, "cnpg-partition-primary"));
    expect(partition.some((e) => e.kind === "k8s" && e.subject === "cluster" && e.targetPrimary === "pending")).toBe(true);
    expect(results["cnpg-partition-primary"]!.metrics.splitBrain.overlapMs).toBe(0);
    // A slow replica under sync replication slows commits; nothing fails over.
    expect(results["cnpg-slow-network-to-replica"]!.metrics.failover.happened).toBe(false);
    // With its operator gone, CloudNativePG still fails over once a new operator leads.
    expect(results["cnpg-kill-operator-then-primary"]!.metrics.failover.happened).toBe(true);
    // The primary's node down: a failover, paced by Kubernetes noticing the node, and the node back after.
    const nodeDown = readEvents(join(dir, "cnpg-node-down")).filter((e) => e.kind === "fault");
    expect(nodeDown.map((e) => (e.kind === "fault" ? `${e.phase} ${e.ok}` : ""))).toEqual(["inject true", "heal true"]);
    expect(results["cnpg-node-down"]!.metrics.failover.happened).toBe(true);
    expect(pgdrillKindClusters()).toEqual([]);
    expect(pgdrillKindNodes()).toEqual([]);
    expect(code).toBeLessThan(2);
  });
});
