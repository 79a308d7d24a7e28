import { containerPair, defineScenario } from "../harness/index.ts";
import asynchronous from "./pair-partition-then-kill.ts";

// The same drill as pair-partition-then-kill; only the replication mode and the expectations differ.
export default defineScenario({
  ...asynchronous,
  name: "pair-partition-then-kill-sync",
  description:
    "The same cut-then-kill with synchronous replication: commits wait for the standby, so writes block (unknown outcome) during the cut and no acknowledged write is lost.",
  target: containerPair({ replication: "sync" }),
  gate: { "writes.lostAcknowledged": "== 0", "failover.latencyMs": "< 30000" },
});
