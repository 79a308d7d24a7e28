import { cnpgCluster, defineScenario, kill, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "cnpg-kill-primary",
  description:
    "The seed guide's CloudNativePG failover test, automated: 3 instances on a kind cluster pgdrill creates, delete the primary pod (grace 0) and let the operator fail over; clients reach the database through the rw service, as applications do. A SIGKILL leaves CloudNativePG 1.30's primary Lease held, so the new primary waits out leaseDurationSeconds (15 s) first. Gates: the server-side gap (fault → the new primary's currentPrimary) < 20 s, CloudNativePG's own E2E budget on kind (tests/e2e/fastfailover_test.go: lease 15 s + retry 2 s + 3 s), the clients' failover < 30 s (the guide's claim) beside it, and no split brain as the role probe sees it (label overlap is reported, not gated). Async replication: lost acknowledged writes are reported, not gated. Needs Docker, kind and the internet (see .github/workflows/cnpg.yml).",
  target: cnpgCluster({ instances: 3 }),
  probes: [selectOne({ every: "100ms", timeout: "1s" }), trackedWrites({ every: "100ms", timeout: "2s" }), role({ every: "500ms" })],
  steadyState: { window: "10s", minAvailability: 1 },
  schedule: [{ at: "15s", fault: kill("primary") }],
  duration: "90s",
  gate: {
    "operator.promotedAfterMs": "< 20000",
    "failover.latencyMs": "< 30000",
    "splitBrain.overlapMs": "== 0",
  },
});
