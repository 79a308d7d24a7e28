import { containerPair, defineScenario, netem, role, selectOne, trackedWrites } from "../harness/index.ts";

// What a slow link to the synchronous standby costs: every commit waits for the standby's reply,
// so write latency rises by about the delay while reads on the primary do not notice.
export default defineScenario({
  name: "pair-slow-network-to-standby",
  description:
    "Synchronous replication over a slow link: 100 ms of delay on everything the standby sends (its replies to the primary among it) for 5 s. Commits wait for those replies, so write latency rises by about the delay; reads on the primary stay fast, nothing is lost, and latency returns to normal when the link heals.",
  target: containerPair({ replication: "sync" }),
  probes: [selectOne({ every: "50ms", timeout: "500ms" }), trackedWrites({ every: "50ms", timeout: "2s" }), role()],
  steadyState: { window: "3s", minAvailability: 1 },
  schedule: [{ at: "3s", for: "5s", fault: netem("standby", { delay: "100ms" }) }],
  duration: "11s",
  gate: { "writes.lostAcknowledged": "== 0", "availability.ratio": ">= 0.99", "writes.unknown": "== 0" },
});
