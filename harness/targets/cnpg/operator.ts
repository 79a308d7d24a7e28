/**
 * The CloudNativePG operator: found wherever it is installed (its CRD and a running operator
 * Deployment, whatever its name and namespace: the release manifest's `cnpg-controller-manager`
 * in cnpg-system, or Helm's `<release>-cloudnative-pg` anywhere), or installed from the pinned
 * release manifest on a cluster that has none. pgdrill never applies the manifest over an
 * existing install: that would overwrite the CRDs (a downgrade if the cluster runs a newer
 * release), the webhook configurations of the same name, and start a second operator.
 */
import { readFile } from "node:fs/promises";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { HarnessError, InputError } from "../../errors.ts";
import type { CnpgTarget } from "./plugin.ts";
import { describeKubeError, type DeploymentView, type Kube } from "./kube.ts";
import { operatorManifestUrl } from "./manifests.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import type { TopologyStartOptions } from "../types.ts";
import { manifestImages } from "./images.ts";
import { loadImages } from "./kind-cluster.ts";
import { kubeFailure } from "./kube.ts";

export const OPERATOR_DEPLOYMENT = "cnpg-controller-manager";
/** The label the release manifest and the Helm chart both put on the operator's Deployment and pods. */
export const OPERATOR_POD_SELECTOR = "app.kubernetes.io/name=cloudnative-pg";
/** The operator's image (releases/cnpg-<version>.yaml: ghcr.io/cloudnative-pg/cloudnative-pg:<version>). */
const OPERATOR_IMAGE = /(^|\/)cloudnative-pg\/cloudnative-pg(:|@|$)/;
export const CLUSTER_CRD = "clusters.postgresql.cnpg.io";

/** Where an installed operator is: its Deployment, and whether the Cluster CRD is there. */
export interface OperatorInstall {
  crd: boolean;
  /** Operator Deployments found (by label or image), ready ones first. */
  deployments: DeploymentView[];
}

/** Finds an installed CloudNativePG by its CRD and by Deployments labelled or imaged as its operator, in any namespace. */
export async function detectOperator(kube: Kube): Promise<OperatorInstall> {
  const crd = await kube.crdExists(CLUSTER_CRD);
  const labelled = await kube.deployments(OPERATOR_POD_SELECTOR);
  const all = await kube.deployments();
  const found = new Map<string, DeploymentView>();
  for (const deployment of [...labelled, ...all.filter((d) => d.image !== undefined && OPERATOR_IMAGE.test(d.image))])
    found.set(`${deployment.namespace}/${deployment.name}`, deployment);
  const deployments = [...found.values()].sort(
    (a, b) => b.readyReplicas - a.readyReplicas || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  return { crd, deployments };
}

export function describeInstall(install: OperatorInstall): string {
  const deployments = install.deployments.map(
    (d) => `Deployment ${d.namespace}/${d.name} (${d.image ?? "no image"}, ${d.readyReplicas} ready)`,
  );
  return [install.crd ? `the CRD ${CLUSTER_CRD}` : null, ...deployments].filter((part) => part !== null).join(", ");
}

/**
 * What to do about the operator: use the one installed, install the pinned release (only where
 * there is no trace of one), or stop with the field and the fix.
 */
export function planOperator(operator: CnpgTarget["operator"], install: OperatorInstall): { use: DeploymentView } | { install: true } {
  const present = install.crd || install.deployments.length > 0;
  if (present) {
    if (operator.install === "always") {
      throw new InputError(
        "target.operator.install",
        `CloudNativePG is already installed (${describeInstall(install)}) and pgdrill never applies its manifest over an existing install`,
        'Use install "if-missing" or "never" to drill with the installed operator, or a cluster without CloudNativePG.',
      );
    }
    const running = install.deployments.find((d) => d.readyReplicas > 0) ?? install.deployments[0];
    if (!running) {
      throw new InputError(
        "target.operator.install",
        `the CRD ${CLUSTER_CRD} is installed but no CloudNativePG operator Deployment was found (by label ` +
          `${OPERATOR_POD_SELECTOR} or image)`,
        "Start the operator that installed the CRD (pgdrill will not install a second one over it), or drill on a cluster " +
          "without CloudNativePG.",
      );
    }
    return { use: running };
  }
  if (operator.install === "never") {
    throw new InputError(
      "target.operator.install",
      "no CloudNativePG operator is installed (no CRD, no operator Deployment in any namespace)",
      'Install it, or set install to "if-missing" so pgdrill installs the pinned release.',
    );
  }
  return { install: true };
}

export async function loadOperatorManifest(operator: CnpgTarget["operator"], signal?: AbortSignal): Promise<KubernetesObject[]> {
  const source = operator.manifest ?? operatorManifestUrl(operator.version);
  const field = operator.manifest === undefined ? "target.operator.version" : "target.operator.manifest";
  const fix =
    "Set target.operator.version to a released CloudNativePG version (github.com/cloudnative-pg/cloudnative-pg/releases), or " +
    "target.operator.manifest to a local copy of its release YAML";
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, {
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000),
    }).catch((error: unknown) => {
      if (signal?.aborted) throw new HarnessError("interrupted while downloading the CloudNativePG manifest");
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new InputError(
        field,
        `cannot fetch the CloudNativePG manifest ${source} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
        `${fix} (offline: a local copy).`,
      );
    });
    if (!response.ok) throw new InputError(field, `the CloudNativePG manifest ${source} answered HTTP ${response.status}`, `${fix}.`);
    text = await response.text();
  } else {
    text = await readFile(source, "utf8").catch(() => {
      throw new InputError("target.operator.manifest", `cannot read "${source}"`, "Give an https URL or a path to the release YAML.");
    });
  }
  const objects = parseAllDocuments(text)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null && typeof object === "object" && typeof object.kind === "string");
  if (objects.length === 0)
    throw new InputError(
      field,
      `"${source}" holds no Kubernetes objects`,
      "Point target.operator.manifest at a CloudNativePG release manifest.",
    );
  return objects;
}

/** The operator's Deployment in the manifest (its name and namespace, to wait for it). */
export function manifestDeployment(objects: readonly KubernetesObject[], fallbackNamespace: string): { namespace: string; name: string } {
  const deployment = objects.find((object) => object.kind === "Deployment");
  return { namespace: deployment?.metadata?.namespace ?? fallbackNamespace, name: deployment?.metadata?.name ?? OPERATOR_DEPLOYMENT };
}

/** Applies the release manifest, in its order, server-side without forcing: only on a cluster with no CloudNativePG (planOperator). */
export async function installOperator(kube: Kube, objects: readonly KubernetesObject[], log: (line: string) => void): Promise<void> {
  for (const object of objects) {
    try {
      await kube.apply(object);
    } catch (error) {
      throw new HarnessError(`applying ${object.kind} ${object.metadata?.name ?? ""} failed: ${describeKubeError(error)}`);
    }
  }
  log(`cnpg: applied ${objects.length} operator objects`);
}

/** Waits until the Cluster CRD is established and the operator's Deployment has a ready pod. */
export async function waitForOperator(
  kube: Kube,
  deployment: { namespace: string; name: string },
  deadline: number,
  signal?: AbortSignal,
): Promise<void> {
  await pollUntil(
    async () => {
      const established = await kube.crdEstablished(CLUSTER_CRD).catch(() => false);
      const ready = await kube.readyReplicas(deployment.namespace, deployment.name).catch(() => null);
      if (established && ready !== null && ready > 0) return done(undefined);
      return notYet(established ? "its deployment has no ready pod" : `the ${CLUSTER_CRD} CRD is not established`);
    },
    {
      deadline,
      everyMs: 1000,
      signal,
      aborted: () => new HarnessError("interrupted while waiting for the operator"),
      gaveUp: () =>
        new HarnessError(`the CloudNativePG operator was not ready in time (Deployment ${deployment.namespace}/${deployment.name})`),
    },
  );
}

/**
 * Uses the CloudNativePG that is installed, wherever and however (release manifest, Helm, OLM);
 * installs the pinned release only where there is no trace of one. Returns its Deployment.
 */
export async function ensureOperator(
  kube: Kube,
  spec: CnpgTarget,
  deadline: number,
  kindCluster: string | undefined,
  options: TopologyStartOptions,
): Promise<{ namespace: string; name: string }> {
  const { operator } = spec;
  const t0 = Date.now();
  const install = await detectOperator(kube).catch((error: unknown) => {
    throw kubeFailure("looking for an installed CloudNativePG (its CRD and operator Deployments)", error);
  });
  const plan = planOperator(operator, install);
  let deployment: { namespace: string; name: string };
  if ("use" in plan) {
    deployment = { namespace: plan.use.namespace, name: plan.use.name };
    options.log(`cnpg: using the installed CloudNativePG (${describeInstall(install)})`);
  } else {
    options.log(`cnpg: no CloudNativePG installed; installing ${operator.manifest ?? operator.version}`);
    const objects = await loadOperatorManifest(operator, options.signal);
    if (kindCluster) await loadImages(kindCluster, manifestImages(objects), options);
    await installOperator(kube, objects, options.log);
    deployment = manifestDeployment(objects, operator.namespace);
  }
  await waitForOperator(kube, deployment, deadline, options.signal);
  options.log(`cnpg: operator ${deployment.namespace}/${deployment.name} ready in ${Date.now() - t0} ms`);
  return deployment;
}
