import { cnpgCluster, defineScenario, partition, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "cnpg-partition-primary",
  description:
    "Cut the CloudNativePG primary off the network for 60 s (iptables in the pod's network namespace, from its kind node): clients, replicas, the operator and kubelet all lose it. Does the operator fail over, does the old primary stop taking writes, and are acknowledged writes lost when the cut heals? Gates: failover < 60 s and no two pods labelled primary at once. Needs Docker, kind and the internet.",
  target: cnpgCluster({ instances: 3 }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [{ at: "15s", for: "60s", fault: partition({ isolate: "primary" }) }],
  duration: "120s",
  gate: {
    "failover.latencyMs": "< 60000",
    // Split brain as the role probe sees it; label overlap (operator.multiplePrimaryLabelsMs) is reported, not gated.
    "splitBrain.overlapMs": "== 0",
  },
});
