import { cnpgCluster, defineScenario, netem, role, selectOne, trackedWrites } from "../harness/index.ts";

// The Kubernetes twin of pair-slow-network-to-standby: with two instances and synchronous
// replication the one replica must confirm every commit, so its slow network is the writers' too.
export default defineScenario({
  name: "cnpg-slow-network-to-replica",
  description:
    "A 2-instance CloudNativePG cluster with synchronous replication: 100 ms of delay on everything the replica sends (tc netem in its pod's network namespace, from its kind node) for 20 s. Commits wait for its confirmation, so write latency rises by about the delay; nothing fails over, nothing is lost. Needs Docker and kind; on a kernel without the netem qdisc the delay runs in pgdrill's packet delayer on the kind node, which needs python3 there (pgdrill's node image, fixtures/kind/build.sh, has it; kindest/node has not).",
  target: cnpgCluster({ instances: 2, replication: "sync" }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [{ at: "15s", for: "20s", fault: netem("replica", { delay: "100ms" }) }],
  duration: "45s",
  gate: {
    "writes.lostAcknowledged": "== 0",
    "availability.ratio": ">= 0.99",
    // Split brain as the role probe sees it; label overlap (operator.multiplePrimaryLabelsMs) is reported, not gated.
    "splitBrain.overlapMs": "== 0",
  },
});
