import { cnpgCluster, defineScenario, nodeDown, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "cnpg-node-down",
  description:
    "The Kubernetes node hosting the CloudNativePG primary goes down at once, as a crashed machine does: its kind node container is killed with every pod on it, and nothing tells the API server. Kubernetes learns of it only when the node's lease runs out (the node monitor's grace period), the primary's pod is marked not ready, and the operator acts; users report 40–80 s. The node is started again after 90 s and rejoins. Gates: a failover within 90 s, and no split brain as the role probe sees it when the old primary's node comes back. Async replication: lost acknowledged writes are reported, not gated. Needs Docker and kind (a node of its own for the primary: the kind cluster has two workers).",
  target: cnpgCluster({ instances: 3 }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [{ at: "15s", for: "90s", fault: nodeDown("primary") }],
  duration: "150s",
  gate: {
    "failover.latencyMs": "< 90000",
    "splitBrain.overlapMs": "== 0",
  },
});
