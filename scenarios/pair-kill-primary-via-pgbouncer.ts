import { containerPair, defineScenario, kill, promote, role, selectOne, trackedWrites } from "../harness/index.ts";

export default defineScenario({
  name: "pair-kill-primary-via-pgbouncer",
  description:
    "The seed guide's failover test with its PgBouncer Pooler (transaction mode) in front: SIGKILL the primary, promote the standby after 1 s and repoint the pooler, as the Pooler follows the rw service. Pooled and direct clients are probed side by side, so the report shows what the pooler adds to (or hides from) the outage. PgBouncer runs with its own defaults (server_login_retry 15 s among them).",
  target: containerPair({ replication: "async", pooler: { mode: "transaction" } }),
  probes: [
    selectOne({ name: "direct", endpoint: "rw", every: "50ms", timeout: "500ms" }),
    selectOne({ name: "pooled", endpoint: "pooler", connection: "held", every: "50ms", timeout: "500ms" }),
    trackedWrites({ endpoint: "pooler", every: "50ms" }),
    role(),
  ],
  steadyState: { window: "3s", minAvailability: 1 },
  schedule: [
    { at: "3s", fault: kill("primary") },
    { at: "3s", action: promote("standby", { after: "1s" }) },
  ],
  duration: "25s",
  gate: {
    // The direct clients' share of time (the headline probe): about 1.1 s down of 25 s here (0.95).
    // The pooled ones stay down through PgBouncer's server_login_retry (about 0.4): shown, not gated.
    "availability.ratio": ">= 0.8",
    "failover.latencyMs": "< 30000",
    // Client recovery after the promotion, for the slowest path (the pooled clients, waiting out
    // server_login_retry's 15 s): the guide's 30 s budget.
    "anatomy.clientRecoveryMs": "< 30000",
  },
});
