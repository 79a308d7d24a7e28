/**
 * Installs the CloudNativePG operator from its release manifest (pinned version; a URL by default,
 * a local file optionally) with server-side apply, and waits until its CRD is established and its
 * deployment has a ready pod, as the seed guide's `kubectl wait … Available` does.
 */
import { readFile } from "node:fs/promises";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { HarnessError, InputError } from "../../errors.ts";
import type { CnpgTarget } from "./plugin.ts";
import { describeKubeError, type Kube } from "./kube.ts";
import { operatorManifestUrl } from "./manifests.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

export const OPERATOR_DEPLOYMENT = "cnpg-controller-manager";
export const OPERATOR_POD_SELECTOR = "app.kubernetes.io/name=cloudnative-pg";
const CLUSTER_CRD = "clusters.postgresql.cnpg.io";

export async function loadOperatorManifest(operator: CnpgTarget["operator"], signal?: AbortSignal): Promise<KubernetesObject[]> {
  const source = operator.manifest ?? operatorManifestUrl(operator.version);
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000) }).catch((error: unknown) => {
      throw new HarnessError(`cannot download the CloudNativePG manifest ${source}: ${(error as Error).message}. Offline? Set target.operator.manifest to a local copy.`);
    });
    if (!response.ok) throw new InputError("target.operator.version", `the manifest ${source} answered HTTP ${response.status}`, "Use a released version (see github.com/cloudnative-pg/cloudnative-pg/releases) or set target.operator.manifest.");
    text = await response.text();
  } else {
    text = await readFile(source, "utf8").catch(() => {
      throw new InputError("target.operator.manifest", `cannot read "${source}"`, "Give an https URL or a path to the release YAML.");
    });
  }
  const objects = parseAllDocuments(text)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null && typeof object === "object" && typeof object.kind === "string");
  if (objects.length === 0) throw new InputError("target.operator.manifest", `"${source}" holds no Kubernetes objects`, "Point it at a CloudNativePG release manifest.");
  return objects;
}

/** Whether the operator is installed (null: no deployment) and how many pods are ready. */
export async function operatorReady(kube: Kube, namespace: string): Promise<number | null> {
  return kube.readyReplicas(namespace, OPERATOR_DEPLOYMENT);
}

export async function installOperator(kube: Kube, objects: readonly KubernetesObject[], log: (line: string) => void): Promise<void> {
  // The manifest lists the namespace and CRDs first; apply in its order.
  for (const object of objects) {
    try {
      await kube.apply(object);
    } catch (error) {
      throw new HarnessError(`applying ${object.kind} ${object.metadata?.name ?? ""} failed: ${describeKubeError(error)}`);
    }
  }
  log(`cnpg: applied ${objects.length} operator objects`);
}

export async function waitForOperator(kube: Kube, namespace: string, deadline: number, signal?: AbortSignal): Promise<void> {
  await pollUntil(
    async () => {
      const established = await kube.crdEstablished(CLUSTER_CRD).catch(() => false);
      const ready = await operatorReady(kube, namespace).catch(() => null);
      if (established && ready !== null && ready > 0) return done(undefined);
      return notYet(established ? "its deployment has no ready pod" : `the ${CLUSTER_CRD} CRD is not established`);
    },
    {
      deadline,
      everyMs: 1000,
      signal,
      aborted: () => new HarnessError("interrupted while waiting for the operator"),
      gaveUp: () => new HarnessError(`the CloudNativePG operator was not ready in ${namespace} in time (deployment ${OPERATOR_DEPLOYMENT})`),
    },
  );
}
