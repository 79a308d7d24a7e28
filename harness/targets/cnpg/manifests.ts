/**
 * The Kubernetes objects a cnpg drill creates, as pure functions of the scenario, so tests can
 * read exactly what would be applied: the Cluster (the seed guide's, scaled down for kind, with the
 * operator-owned NodePort Services of access: outside), the per-instance NodePort Services the
 * outside role probe uses, and the kind config. The probe runner's pod and Services: runner/pod.ts.
 */
import type { CnpgTarget } from "./plugin.ts";
import { CNPG_API, LABELS } from "./kube.ts";
import { instanceNames } from "./plugin.ts";
import { deepMerge } from "../shared/merge.ts";

/**
 * The seed guide's postgresql parameters, scaled to a laptop-sized kind node: its 256MB of
 * shared_buffers times three instances does not fit beside the control plane on a CI runner.
 */
export const SEED_PARAMETERS: Readonly<Record<string, string>> = {
  max_connections: "100",
  shared_buffers: "64MB",
  effective_cache_size: "192MB",
  maintenance_work_mem: "32MB",
  checkpoint_completion_target: "0.9",
  wal_buffers: "4MB",
  default_statistics_target: "100",
  random_page_cost: "1.1",
  effective_io_concurrency: "200",
  min_wal_size: "80MB",
  max_wal_size: "512MB",
  log_statement: "ddl",
  log_min_duration_statement: "1000",
};

export const PGDRILL_LABEL = "pgdrill.managed";

/** The NodePort Services the operator makes for access: outside (spec.managed.services.additional): rw, then ro. */
export function outsideServiceNames(target: Pick<CnpgTarget, "name">): { rw: string; ro: string } {
  return { rw: `${target.name}-pgdrill-rw`, ro: `${target.name}-pgdrill-ro` };
}

/**
 * access: outside: NodePort Services the operator owns, declared in the Cluster
 * (api/v1/cluster_types.go ManagedServices.Additional: a selectorType of rw, ro or r and a
 * serviceTemplate whose metadata.name names it; updateStrategy patch, the default, lays the
 * template over the operator's own rw/ro Service). The operator gives them its selectors, owns
 * them and deletes them with the Cluster; the API server allocates their NodePorts.
 */
export function outsideManagedServices(target: CnpgTarget): Record<string, unknown> {
  const names = outsideServiceNames(target);
  const service = (selectorType: "rw" | "ro", name: string) => ({
    selectorType,
    updateStrategy: "patch",
    serviceTemplate: { metadata: { name, labels: { [PGDRILL_LABEL]: "true" } }, spec: { type: "NodePort" } },
  });
  return { services: { additional: [service("rw", names.rw), service("ro", names.ro)] } };
}

export function clusterManifest(target: CnpgTarget, namespace: string, runId: string): CnpgClusterManifest {
  const spec: Record<string, unknown> = {
    instances: target.instances,
    primaryUpdateStrategy: "unsupervised",
    // pgdrill's role probe asks pg_is_in_recovery() on every instance as the superuser.
    enableSuperuserAccess: true,
    postgresql: {
      parameters: { ...SEED_PARAMETERS, ...target.parameters },
      ...(target.replication === "sync" ? { synchronous: { method: "any", number: 1 } } : {}),
    },
    storage: { size: target.storage },
    ...(target.imageName ? { imageName: target.imageName } : {}),
    ...(target.access === "outside" ? { managed: outsideManagedServices(target) } : {}),
  };
  return {
    apiVersion: `${CNPG_API.group}/${CNPG_API.version}`,
    kind: "Cluster",
    metadata: { name: target.name, namespace, labels: { [PGDRILL_LABEL]: "true", "pgdrill.run": runId } },
    spec: deepMerge(spec, target.spec),
  };
}

export interface CnpgClusterManifest {
  apiVersion: string;
  kind: "Cluster";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface ServiceManifest {
  apiVersion: "v1";
  kind: "Service";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    type: "NodePort";
    selector: Record<string, string>;
    /** No nodePort: the API server allocates one, read back from the created Service. */
    ports: Array<{ name: string; port: number; targetPort: number; protocol: "TCP" }>;
  };
}

/**
 * access: outside: one NodePort Service per instance, for the role probe, which asks each
 * instance itself (the operator has no per-instance Service). Their ports are allocated by the
 * API server, so they collide with nothing.
 */
export function instanceNodePortServices(target: CnpgTarget, namespace: string): ServiceManifest[] {
  return instanceNames(target).map((instance, i) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: `${target.name}-pgdrill-${i + 1}`, namespace, labels: { [PGDRILL_LABEL]: "true" } },
    spec: {
      type: "NodePort",
      selector: { [LABELS.cluster]: target.name, [LABELS.instanceName]: instance },
      ports: [{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }],
    },
  }));
}

/**
 * The kind config: the user's nodes (fixtures/kind/cluster.yaml) as they are. Nothing is mapped
 * to the host: in-cluster probes need no port, and access: outside reaches NodePorts the API
 * server allocated at the node's own address.
 */
export function kindConfig(base: KindConfig): KindConfig {
  const nodes = base.nodes && base.nodes.length > 0 ? base.nodes : [{ role: "control-plane" }];
  return { ...base, kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4", nodes };
}

export interface KindConfig {
  kind?: string;
  apiVersion?: string;
  nodes?: Array<{ role: string; extraPortMappings?: unknown[]; [key: string]: unknown }>;
  [key: string]: unknown;
}

/**
 * The release's manifest as a GitHub release asset: .github/workflows/release-publish.yml uploads
 * releases/cnpg-<version>.yaml to the v<version> release, and CloudNativePG's own test set-up
 * installs from this URL (hack/testing-tools/common/20-utils-k8s.sh). Unlike the release branch's
 * raw file, an asset never changes after the release.
 */
export function operatorManifestUrl(version: string): string {
  return `https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v${version}/cnpg-${version}.yaml`;
}
