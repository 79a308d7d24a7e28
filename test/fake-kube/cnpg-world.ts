/**
 * FAKE — a scripted CloudNativePG world on the fake Kubernetes API: the operator's objects, the
 * pods and Cluster status it maintains (shaped like CloudNativePG 1.30's: labels, annotations,
 * owner references, status fields and phase strings), its failover and switchover sequences, and
 * a kube-proxy stand-in that routes each NodePort to the pods its selector picks. Instances can
 * be backed by real PostgreSQL containers (`backing`), so a whole drill runs against real
 * databases while only Kubernetes is simulated.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { FakeKubeApi, KubeObject } from "./fake-kube-api.ts";

const CORE = "/api/v1";
const CNPG = "/apis/postgresql.cnpg.io/v1";
export const OPERATOR_VERSION = "1.30.1";

export interface Backing {
  /** host:port of the real PostgreSQL behind an instance. */
  address(instance: string): { host: string; port: number } | null;
  kill(instance: string): Promise<void>;
  promote(instance: string): Promise<void>;
  password: string;
}

export interface WorldOptions {
  namespace: string;
  cluster: string;
  instances: number;
  operatorNamespace?: string;
  /** How long the fake operator takes from noticing the primary gone to promoting. */
  failoverDelayMs?: number;
  backing?: Backing;
}

export class CnpgWorld {
  readonly fake: FakeKubeApi;
  readonly options: Required<Omit<WorldOptions, "backing">> & { backing?: Backing };
  /** Pod deletes seen, with their grace periods. */
  readonly deletes: Array<{ namespace: string | undefined; name: string; grace: number | undefined }> = [];
  private readonly proxies: Server[] = [];
  private readonly connections = new Map<string, Set<Socket>>();
  private operatorSerial = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(fake: FakeKubeApi, options: WorldOptions) {
    this.fake = fake;
    this.options = { operatorNamespace: "cnpg-system", failoverDelayMs: 800, ...options };
    fake.onWrite((plural, object) => this.onWrite(plural, object));
    fake.onDelete((ref, grace) => {
      if (ref.plural === "pods") this.onPodDelete(ref.namespace, ref.name, grace);
    });
  }

  /** The operator as installed by its release manifest: CRD, deployment, one ready pod. */
  installOperator(): void {
    this.fake.put("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "clusters.postgresql.cnpg.io" },
      status: { conditions: [{ type: "NamesAccepted", status: "True" }, { type: "Established", status: "True", reason: "InitialNamesAccepted" }] },
    });
    this.fake.put("/apis/apps/v1", "deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cnpg-controller-manager", namespace: this.options.operatorNamespace, labels: { "app.kubernetes.io/name": "cloudnative-pg" } },
      spec: { replicas: 1 },
      status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: "Available", status: "True" }] },
    });
    this.putOperatorPod();
  }

  instance(i: number): string {
    return `${this.options.cluster}-${i}`;
  }

  pod(name: string): KubeObject | undefined {
    return this.fake.get(CORE, this.options.namespace, "pods", name);
  }

  cluster(): KubeObject | undefined {
    return this.fake.get(CNPG, this.options.namespace, "clusters", this.options.cluster);
  }

  setRole(name: string, role: "primary" | "replica" | null, ready = true): void {
    this.fake.patch(CORE, this.options.namespace, "pods", name, {
      metadata: { labels: { "cnpg.io/instanceRole": role, role } },
      status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
  }

  setStatus(status: Record<string, unknown>): void {
    this.fake.patch(CNPG, this.options.namespace, "clusters", this.options.cluster, { status });
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const sockets of this.connections.values()) for (const socket of sockets) socket.destroy();
    await Promise.all(this.proxies.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  // ---- What the operator does --------------------------------------------------------------

  private onWrite(plural: string, object: KubeObject): void {
    if (plural === "clusters" && object.metadata.name === this.options.cluster && !this.cluster()?.status) this.bootstrap();
    if (plural === "services") void this.exposeNodePort(object);
    if (plural === "clusters/status") this.maybeSwitchover(object);
  }

  private bootstrap(): void {
    const { cluster, instances, namespace } = this.options;
    this.later(50, () => {
      this.fake.put(CORE, "secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${cluster}-superuser`, namespace, labels: { "cnpg.io/cluster": cluster, "cnpg.io/userType": "superuser" } },
        type: "kubernetes.io/basic-auth",
        data: { username: b64("postgres"), password: b64(this.options.backing?.password ?? "fake-password") },
      });
      for (let i = 1; i <= instances; i += 1) this.putPod(this.instance(i), i === 1 ? "primary" : "replica", true);
      const names = Array.from({ length: instances }, (_, i) => this.instance(i + 1));
      this.setStatus({
        instances,
        readyInstances: instances,
        phase: "Cluster in healthy state",
        currentPrimary: this.instance(1),
        currentPrimaryTimestamp: new Date().toISOString(),
        targetPrimary: this.instance(1),
        targetPrimaryTimestamp: new Date().toISOString(),
        latestGeneratedNode: instances,
        instanceNames: names,
        instancesStatus: { healthy: names },
        writeService: `${cluster}-rw`,
        readService: `${cluster}-r`,
        conditions: [{ type: "Ready", status: "True", reason: "ClusterIsReady", message: "Cluster is Ready" }],
      });
    });
  }

  private onPodDelete(namespace: string | undefined, name: string, grace: number | undefined): void {
    this.deletes.push({ namespace, name, grace });
    if (namespace === this.options.operatorNamespace) {
      this.later(200, () => this.putOperatorPod());
      return;
    }
    this.dropConnections(name);
    const status = (this.cluster()?.status ?? {}) as { currentPrimary?: string };
    if (name !== status.currentPrimary) {
      // A replica: the StatefulSet-less operator recreates the pod under the same name.
      this.later(300, () => this.putPod(name, "replica", true));
      return;
    }
    void this.failover(name);
  }

  /**
   * CloudNativePG's failover, as seen through the API: targetPrimary goes "pending", the
   * replica's role label vanishes while it is promoted, then the new primary is labelled and
   * becomes currentPrimary; the old pod comes back as a replica that is not ready yet.
   */
  private async failover(oldPrimary: string): Promise<void> {
    const candidate = Array.from({ length: this.options.instances }, (_, i) => this.instance(i + 1)).find((name) => name !== oldPrimary)!;
    await this.options.backing?.kill(oldPrimary).catch(() => undefined);
    this.later(100, () => this.setStatus({ targetPrimary: "pending", phase: "Failing over", phaseReason: `Failing over from ${oldPrimary}`, readyInstances: this.options.instances - 1 }));
    this.later(this.options.failoverDelayMs / 2, () => this.setRole(candidate, null, false));
    this.later(this.options.failoverDelayMs, () => {
      void (async () => {
        await this.options.backing?.promote(candidate);
        this.setStatus({ targetPrimary: candidate, targetPrimaryTimestamp: new Date().toISOString() });
        this.setRole(candidate, "primary", true);
        this.setStatus({ currentPrimary: candidate, currentPrimaryTimestamp: new Date().toISOString(), phase: "Waiting for the instances to become active" });
        this.putPod(oldPrimary, "replica", false);
      })();
    });
  }

  /** What the operator does after `kubectl cnpg promote`: demote the old primary, promote the target. */
  private maybeSwitchover(cluster: KubeObject): void {
    const status = (cluster.status ?? {}) as { currentPrimary?: string; targetPrimary?: string; phase?: string };
    if (status.phase !== "Switchover in progress" || !status.targetPrimary || status.targetPrimary === status.currentPrimary) return;
    const from = status.currentPrimary!;
    const to = status.targetPrimary;
    this.later(200, () => this.setRole(from, "replica", false));
    this.later(500, () => {
      void (async () => {
        await this.options.backing?.kill(from).catch(() => undefined);
        await this.options.backing?.promote(to);
        this.setRole(to, "primary", true);
        this.setStatus({ currentPrimary: to, currentPrimaryTimestamp: new Date().toISOString(), phase: "Cluster in healthy state", phaseReason: "" });
      })();
    });
  }

  private putPod(name: string, role: "primary" | "replica", ready: boolean): void {
    const { namespace, cluster } = this.options;
    const serial = name.slice(cluster.length + 1);
    this.fake.put(CORE, "pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace,
        labels: { "cnpg.io/cluster": cluster, "cnpg.io/instanceName": name, "cnpg.io/instanceRole": role, "cnpg.io/podRole": "instance", role },
        annotations: { "cnpg.io/nodeSerial": serial, "cnpg.io/operatorVersion": OPERATOR_VERSION },
        ownerReferences: [{ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", name: cluster, controller: true, blockOwnerDeletion: true, uid: "00000000-0000-4000-8000-000000000001" }],
      },
      spec: { nodeName: `fake-worker-${serial}`, containers: [{ name: "postgres", image: "ghcr.io/cloudnative-pg/postgresql:18-system-trixie" }] },
      status: { phase: "Running", podIP: `10.244.${serial}.5`, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
  }

  private putOperatorPod(): void {
    this.operatorSerial += 1;
    this.fake.put(CORE, "pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `cnpg-controller-manager-6b9f78f594-${"abcdef"[this.operatorSerial % 6]}x${this.operatorSerial}`, namespace: this.options.operatorNamespace, labels: { "app.kubernetes.io/name": "cloudnative-pg" } },
      spec: { nodeName: "fake-control-plane", containers: [{ name: "manager", image: `ghcr.io/cloudnative-pg/cloudnative-pg:${OPERATOR_VERSION}` }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    });
  }

  // ---- kube-proxy stand-in -----------------------------------------------------------------

  /** Listens on the service's NodePort on 127.0.0.1 and forwards each connection to a ready pod its selector picks. */
  private async exposeNodePort(service: KubeObject): Promise<void> {
    const spec = service.spec as { type?: string; selector?: Record<string, string>; ports?: Array<{ nodePort?: number }> };
    const port = spec.ports?.[0]?.nodePort;
    if (spec.type !== "NodePort" || port === undefined || !this.options.backing) return;
    const server = createServer((client) => {
      const target = this.pickPod(spec.selector ?? {});
      const address = target ? this.options.backing!.address(target) : null;
      if (!target || !address) {
        client.destroy(); // no endpoints: the connection is refused
        return;
      }
      const upstream = connect(address.port, address.host);
      const tracked = this.connections.get(target) ?? new Set<Socket>();
      this.connections.set(target, tracked);
      tracked.add(client);
      client.on("close", () => tracked.delete(client));
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      upstream.on("close", () => client.destroy());
    });
    this.proxies.push(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  }

  private pickPod(selector: Record<string, string>): string | null {
    for (let i = 1; i <= this.options.instances; i += 1) {
      const pod = this.pod(this.instance(i));
      const labels = pod?.metadata.labels ?? {};
      const ready = ((pod?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
      if (pod && ready && Object.entries(selector).every(([k, v]) => labels[k] === v)) return pod.metadata.name;
    }
    return null;
  }

  private dropConnections(pod: string): void {
    for (const socket of this.connections.get(pod) ?? []) socket.destroy();
  }

  private later(ms: number, action: () => void): void {
    this.timers.push(setTimeout(action, ms));
  }
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}
