/**
 * What the operations guide this project grew from promises for each HA strategy, so a report can
 * put the measured failover beside the claim for the strategy it drilled. Which strategy a target
 * drills is its plugin's to say; the registry is pure data, so reports load no target runtime.
 */
import type { Metrics } from "../result.ts";
import { targetPlugin } from "../targets/registry.ts";
export interface StrategyClaim {
  strategy: string;
  /** Claimed failover time, as the guide writes it. */
  failover: string;
  rto: string;
  /** Upper bound of the claimed failover in ms, when the claim has one. */
  failoverBoundMs: number | null;
}

export const GUIDE_CLAIMS: readonly StrategyClaim[] = [
  { strategy: "AWS RDS Multi-AZ", failover: "60–120 s", rto: "2 min", failoverBoundMs: 120_000 },
  { strategy: "GCP Cloud SQL HA", failover: "~60 s", rto: "1–2 min", failoverBoundMs: 60_000 },
  { strategy: "Supabase", failover: "provider-managed", rto: "< 1 min", failoverBoundMs: 60_000 },
  { strategy: "CloudNativePG", failover: "10–30 s", rto: "30 s", failoverBoundMs: 30_000 },
  { strategy: "Manual streaming replication", failover: "manual", rto: "varies", failoverBoundMs: null },
];

/** The claim for the strategy a target's plugin says it drills (the container pair: manual streaming replication). */
export function claimFor(target: string): StrategyClaim | null {
  const strategy = targetPlugin(target)?.strategy;
  return GUIDE_CLAIMS.find((claim) => claim.strategy === strategy) ?? null;
}

/**
 * A measured failover against a claim: "within" or "slower" than its bound; null when the claim has
 * no bound or there was no failover to compare (the same primary came back: a recovery is not one).
 */
export function againstClaim(claim: StrategyClaim, failover: Metrics["failover"]): "within" | "slower" | null {
  if (failover.happened !== true || failover.latencyMs === null || claim.failoverBoundMs === null) return null;
  return failover.latencyMs <= claim.failoverBoundMs ? "within" : "slower";
}
