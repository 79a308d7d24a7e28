import { cnpgCluster, defineScenario, role, selectOne, switchover, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "cnpg-switchover",
  description:
    "A planned switchover, what `kubectl cnpg promote` does: set the Cluster's status.targetPrimary to a replica and let the operator demote the primary and promote it. A planned switchover shuts the old primary down cleanly, so no acknowledged write may be lost. Gates: zero lost writes, switchover < 30 s. Needs Docker, kind and the internet.",
  target: cnpgCluster({ instances: 3 }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [{ at: "15s", action: switchover("replica") }],
  duration: "75s",
  gate: {
    "writes.lostAcknowledged": "== 0",
    "failover.latencyMs": "< 30000",
  },
});
