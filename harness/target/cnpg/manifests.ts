/**
 * The Kubernetes objects a cnpg drill creates, as pure functions of the scenario, so tests can
 * read exactly what would be applied: the Cluster (the seed guide's, scaled down for kind), the
 * NodePort services probes use, and the kind config with their ports mapped out.
 */
import type { CnpgTarget } from "./plugin.ts";
import { CNPG_API, LABELS } from "./kube.ts";
import { instanceNames } from "./plugin.ts";

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

/** Per-service NodePorts: rw, ro, then one per instance (for the role probe). */
export function nodePorts(target: CnpgTarget): { rw: number; ro: number; instances: number[] } {
  const base = target.access.nodePortBase;
  return { rw: base, ro: base + 1, instances: Array.from({ length: target.instances }, (_, i) => base + 2 + i) };
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
    ports: Array<{ name: string; port: number; targetPort: number; nodePort: number; protocol: "TCP" }>;
  };
}

/**
 * NodePort services with the same selectors as the operator's own `-rw` and `-ro` services
 * (cnpg.io/instanceRole), so clients outside the cluster are repointed exactly when in-cluster
 * clients are; plus one per instance so the role probe can ask each instance directly.
 */
export function serviceManifests(target: CnpgTarget, namespace: string): ServiceManifest[] {
  const ports = nodePorts(target);
  const service = (suffix: string, selector: Record<string, string>, nodePort: number): ServiceManifest => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: `${target.name}-pgdrill-${suffix}`, namespace, labels: { [PGDRILL_LABEL]: "true" } },
    spec: {
      type: "NodePort",
      selector: { [LABELS.cluster]: target.name, ...selector },
      ports: [{ name: "postgres", port: 5432, targetPort: 5432, nodePort, protocol: "TCP" }],
    },
  });
  return [
    service("rw", { [LABELS.instanceRole]: "primary" }, ports.rw),
    service("ro", { [LABELS.instanceRole]: "replica" }, ports.ro),
    ...instanceNames(target).map((instance, i) => service(`${i + 1}`, { [LABELS.instanceName]: instance }, ports.instances[i]!)),
  ];
}

/**
 * The kind config: the user's nodes (fixtures/kind/cluster.yaml) with each NodePort mapped to the
 * same port on 127.0.0.1 of the machine running pgdrill, on the first (control-plane) node.
 */
export function kindConfig(base: KindConfig, target: CnpgTarget): KindConfig {
  const ports = nodePorts(target);
  const mappings = [ports.rw, ports.ro, ...ports.instances].map((port) => ({ containerPort: port, hostPort: port, listenAddress: target.access.host, protocol: "TCP" }));
  const nodes = base.nodes && base.nodes.length > 0 ? base.nodes : [{ role: "control-plane" }];
  return {
    ...base,
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    nodes: nodes.map((node, i) => (i === 0 ? { ...node, extraPortMappings: [...(node.extraPortMappings ?? []), ...mappings] } : node)),
  };
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

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
