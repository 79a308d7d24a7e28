import { containerPair, defineScenario, kill, promote, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "pair-kill-primary",
  description:
    "The seed guide's failover test on a container pair: SIGKILL the primary, promote the standby after a 1 s detection delay. Gate: failover < 30 s (the guide's CloudNativePG claim). With async replication the writes acknowledged in the instant of the crash can be lost (RPO > 0): they are counted and listed, not gated; the sync scenarios gate them at zero.",
  target: containerPair({ replication: "async" }),
  probes: [selectOne({ every: "50ms", timeout: "500ms" }), trackedWrites({ every: "50ms" }), role()],
  steadyState: { window: "3s", minAvailability: 1 },
  schedule: [
    { at: "3s", fault: kill("primary") },
    { at: "3s", action: promote("standby", { after: "1s" }) },
  ],
  duration: "12s",
  gate: {
    // A share of time: the outage here is about 1.2 s of 12 s (0.9); 0.7 allows three times that.
    "availability.ratio": ">= 0.7",
    "failover.latencyMs": "< 30000",
  },
});
