import { cnpgCluster, defineScenario, kill, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "cnpg-kill-operator-then-primary",
  description:
    "Delete the operator's pod, then the primary's 2 s later: the failover must wait for a new operator pod to start and take over. How much longer is the outage than with a healthy operator (cnpg-kill-primary)? Gate: failover < 60 s. Needs Docker, kind and the internet.",
  target: cnpgCluster({ instances: 3 }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [
    { at: "15s", fault: kill("operator") },
    { at: "17s", fault: kill("primary") },
  ],
  duration: "120s",
  gate: {
    "failover.latencyMs": "< 60000",
    // Split brain as the role probe sees it; label overlap (operator.multiplePrimaryLabelsMs) is reported, not gated.
    "splitBrain.overlapMs": "== 0",
  },
});
