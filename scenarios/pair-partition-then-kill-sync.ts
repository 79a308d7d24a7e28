import { containerPair, defineScenario, kill, partition, promote, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "pair-partition-then-kill-sync",
  description:
    "The same cut-then-kill with synchronous replication: commits wait for the standby, so writes block (unknown outcome) during the cut and no acknowledged write is lost.",
  target: containerPair({ replication: "sync" }),
  probes: [selectOne({ every: "50ms", timeout: "500ms" }), trackedWrites({ every: "50ms" }), role()],
  steadyState: { window: "3s", minAvailability: 1 },
  schedule: [
    { at: "3s", fault: partition({ between: ["primary", "standby"] }) },
    { at: "6s", fault: kill("primary") },
    { at: "6.5s", action: promote("standby") },
  ],
  duration: "12s",
  gate: { "writes.lostAcknowledged": "== 0", "failover.latencyMs": "< 30000" },
});
