import { containerPair, defineScenario, kill, partition, promote, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "pair-partition-then-kill",
  description:
    "Async replication's weakness, shown: cut the primary off from the standby, keep writing (the primary still acknowledges), kill it, promote the standby. The writes acknowledged during the cut are lost; the gate on lost writes fails by design (exit 1).",
  target: containerPair({ replication: "async" }),
  probes: [selectOne({ every: "50ms", timeout: "500ms" }), trackedWrites({ every: "50ms" }), role()],
  steadyState: { window: "3s", minAvailability: 1 },
  schedule: [
    { at: "3s", fault: partition({ between: ["primary", "standby"] }) },
    { at: "6s", fault: kill("primary") },
    { at: "6.5s", action: promote("standby") },
  ],
  duration: "12s",
  gate: { "writes.lostAcknowledged": "== 0" },
});
