/**
 * The cnpg target's observation: what Kubernetes said, from its watches (observer.ts). Declared
 * here, with the shape that validates it when a History is read back, so the core History carries
 * it without naming it.
 */
import type { Shape } from "../../history/validate.ts";
import { arrayOf, boolean, nullable, number, oneOf, optional, string } from "../../history/validate.ts";

/**
 * A pod's role label changed (primary, replica, unhealthy; null when the label is absent, as it can
 * be mid-failover; "deleted" when the pod went away), the Cluster's status changed (currentPrimary,
 * targetPrimary — "pending" while the operator elects a new primary — and phase), the primary Lease
 * changed hands or was renewed (`subject: "lease"`), or the ready pods behind the rw Service's
 * EndpointSlices changed (`subject: "endpoints"`: where the rw Service really routes, empty while it
 * routes nowhere).
 */
export interface KubeEvent {
  kind: "k8s";
  t: number;
  subject: "pod" | "cluster" | "lease" | "endpoints";
  /** Pod, Cluster, Lease or Service name. */
  name: string;
  role?: string | null;
  currentPrimary?: string;
  targetPrimary?: string;
  phase?: string;
  /** subject "lease": spec.holderIdentity, null when released (empty) or the Lease is gone. */
  holder?: string | null;
  /** subject "lease": spec.renewTime as the holder wrote it (its clock, not pgdrill's). */
  renewTime?: string | null;
  /** subject "lease": spec.leaseDurationSeconds. */
  leaseDurationSeconds?: number;
  /** subject "endpoints": the pods the Service's EndpointSlices list as ready, by name. */
  ready?: string[];
  /** The watch lost its place (410 Gone, reset) and listed again; state may have jumped. */
  resync?: boolean;
}

/** apiv1.PhaseFailOver, the Cluster's phase while a failover is under way. */
export const FAILING_OVER = "Failing over";

declare module "../../history/events.ts" {
  interface Observations {
    k8s: KubeEvent;
  }
}

export const kubeEventShape: Shape<KubeEvent> = {
  subject: oneOf({ pod: true, cluster: true, lease: true, endpoints: true }),
  name: string,
  role: optional(nullable(string)),
  currentPrimary: optional(string),
  targetPrimary: optional(string),
  phase: optional(string),
  holder: optional(nullable(string)),
  renewTime: optional(nullable(string)),
  leaseDurationSeconds: optional(number),
  ready: optional(arrayOf(string, "strings")),
  resync: optional(boolean),
};
