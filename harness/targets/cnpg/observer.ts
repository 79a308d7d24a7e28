/**
 * What Kubernetes says about the Cluster, from four watches, kept as a current picture and written
 * to the History as it changes:
 * - its instance pods (cnpg.io/cluster=<name>, cnpg.io/podRole=instance: initdb and join Job pods
 *   carry the cluster and instance labels but not podRole, pkg/specs/jobs.go) and their role label
 *   (primary, replica, unhealthy, or none: pods the operator recreates start without one,
 *   pkg/specs/pods.go);
 * - the Cluster object (currentPrimary, targetPrimary, phase);
 * - the primary Lease, a coordination.k8s.io/v1 Lease named after the Cluster in its namespace
 *   whose holder (a pod name) may run as primary (internal/cmd/manager/instance/run/lease/doc.go,
 *   internal/controller/primary_lease.go): its holder and every renewal;
 * - the EndpointSlices of the operator's `<name>-rw` Service (pkg/specs/services.go): where the
 *   rw Service really routes, which is the truth `endpoint` events carry. Labels are not: the
 *   operator patches them pod by pod (pkg/reconciler/instance/metadata.go), and the EndpointSlice
 *   controller lists only ready pods.
 * Watches end: the server closes them, a connection resets, or the resource version is too old
 * (410 Gone, inside the stream or as the response). Every end is followed by a fresh list and a
 * new watch from the list's version, so a lost event becomes a "resync" entry instead of a
 * silently wrong picture.
 */
import type { V1EndpointSlice, V1Lease, V1Pod } from "@kubernetes/client-node";
import { errorMessage } from "../../errors.ts";
import type { Observation } from "../types.ts";
import {
  CNPG_API,
  describeKubeError,
  LABELS,
  leaseView,
  POD_ROLE,
  readyEndpoints,
  SERVICE_NAME_LABEL,
  statusOf,
  type ClusterStatus,
  type CnpgCluster,
  type Kube,
  type LeaseView,
} from "./kube.ts";

export interface PodView {
  name: string;
  /** cnpg.io/instanceRole (or the legacy `role`); null while the label is absent. */
  role: string | null;
  ready: boolean;
  nodeName: string | undefined;
}

export interface ObserverOptions {
  namespace: string;
  cluster: string;
  record: (observation: Observation) => void;
  log: (line: string) => void;
}

const BACKOFF_MS = [100, 250, 500, 1000, 2000];
/** Ask the server to end each watch after this long, so a silently dead stream is replaced. */
const WATCH_TIMEOUT_S = 60;

type Watched = "pods" | "cluster" | "lease" | "endpoints";

/** The label selector of the Cluster's instance pods. */
export function instanceSelector(cluster: string): string {
  return `${LABELS.cluster}=${cluster},${POD_ROLE.label}=${POD_ROLE.instance}`;
}

export function podRole(pod: V1Pod): string | null {
  const labels = pod.metadata?.labels ?? {};
  return labels[LABELS.instanceRole] ?? labels[LABELS.legacyRole] ?? null;
}

function podReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True");
}

export class ClusterObserver {
  readonly pods = new Map<string, PodView>();
  status: ClusterStatus = {};
  /** Times a watch was re-established after ending with an error or 410 Gone. */
  resyncs = 0;
  private readonly kube: Kube;
  private readonly options: ObserverOptions;
  private readonly controllers = new Set<AbortController>();
  private readonly listeners = new Set<() => void>();
  private loops: Array<Promise<void>> = [];
  private readonly pendingEnds = new Set<(value: unknown) => void>();
  private stopped = false;
  private rwPod: string | null = null;
  /** The primary Lease as last seen; null: none (yet), undefined: not watched. */
  lease: LeaseView | null | undefined = undefined;
  /** Ready pods behind the rw Service, per EndpointSlice; null until its slices are watched. */
  private slices: Map<string, string[]> | null = null;
  private rwReady: string[] = [];

  constructor(kube: Kube, options: ObserverOptions) {
    this.kube = kube;
    this.options = options;
  }

  /** Lists once (so the picture is complete when this resolves), then keeps watching. */
  async start(): Promise<void> {
    const { namespace, cluster } = this.options;
    // The EndpointSlices first: whether routing truth comes from them decides how pods are read.
    const slicesVersion = await this.listSlices(false).catch((error: unknown) => {
      this.options.log(
        `cnpg: cannot list the EndpointSlices of ${this.rwService} (${describeKubeError(error)}): rw endpoint events follow ` +
          `the pods' primary label instead`,
      );
      return null;
    });
    const leaseVersion = await this.readLease(false).catch((error: unknown) => {
      this.options.log(`cnpg: cannot read the primary Lease ${cluster} (${describeKubeError(error)}): not recorded`);
      return null;
    });
    const podsVersion = await this.listPods(false);
    const clusterVersion = await this.readCluster(false);
    this.loops = [
      this.watchLoop("pods", `/api/v1/namespaces/${namespace}/pods`, { labelSelector: instanceSelector(cluster) }, podsVersion),
      this.watchLoop(
        "cluster",
        `/apis/${CNPG_API.group}/${CNPG_API.version}/namespaces/${namespace}/${CNPG_API.plural}`,
        { fieldSelector: `metadata.name=${cluster}` },
        clusterVersion,
      ),
      ...(leaseVersion === null
        ? []
        : [
            this.watchLoop(
              "lease",
              `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
              { fieldSelector: `metadata.name=${cluster}` },
              leaseVersion,
            ),
          ]),
      ...(slicesVersion === null
        ? []
        : [
            this.watchLoop(
              "endpoints",
              `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
              { labelSelector: `${SERVICE_NAME_LABEL}=${this.rwService}` },
              slicesVersion,
            ),
          ]),
    ];
  }

  /** The operator's read-write Service (pkg/specs/services.go: <cluster>-rw). */
  get rwService(): string {
    return `${this.options.cluster}-rw`;
  }

  /** The pod the rw Service routes to now: its only ready endpoint (null: none, or several); by labels when its slices are not watched. */
  rwEndpoint(): string | null {
    if (this.slices === null) return this.primaries().length === 1 ? this.primaries()[0]! : null;
    return this.rwReady.length === 1 ? this.rwReady[0]! : null;
  }

  /** Whether routing truth comes from the rw Service's EndpointSlices (else from labels). */
  get watchesEndpoints(): boolean {
    return this.slices !== null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const controller of this.controllers) controller.abort();
    for (const end of this.pendingEnds) end(null);
    this.notify();
    await Promise.allSettled(this.loops);
  }

  /** Pods labelled primary now. Two at once is label overlap (the operator patches pods one at a time), not a split brain. */
  primaries(): string[] {
    return [...this.pods.values()]
      .filter((pod) => pod.role === "primary")
      .map((pod) => pod.name)
      .sort();
  }

  /** Ready pods labelled replica, by name. */
  replicas(): string[] {
    return [...this.pods.values()]
      .filter((pod) => pod.role === "replica" && pod.ready)
      .map((pod) => pod.name)
      .sort();
  }

  /** Resolves once `predicate` holds; rejects with `what` after `timeoutMs` or on abort. */
  waitUntil(predicate: () => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (predicate()) finish();
        else if (this.stopped) finish(new Error(`stopped watching before ${what}`));
      };
      const onAbort = () => finish(new Error(`interrupted while waiting for ${what}`));
      const timer = setTimeout(() => finish(new Error(`${what} did not happen within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.listeners.add(check);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  // ---- Watch loops --------------------------------------------------------------------------

  private async watchLoop(which: Watched, path: string, query: Record<string, string>, initialVersion: string | undefined): Promise<void> {
    let version = initialVersion;
    let failures = 0;
    while (!this.stopped) {
      let gone = false;
      let end: ((value: unknown) => void) | undefined;
      const ended = await new Promise<unknown>((resolve) => {
        // An aborted watch does not always report its end promptly: stop() ends the wait itself.
        end = resolve;
        this.pendingEnds.add(resolve);
        const onEvent = (type: string, object: unknown) => {
          if (type === "ERROR") {
            // 410 Gone inside the stream: our resource version is too old; list again.
            gone = (object as { code?: number }).code === 410;
            return;
          }
          const meta = (object as { metadata?: { resourceVersion?: string } }).metadata;
          if (meta?.resourceVersion) version = meta.resourceVersion;
          if (type === "BOOKMARK") return;
          if (which === "pods") this.applyPod(type, object as V1Pod, false);
          else if (which === "cluster") this.applyCluster(type === "DELETED" ? null : (object as CnpgCluster), false);
          else if (which === "lease") this.applyLease(type === "DELETED" ? null : leaseView(object as V1Lease), false);
          else this.applySlice(type, object as V1EndpointSlice, false);
        };
        this.kube
          .watch(path, { ...query, resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_S }, onEvent, resolve)
          .then((controller) => {
            this.controllers.add(controller);
            if (this.stopped) controller.abort();
          })
          .catch(resolve);
      });
      // Only this loop's own wait: the other watch may be waiting at this very moment.
      if (end) this.pendingEnds.delete(end);
      if (this.stopped) return;
      const error = ended === null || ended === undefined ? null : ended;
      if (!gone && error === null) {
        failures = 0;
        continue; // the server ended the watch on time; carry on from where we were
      }
      gone ||= statusOf(error) === 410;
      this.options.log(`cnpg: ${which} watch ended (${gone ? "410 Gone" : describeKubeError(error)}): listing again`);
      await this.sleep(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!);
      failures += 1;
      try {
        version = await this.relist(which);
        this.resyncs += 1;
      } catch (listError) {
        this.options.log(`cnpg: listing ${which} failed (${errorMessage(listError)}); retrying`);
        version = undefined;
      }
    }
  }

  private relist(which: Watched): Promise<string | undefined> {
    if (which === "pods") return this.listPods(true);
    if (which === "cluster") return this.readCluster(true);
    if (which === "lease") return this.readLease(true);
    return this.listSlices(true);
  }

  private async readLease(resync: boolean): Promise<string | undefined> {
    const { lease, resourceVersion } = await this.kube.listLease(this.options.namespace, this.options.cluster);
    this.applyLease(lease, resync);
    return resourceVersion;
  }

  private async listSlices(resync: boolean): Promise<string | undefined> {
    const { slices, resourceVersion } = await this.kube.listEndpointSlices(
      this.options.namespace,
      `${SERVICE_NAME_LABEL}=${this.rwService}`,
    );
    const before = this.slices;
    this.slices = new Map(slices.map((slice) => [slice.metadata?.name ?? "", readyEndpoints([slice])]));
    this.rwChanged(before === null ? null : this.rwReady, resync);
    return resourceVersion;
  }

  private async listPods(resync: boolean): Promise<string | undefined> {
    const { pods, resourceVersion } = await this.kube.listPods(this.options.namespace, instanceSelector(this.options.cluster));
    const seen = new Set<string>();
    for (const pod of pods) {
      seen.add(pod.metadata?.name ?? "");
      this.applyPod("MODIFIED", pod, resync);
    }
    for (const name of [...this.pods.keys()]) {
      if (!seen.has(name)) this.applyPod("DELETED", { metadata: { name } }, resync);
    }
    return resourceVersion;
  }

  private async readCluster(resync: boolean): Promise<string | undefined> {
    const { cluster, resourceVersion } = await this.kube.listCluster(this.options.namespace, this.options.cluster);
    this.applyCluster(cluster, resync);
    return resourceVersion;
  }

  // ---- The picture --------------------------------------------------------------------------

  private applyPod(type: string, pod: V1Pod, resync: boolean): void {
    const name = pod.metadata?.name;
    if (!name) return;
    const before = this.pods.get(name);
    if (type === "DELETED") {
      if (!before) return;
      this.pods.delete(name);
      this.options.record({ kind: "k8s", subject: "pod", name, role: "deleted", ...(resync ? { resync } : {}) });
    } else {
      const view: PodView = { name, role: podRole(pod), ready: podReady(pod), nodeName: pod.spec?.nodeName };
      this.pods.set(name, view);
      if (!before || before.role !== view.role) {
        this.options.record({ kind: "k8s", subject: "pod", name, role: view.role, ...(resync ? { resync } : {}) });
      }
    }
    this.followRw();
    this.notify();
  }

  private applyLease(lease: LeaseView | null, resync: boolean): void {
    const before = this.lease;
    this.lease = lease;
    const same =
      before !== undefined &&
      before?.holder === lease?.holder &&
      before?.renewTime === lease?.renewTime &&
      before?.leaseDurationSeconds === lease?.leaseDurationSeconds;
    if (!same) {
      this.options.record({
        kind: "k8s",
        subject: "lease",
        name: this.options.cluster,
        holder: lease?.holder ?? null,
        renewTime: lease?.renewTime ?? null,
        ...(lease?.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: lease.leaseDurationSeconds } : {}),
        ...(resync ? { resync } : {}),
      });
    }
    this.notify();
  }

  private applySlice(type: string, slice: V1EndpointSlice, resync: boolean): void {
    const name = slice.metadata?.name;
    if (!name || this.slices === null) return;
    const before = this.rwReady;
    if (type === "DELETED") this.slices.delete(name);
    else this.slices.set(name, readyEndpoints([slice]));
    this.rwChanged(before, resync);
  }

  /** Records the rw Service's ready endpoints when they changed, and an endpoint event when it routes to one new pod. */
  private rwChanged(before: string[] | null, resync: boolean): void {
    const ready = [...new Set([...(this.slices?.values() ?? [])].flat())].sort();
    this.rwReady = ready;
    if (before === null || before.join() !== ready.join()) {
      this.options.record({ kind: "k8s", subject: "endpoints", name: this.rwService, ready, ...(resync ? { resync } : {}) });
    }
    if (ready.length === 1 && ready[0] !== this.rwPod) {
      this.rwPod = ready[0]!;
      this.options.record({ kind: "endpoint", endpoint: "rw", node: this.rwPod });
    }
    this.notify();
  }

  /** Without EndpointSlices: the rw service selects the pod labelled primary, so follow the label. */
  private followRw(): void {
    if (this.slices !== null) return;
    const primaries = this.primaries();
    if (primaries.length !== 1 || primaries[0] === this.rwPod) return;
    this.rwPod = primaries[0]!;
    this.options.record({ kind: "endpoint", endpoint: "rw", node: this.rwPod });
  }

  private applyCluster(cluster: CnpgCluster | null, resync: boolean): void {
    const status = cluster?.status ?? {};
    const before = this.status;
    this.status = status;
    if (status.currentPrimary !== before.currentPrimary || status.targetPrimary !== before.targetPrimary || status.phase !== before.phase) {
      this.options.record({
        kind: "k8s",
        subject: "cluster",
        name: this.options.cluster,
        ...(status.currentPrimary !== undefined ? { currentPrimary: status.currentPrimary } : {}),
        ...(status.targetPrimary !== undefined ? { targetPrimary: status.targetPrimary } : {}),
        ...(status.phase !== undefined ? { phase: status.phase } : {}),
        ...(resync ? { resync } : {}),
      });
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }
}
