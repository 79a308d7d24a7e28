import { cnpgCluster, defineScenario, kill, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "cnpg-kill-primary",
  description:
    "The seed guide's CloudNativePG failover test, automated: 3 instances on a kind cluster pgdrill creates, delete the primary pod (grace 0) and let the operator fail over; clients reach the database through the rw service, as applications do. Gate: failover < 30 s, the guide's claim. Async replication: lost acknowledged writes are reported, not gated. Needs Docker, kind and the internet (see .github/workflows/cnpg.yml).",
  target: cnpgCluster({ instances: 3 }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [{ at: "15s", fault: kill("primary") }],
  duration: "90s",
  gate: {
    "failover.latencyMs": "< 30000",
    "operator.multiplePrimaryLabelsMs": "== 0",
  },
});
