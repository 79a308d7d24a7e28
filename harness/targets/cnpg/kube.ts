/**
 * The few Kubernetes calls the cnpg target makes, on @kubernetes/client-node, typed down to the
 * fields pgdrill reads. Nothing here parses kubectl output: the API is the contract.
 */
import * as k8s from "@kubernetes/client-node";
import { HarnessError, InputError } from "../../errors.ts";

export const CNPG_API = { group: "postgresql.cnpg.io", version: "v1", plural: "clusters" } as const;

/** Pod labels CloudNativePG sets; `role` is the deprecated alias of `cnpg.io/instanceRole`. */
export const LABELS = {
  cluster: "cnpg.io/cluster",
  instanceRole: "cnpg.io/instanceRole",
  legacyRole: "role",
  instanceName: "cnpg.io/instanceName",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/**
 * Instance pods carry cnpg.io/podRole=instance (pkg/specs/pods.go); initdb and join Job pods carry the cluster and instance labels but not
 * this one (pkg/specs/jobs.go).
 */
export const POD_ROLE = { label: "cnpg.io/podRole", instance: "instance" } as const;

export const FENCED_ANNOTATION = "cnpg.io/fencedInstances";
/** The whole cluster is fenced when the annotation lists "*" (pkg/utils/fencing.go, FenceAllInstances). */
export const FENCE_ALL = "*";

/** The label the EndpointSlice controller puts on a Service's slices. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export interface LeaseView {
  holder: string | null;
  renewTime: string | null;
  leaseDurationSeconds: number | undefined;
}

export interface DeploymentView {
  namespace: string;
  name: string;
  image: string | undefined;
  readyReplicas: number;
}

export interface ClusterStatus {
  phase?: string;
  phaseReason?: string;
  currentPrimary?: string;
  currentPrimaryTimestamp?: string;
  targetPrimary?: string;
  targetPrimaryTimestamp?: string;
  readyInstances?: number;
  instances?: number;
}

export interface CnpgCluster {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: ClusterStatus;
}

export interface KubeTarget {
  config: k8s.KubeConfig;
  context: string;
  server: string;
}

/** Loads a kubeconfig (file, KUBECONFIG or ~/.kube/config; or YAML text) and selects a context. */
export function loadKube(options: { kubeconfig?: string; yaml?: string; context?: string }): KubeTarget {
  const config = new k8s.KubeConfig();
  try {
    if (options.yaml !== undefined) config.loadFromString(options.yaml);
    else if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new InputError(
      "target.kubeconfig",
      `cannot read the kubeconfig (${(error as Error).message})`,
      "Point target.kubeconfig or KUBECONFIG at a readable kubeconfig file.",
    );
  }
  if (options.context !== undefined) {
    if (!config.getContexts().some((context) => context.name === options.context)) {
      const known = config.getContexts().map((context) => context.name);
      throw new InputError(
        "target.context",
        `no context "${options.context}" in the kubeconfig`,
        known.length > 0 ? `Use one of ${known.join(", ")}.` : "Add the context to your kubeconfig.",
      );
    }
    config.setCurrentContext(options.context);
  }
  const server = config.getCurrentCluster()?.server;
  if (!server)
    throw new InputError("target.context", "the kubeconfig has no current cluster", "Set target.context to a context with a cluster.");
  return { config, context: config.getCurrentContext(), server };
}

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/**
 * KubernetesObjectApi, sending objects exactly as pgdrill holds them. The library's own create and
 * patch pass a known kind through its typed model first, and keys the model spells differently
 * are lost on the way: a real API server then refused CloudNativePG's CRDs ("type: Required
 * value") because every `x-kubernetes-int-or-string: true` had been dropped.
 */
class VerbatimObjectApi extends k8s.KubernetesObjectApi {
  static make(config: k8s.KubeConfig): VerbatimObjectApi {
    const client = config.makeApiClient(VerbatimObjectApi);
    client.setDefaultNamespace(config);
    return client;
  }

  /** POST (create) or server-side apply (PATCH, apply-patch) of `spec` as it is. */
  async send(spec: k8s.KubernetesObject, how: "create" | "apply", fieldManager: string): Promise<void> {
    const path = await this.specUriPath(spec, how === "create" ? "create" : "patch");
    const request = this.configuration.baseServer.makeRequestContext(path, how === "create" ? k8s.HttpMethod.POST : k8s.HttpMethod.PATCH);
    request.setHeaderParam("Accept", "application/json, */*;q=0.8");
    request.setHeaderParam("Content-Type", how === "create" ? "application/json" : k8s.PatchStrategy.ServerSideApply);
    request.setQueryParam("fieldManager", fieldManager);
    // Without forcing: a field another manager owns is refused (409), never taken over.
    if (how === "apply") request.setQueryParam("force", "false");
    request.setBody(JSON.stringify(spec));
    await this.requestPromise(request);
  }
}

export class Kube {
  readonly target: KubeTarget;
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly discovery: k8s.DiscoveryV1Api;
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly verbatim: VerbatimObjectApi;

  constructor(target: KubeTarget) {
    this.target = target;
    this.core = target.config.makeApiClient(k8s.CoreV1Api);
    this.apps = target.config.makeApiClient(k8s.AppsV1Api);
    this.custom = target.config.makeApiClient(k8s.CustomObjectsApi);
    this.coordination = target.config.makeApiClient(k8s.CoordinationV1Api);
    this.discovery = target.config.makeApiClient(k8s.DiscoveryV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(target.config);
    this.verbatim = VerbatimObjectApi.make(target.config);
  }

  async listPods(namespace: string, labelSelector: string): Promise<{ pods: k8s.V1Pod[]; resourceVersion: string | undefined }> {
    const list = await this.core.listNamespacedPod({ namespace, labelSelector });
    return { pods: list.items, resourceVersion: list.metadata?.resourceVersion };
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.core.deleteNamespacedPod({ namespace, name, ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }) });
  }

  /** A secret's data, decoded. */
  async secret(namespace: string, name: string): Promise<Record<string, string>> {
    const secret = await this.core.readNamespacedSecret({ namespace, name });
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]),
    );
  }

  /** Creates the namespace; false if it already existed. */
  async createNamespace(name: string, labels: Record<string, string>): Promise<boolean> {
    try {
      await this.core.createNamespace({ body: { metadata: { name, labels } } });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  async deleteNamespace(name: string): Promise<void> {
    try {
      await this.core.deleteNamespace({ name });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * Deletes the namespace and waits until it is gone: a DELETE only marks it Terminating, and the
   * API server removes it once everything in it (pods shutting down, PVCs and their volumes) is
   * deleted and its finalizers are done. "terminating" when it is still there after `waitMs`.
   */
  async deleteNamespaceAndWait(
    name: string,
    waitMs: number,
    everyMs = 1000,
  ): Promise<{ outcome: "gone" | "terminating"; waitedMs: number }> {
    const t0 = Date.now();
    await this.deleteNamespace(name);
    for (;;) {
      if (!(await this.namespaceExists(name))) return { outcome: "gone", waitedMs: Date.now() - t0 };
      if (Date.now() - t0 >= waitMs) return { outcome: "terminating", waitedMs: Date.now() - t0 };
      await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, Math.max(0, waitMs - (Date.now() - t0)))));
    }
  }

  async namespaceExists(name: string): Promise<boolean> {
    try {
      await this.core.readNamespace({ name });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async getCluster(namespace: string, name: string): Promise<CnpgCluster | null> {
    try {
      return (await this.custom.getNamespacedCustomObject({ ...CNPG_API, namespace, name })) as CnpgCluster;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  async deleteCluster(namespace: string, name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({ ...CNPG_API, namespace, name });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  async deleteService(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedService({ namespace, name });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * A Service's NodePort for `port` (allocated by the API server); null while the Service is not there (the operator has not made it yet).
   */
  async nodePort(namespace: string, name: string, port = 5432): Promise<number | null> {
    try {
      const found = await this.core.readNamespacedService({ namespace, name });
      return found.spec?.ports?.find((candidate) => candidate.port === port)?.nodePort ?? null;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  /** The first node's address of `type` (InternalIP, ExternalIP); null when none says one. */
  async nodeAddress(type = "InternalIP"): Promise<string | null> {
    const list = await this.core.listNode();
    for (const node of list.items) {
      const address = node.status?.addresses?.find((candidate) => candidate.type === type)?.address;
      if (address) return address;
    }
    return null;
  }

  /** The Cluster by list, for the list's resource version (a watch from an object's own version can be 410 Gone). */
  async listCluster(namespace: string, name: string): Promise<{ cluster: CnpgCluster | null; resourceVersion: string | undefined }> {
    const list = (await this.custom.listNamespacedCustomObject({ ...CNPG_API, namespace, fieldSelector: `metadata.name=${name}` })) as {
      items?: CnpgCluster[];
      metadata?: { resourceVersion?: string };
    };
    return { cluster: list.items?.[0] ?? null, resourceVersion: list.metadata?.resourceVersion };
  }

  async patchCluster(namespace: string, name: string, body: object): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...CNPG_API, namespace, name, body }, MERGE_PATCH);
  }

  async patchClusterStatus(namespace: string, name: string, body: object): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus({ ...CNPG_API, namespace, name, body }, MERGE_PATCH);
  }

  /**
   * Server-side apply, as `kubectl apply --server-side` does (the operator's CRDs are too big for
   * client-side apply), without forcing conflicts: a field another manager owns is refused (409),
   * never taken over.
   */
  async apply(object: k8s.KubernetesObject): Promise<void> {
    await this.verbatim.send(object, "apply", "pgdrill");
  }

  /** Creates (POST) an object; an existing one of the same name is a 409, never overwritten. */
  async create(object: k8s.KubernetesObject): Promise<void> {
    await this.verbatim.send(object, "create", "pgdrill");
  }

  /** Every Deployment in every namespace (to find an operator whatever its name). */
  async deployments(labelSelector?: string): Promise<DeploymentView[]> {
    const list = await this.apps.listDeploymentForAllNamespaces(labelSelector ? { labelSelector } : {});
    return list.items.map((deployment) => ({
      namespace: deployment.metadata?.namespace ?? "",
      name: deployment.metadata?.name ?? "",
      image: deployment.spec?.template?.spec?.containers?.[0]?.image,
      readyReplicas: deployment.status?.readyReplicas ?? 0,
    }));
  }

  async crdExists(name: string): Promise<boolean> {
    try {
      await this.objects.read({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name } });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** The Lease by list (for a watch's resource version); null when there is none. */
  async listLease(namespace: string, name: string): Promise<{ lease: LeaseView | null; resourceVersion: string | undefined }> {
    const list = await this.coordination.listNamespacedLease({ namespace, fieldSelector: `metadata.name=${name}` });
    const found = list.items[0];
    return { lease: found ? leaseView(found) : null, resourceVersion: list.metadata?.resourceVersion };
  }

  async listEndpointSlices(
    namespace: string,
    labelSelector: string,
  ): Promise<{ slices: k8s.V1EndpointSlice[]; resourceVersion: string | undefined }> {
    const list = await this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector });
    return { slices: list.items, resourceVersion: list.metadata?.resourceVersion };
  }

  async readyReplicas(namespace: string, deployment: string): Promise<number | null> {
    try {
      const found = await this.apps.readNamespacedDeployment({ namespace, name: deployment });
      return found.status?.readyReplicas ?? 0;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  async crdEstablished(name: string): Promise<boolean> {
    try {
      const found = await this.objects.read({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name },
      });
      const conditions = (found as { status?: { conditions?: Array<{ type: string; status: string }> } }).status?.conditions ?? [];
      return conditions.some((condition) => condition.type === "Established" && condition.status === "True");
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Starts a watch; `onEvent` gets each event, `onDone` the end (null: closed by the server). */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController> {
    const watch = new k8s.Watch(this.target.config);
    // The library aborts a watch after 30 s without a byte, as a timeout. A real API server sends
    // nothing on a quiet watch (bookmarks come about once a minute), so on a real cluster every
    // watch of a steady Cluster ended that way and was listed again with a back-off. The server
    // ends the watch itself after timeoutSeconds; wait a little longer than that.
    const serverSeconds = Number(query.timeoutSeconds ?? 0);
    if (serverSeconds > 0) (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = (serverSeconds + 15) * 1000;
    return watch.watch(path, query, onEvent, onDone);
  }
}

/** A Lease as pgdrill records it (an empty holderIdentity is a released lease: null). */
export function leaseView(
  lease: k8s.V1Lease | { spec?: { holderIdentity?: string; renewTime?: unknown; leaseDurationSeconds?: number } },
): LeaseView {
  const spec = lease.spec ?? {};
  const renew = spec.renewTime as unknown;
  return {
    holder: spec.holderIdentity ? spec.holderIdentity : null,
    renewTime: renew instanceof Date ? renew.toISOString() : typeof renew === "string" ? renew : null,
    leaseDurationSeconds: spec.leaseDurationSeconds,
  };
}

/** The pods an EndpointSlice lists as ready (conditions.ready unset counts as ready, as the API documents). */
export function readyEndpoints(
  slices: ReadonlyArray<{
    endpoints?: ReadonlyArray<{ conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }> | null;
  }>,
): string[] {
  const ready = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      if (endpoint.targetRef?.kind === "Pod" && endpoint.targetRef.name) ready.add(endpoint.targetRef.name);
    }
  }
  return [...ready].sort();
}

/** The HTTP status of a client-node error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const record = error as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === "number") return record.code;
  if (typeof record.statusCode === "number") return record.statusCode;
  return undefined;
}

/** A short, password-free description of a Kubernetes API error. */
export function describeKubeError(error: unknown): string {
  const status = statusOf(error);
  const body = typeof error === "object" && error !== null ? (error as { body?: unknown }).body : undefined;
  let message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) message = parsed.message;
    } catch {
      // not JSON: keep the error's own message
    }
  }
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}

export function kubeFailure(what: string, error: unknown): HarnessError {
  return new HarnessError(`${what}: ${describeKubeError(error)}`);
}
