/**
 * Every object in a Kubernetes cluster, for "pgdrill left it as it was": each object a
 * `kubectl api-resources --verbs=list` resource lists, in every namespace, keyed by
 * group/Kind/namespace/name, with its uid and a digest of what it says (spec, data, rules,
 * labels, annotations, owners: everything but the fields listed below, which a live cluster
 * rewrites by itself).
 *
 * What "as it was" compares, object by object:
 *   - the set of keys: an object before and not after was deleted; after and not before was created
 *     (pgdrill's namespace, its Cluster, Services, pods, PVCs, the PersistentVolumes provisioned
 *     for them, anything the operator made for them would show here if left);
 *   - the uid: the same name with another uid was deleted and made again (a pod restarted by its
 *     controller, an object re-applied by delete + create);
 *   - the digest of the object without `status` and without the metadata the API server keeps
 *     (resourceVersion, generation, managedFields, creationTimestamp, uid, selfLink): a change to
 *     spec, data, labels, annotations, owners or finalizers.
 * What it ignores, because a cluster changes it by itself while nobody touches it:
 *   - Event objects (core/v1 and events.k8s.io), which come and go with everything;
 *   - a coordination.k8s.io Lease's spec.renewTime (renewed every few seconds by its holder) and
 *     spec.acquireTime (rewritten as a holder re-acquires);
 *   - status, everywhere (node heartbeats and conditions, the operator's own status writes,
 *     Deployment/ReplicaSet/pod readiness, APIService availability).
 *   - which addresses an Endpoints or EndpointSlice lists (`subsets`, `endpoints`) and when that
 *     last changed (the endpoints.kubernetes.io/last-change-trigger-time annotation): the
 *     endpoints controller derives them from the pods' readiness, which is status. A CI run saw
 *     kube-dns's change while a drill ran elsewhere, CoreDNS's pods the same and untouched.
 *     Their existence, uid, ports, labels and owners are still compared.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";

export interface SnapshotEntry {
  uid: string;
  digest: string;
  /** What the digest is of, to name the fields that changed. */
  normalized: Record<string, unknown>;
}

export type Snapshot = Map<string, SnapshotEntry>;

/** Kinds left out of the comparison altogether, by group/Kind. */
export const IGNORED_KINDS = new Set(["core/Event", "events.k8s.io/Event"]);

interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & { name?: string; namespace?: string; uid?: string };
  [field: string]: unknown;
}

function kubectl(kubeconfig: string, args: string[]): string {
  const result = spawnSync("kubectl", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(" ")} failed (exit ${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

export function objectKey(object: KubeObject): string {
  const apiVersion = object.apiVersion ?? "";
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "core";
  return `${group}/${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/** The object as compared: no status, no server-kept metadata, no self-renewing Lease times. */
export function normalize(object: KubeObject): Record<string, unknown> {
  const { status: _status, metadata = {}, apiVersion: _apiVersion, ...rest } = object;
  const { resourceVersion: _rv, generation: _gen, managedFields: _mf, creationTimestamp: _ct, uid: _uid, selfLink: _sl, ...kept } = metadata;
  const normalized: Record<string, unknown> = { ...rest, metadata: kept };
  const key = objectKey(object);
  if (key.startsWith("core/Endpoints/") || key.startsWith("discovery.k8s.io/EndpointSlice/")) {
    delete normalized.subsets;
    delete normalized.endpoints;
    const annotations = (kept as { annotations?: Record<string, string> }).annotations;
    if (annotations && "endpoints.kubernetes.io/last-change-trigger-time" in annotations) {
      const { "endpoints.kubernetes.io/last-change-trigger-time": _changed, ...others } = annotations;
      // The controller drops the annotation as well as rewriting it: none left is no annotations.
      const { annotations: _all, ...withoutAnnotations } = kept;
      normalized.metadata = Object.keys(others).length > 0 ? { ...kept, annotations: others } : withoutAnnotations;
    }
  }
  if (key.startsWith("coordination.k8s.io/Lease/") && typeof rest.spec === "object" && rest.spec !== null) {
    const { renewTime: _renew, acquireTime: _acquire, ...spec } = rest.spec as Record<string, unknown>;
    normalized.spec = spec;
  }
  return normalized;
}

/** JSON with sorted keys, so equal objects digest equally whatever order the server sent. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

export function entryOf(object: KubeObject): SnapshotEntry {
  const normalized = normalize(object);
  return { uid: String(object.metadata?.uid ?? ""), digest: createHash("sha256").update(canonical(normalized)).digest("hex"), normalized };
}

/** The resources that can be listed, e.g. "pods", "deployments.apps", "clusters.postgresql.cnpg.io". */
export function listableResources(kubeconfig: string): string[] {
  return kubectl(kubeconfig, ["api-resources", "--verbs=list", "-o", "name"])
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** Every object of every listable resource in every namespace (one kubectl get for all of them). */
export function snapshotCluster(kubeconfig: string): Snapshot {
  const resources = listableResources(kubeconfig);
  const list = JSON.parse(kubectl(kubeconfig, ["get", resources.join(","), "--all-namespaces", "-o", "json"])) as { items: KubeObject[] };
  const snapshot: Snapshot = new Map();
  for (const object of list.items) {
    const key = objectKey(object);
    if (IGNORED_KINDS.has(key.split("/").slice(0, 2).join("/"))) continue;
    snapshot.set(key, entryOf(object));
  }
  return snapshot;
}

/** The top-level (and second-level) fields where two normalized objects differ, e.g. "spec.holderIdentity". */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const fields: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (canonical(a) === canonical(b)) continue;
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
      for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (canonical((a as Record<string, unknown>)[sub]) !== canonical((b as Record<string, unknown>)[sub])) fields.push(`${key}.${sub}`);
      }
    } else fields.push(key);
  }
  return fields;
}

/** What differs between two snapshots, one line per object: created, deleted, replaced (new uid) or changed (which fields). */
export function compareSnapshots(before: Snapshot, after: Snapshot): string[] {
  const differences: string[] = [];
  for (const [key, was] of before) {
    const now = after.get(key);
    if (!now) differences.push(`deleted ${key}`);
    else if (now.uid !== was.uid) differences.push(`replaced ${key} (uid ${was.uid} → ${now.uid})`);
    else if (now.digest !== was.digest) differences.push(`changed ${key}: ${changedFields(was.normalized, now.normalized).join(", ")}`);
  }
  for (const key of after.keys()) if (!before.has(key)) differences.push(`created ${key}`);
  return differences.sort();
}
