/**
 * FAKE — a CloudNativePG 1.30 world on the fake Kubernetes API: the operator's objects, the pods,
 * Cluster status, primary Lease and EndpointSlices it and Kubernetes maintain, and a kube-proxy
 * stand-in that routes each NodePort to the pods its selector picks. Instances can be backed by
 * real PostgreSQL containers (`backing`), so a whole drill runs against real databases while only
 * Kubernetes is simulated.
 *
 * It is not a script of label flips: like the operator, it reconciles. Every change it sees (and
 * a requeue each second) runs one pass of `reconcile()`, modelled on the Cluster controller
 * (internal/controller/cluster_controller.go, replicas.go), while per-pod "instance managers"
 * hold and renew the primary Lease, promote and demote (internal/management/controller/
 * instance_controller.go, internal/cmd/manager/instance/run/lease/runnable.go). Each behaviour
 * below names the upstream file it follows (CloudNativePG release-1.30, read, not copied).
 *
 * The probe runner's pod (harness/targets/cnpg/runner/pod.ts) runs for real: from its image in
 * Docker where the local engine has it (fixtures/image/build-probe-runner.sh builds it), as the pod
 * spec says (its args and env, secretKeyRefs resolved, its user, read-only root, /tmp as a tmpfs,
 * no capabilities, its limits, killed after activeDeadlineSeconds), else as a local process of
 * pgdrill's own entry point (`pgdrill probe-runner`). `log` says which. The fake serves its log
 * stream and the pod proxy to its control port, and stands in for the cluster's DNS and Service IPs
 * (cluster-network.ts), so what it dials is what the drill configured (<cluster>-rw.<ns>.svc, the
 * headless per-instance Services).
 *
 * Time: upstream durations (lease 15 s, retry 2 s, the 1 s requeue, and what the real runs
 * measured, below) are multiplied by `timeScale`, so a test can compress them (0.1: a 1.5 s lease)
 * and still see their order and proportions. The Lease objects keep the real `leaseDurationSeconds`.
 *
 * Checked against reality: the first real run (kind v1.34.4, CloudNativePG 1.30.0, kill primary,
 * test/fixtures/cnpg/kind/kill-primary) taught it the kubelet's 2 s before SIGKILL, the operator's
 * targetPrimary resets while a failover waits for the WAL receivers, the time a pass takes, the
 * Lease's three writes on take-over and a recreated former primary's long rejoin;
 * test/unit/cnpg-fake-vs-real.test.ts holds the fake to that run's order and timings. The real
 * kill-operator-then-primary (test/fixtures/cnpg/kind/kill-operator-then-primary) showed that a
 * killed operator gives its leader Lease up, so its replacement leads within seconds;
 * test/unit/cnpg-fake-vs-real-operator.test.ts holds the fake to that run.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request as httpRequest, type ServerResponse } from "node:http";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runLabels } from "../../harness/targets/shared/docker.ts";
import type { FakeKubeApi, KubeObject } from "./fake-kube-api.ts";

/** pgdrill's entry point and the fake cluster network the runner process is started with. */
const PGDRILL_BIN = fileURLToPath(new URL("../../bin/pgdrill.js", import.meta.url));
const CLUSTER_NETWORK = new URL("./cluster-network.ts", import.meta.url).href;
const CLUSTER_NETWORK_PATH = fileURLToPath(CLUSTER_NETWORK);
const BUILD_RUNNER_IMAGE = fileURLToPath(new URL("../../fixtures/image/build-probe-runner.sh", import.meta.url));
/** Where a runner container finds cluster-network.ts (mounted read-only) to --import. */
const CLUSTER_NETWORK_IN_CONTAINER = "/pgdrill-fake/cluster-network.ts";
const run = promisify(execFile);

/** How the fake's kubelet ran a pod: from its image in Docker, or pgdrill's entry point as a local process (and why). */
export type PodRuntime = { how: "image"; image: string; container: string; args: string[] } | { how: "process"; why: string };

/** A pod the fake runs (a container or a local process): its output (the pod's log), its control port. */
interface PodProcess {
  namespace: string;
  name: string;
  runtime: PodRuntime;
  /** The docker CLI attached to the container (`docker run` without -d), or the process itself. */
  child: ChildProcess;
  log: string;
  ended: boolean;
  readonly listeners: Set<() => void>;
  /** The port the pod spec declares (8080) and the one the process really listens on. */
  declaredPort: number;
  port: number | null;
  exited: Promise<void>;
}

const CORE = "/api/v1";
const CNPG = "/apis/postgresql.cnpg.io/v1";
const COORDINATION = "/apis/coordination.k8s.io/v1";
const DISCOVERY = "/apis/discovery.k8s.io/v1";
export const OPERATOR_VERSION = "1.30.0";

/** api/v1/cluster_types.go: DefaultPrimaryLeaseDurationSeconds, DefaultPrimaryLeaseRetryPeriodSeconds. */
export const LEASE_DURATION_S = 15;
export const LEASE_RETRY_S = 2;
/** internal/cmd/manager/instance/run/lease/runnable.go: defaultReleasedLeaseDuration (written on a clean release). */
const RELEASED_LEASE_S = 1;
/** internal/cmd/manager/controller/cmd.go: --leader-lease-duration 15; controller.go: LeaderElectionID. */
export const OPERATOR_LEASE_S = 15;
export const OPERATOR_LEADER_LEASE = "db9c8771.cnpg.io";
/** client-go leaderelection.go release(): the leader Lease given up has an empty holder and a 1 s duration. */
const OPERATOR_RELEASED_LEASE_S = 1;
/** cluster_controller.go: "waiting for the operation to complete" requeues after 1 s. */
const REQUEUE_S = 1;

/*
 * What the first real run taught the fake (kind v1.34.4, CloudNativePG 1.30.0, 3 instances,
 * cnpg-kill-primary: test/fixtures/cnpg/kind/kill-primary/history.jsonl; times after the fault).
 * Each is an upstream duration, so it is scaled like the others.
 */
/**
 * kubelet (pkg/kubelet/kuberuntime/kuberuntime_manager.go minimumGracePeriodInSeconds = 2): a pod
 * deleted with grace 0 leaves the API at once, but its containers get SIGTERM and 2 s before SIGKILL.
 * Real run: the old primary answered 57P03 "shutting down" to new connections at +0.25 s, yet its
 * held connection acknowledged writes until +2.08 s, it renewed the Lease once more at +1.12 s and
 * never released it.
 */
const KUBELET_MIN_GRACE_S = 2;
/**
 * The replicas' instance managers report their WAL receivers down (pg_stat_wal_receiver empty:
 * pkg/management/postgres/probes.go IsWALReceiverActive; replicas.go AreWalReceiversDown) only a
 * while after the old primary's SIGKILL: a receiver has to notice its connection's end, and one
 * the startup process restarts is listed again while it tries the -rw Service. Real runs: the
 * held connection's last acknowledged write, then the new target: kill-primary +2.08 → +2.67 s
 * (the pass at +2.56 s still waited), kill-operator-then-primary +4.07 (reset at +4.15) → +5.13 s
 * (the pass at +4.99 s still waited); 0.5–1.0 s.
 */
const WAL_RECEIVERS_DOWN_S = 0.6;
/**
 * One operator pass takes time before it writes: getManagedResources (0.1 s), then
 * GetStatusFromInstances asking each instance manager over HTTP (0.2 s). Real run: pod gone at
 * +0.31 s, "Failing over" at +0.59 s; each targetPrimary pending → reset → pending cycle 0.3–0.5 s;
 * currentPrimary +19.66 s → primary label +19.95 s.
 */
const PASS_LIST_S = 0.1;
const PASS_STATUS_S = 0.2;
/** The EndpointSlice controller follows pods within milliseconds. Real run: pod deleted and rw slice emptied in the same watch moment (+0.31 s); primary label +19.95 s → rw slice +20.00 s. */
const ENDPOINTS_S = 0.03;
/** Without a backing database, how long a promotion takes (pg_ctl promote and the instance manager's status). Real run: Lease taken +18.90 s → currentPrimary +19.66 s. */
const PROMOTION_S = 0.75;
/**
 * A recreated former primary reports itself primary (no standby.signal) until its instance manager
 * has rewound it, and the operator labels no pod while two report primary ("An old primary pod has
 * been detected", cluster_controller.go, requeue 5 s) nor a pod not yet active (metadata.go
 * updateRoleLabels, utils.IsPodActive). Real run: recreated without a role +19.96 s, labelled
 * replica +38.12 s (18.2 s); modelled as a pod Pending that long.
 */
const FORMER_PRIMARY_REJOIN_S = 18;
/** A rejoined standby becomes Ready on the readiness probe (pkg/specs/pods.go ReadinessProbePeriod 10 s). Real run: labelled replica +38.12 s → Cluster healthy +46.32 s. */
const STANDBY_READY_S = 8;

/*
 * What the real cnpg-switchover taught it (same cluster and versions:
 * test/fixtures/cnpg/kind/switchover/history.jsonl; status.targetPrimary set to pgdrill-2 at 0):
 * the target written +0.04 s, pgdrill-1 labelled unhealthy +0.17 s, its held session ended
 * +0.25–0.34 s, the Lease released +0.61 s, taken by pgdrill-2 +2.14 s, currentPrimary +2.79 s,
 * then both labels only at +4.72 s (pgdrill-1 replica) and +4.76 s (pgdrill-2 primary), rw moved
 * +4.78 s; pgdrill-1's PostgreSQL refused connections from +0.55 s to +8.06 s and answered as a
 * standby from +8.60 s; the phase stayed "Cluster in healthy state" throughout.
 */
/**
 * A demoted primary's fast shutdown (instance_controller.go reconcileOldPrimary,
 * RequestFastImmediateShutdown): a CHECKPOINT, then PostgreSQL stops (its sessions end, new
 * connections are refused), then the instance manager releases the Lease. Real run: targetPrimary
 * +0.04 s → held session ended +0.25–0.34 s → Lease released +0.61 s.
 */
const DEMOTE_CHECKPOINT_S = 0.25;
const DEMOTE_SHUTDOWN_S = 0.55;
/**
 * Then the demoted primary's instance manager exits and its container restarts ("When the Pod
 * restarts, it will be demoted to act as a replica of the new primary"): its status endpoint
 * refuses connections until it is back, as a standby. Real run: released +0.61 s, PostgreSQL
 * answering as a standby +8.06–8.60 s.
 */
const OLD_PRIMARY_RESTART_S = 7.5;
/**
 * The operator's status request to an instance manager that refuses connections is retried
 * (pkg/management/postgres/webserver/client/remote/instance.go requestRetry: 5 steps from 10 ms,
 * factor 5: 10 + 50 + 250 + 1250 ms) before the pass goes on without it, so a pass asking a
 * restarting instance takes 1.56 s longer. Real run: currentPrimary +2.79 s → labels +4.72 s (1.93 s).
 */
const STATUS_RETRY_S = 1.56;

/*
 * What the real cnpg-kill-operator-then-primary taught it (same cluster and versions:
 * test/fixtures/cnpg/kind/kill-operator-then-primary/history.jsonl; times after the operator's pod
 * was deleted with grace 0): the primary's pod deleted at +2.01 s (gone from the API at +2.12 s,
 * its held connection reset at +4.15 s: the kubelet's SIGKILL), and the Cluster's first write,
 * "Failing over", at +4.20 s, then pending +4.32 s, reset +4.54 s, pending +4.99 s, pgdrill-2
 * +5.13 s. A running operator writes "Failing over" 0.28 s after a primary's pod is gone (the
 * kill-primary run), so the replacement operator was leading by +3.9 s at the latest. Had the
 * killed operator left its leader Lease held, its replacement could not have led before the 15 s
 * leader lease ran out (at least +13 s: the Lease is renewed every 2 s).
 */
/**
 * The killed operator gives its leader Lease up: the kubelet's SIGTERM comes first (its 2 s minimum
 * grace, above, for grace 0 too), controller-runtime's signal handler (controller.go
 * mgr.Start(ctrl.SetupSignalHandler())) cancels the manager, which stops its controllers, caches and
 * webhooks and then, with LeaderElectionReleaseOnCancel: true (controller.go), releases the Lease
 * (controller-runtime manager/internal.go engageStopProcedure → leaderElectionCancel; client-go
 * leaderelection.go release: holder "", leaseDurationSeconds 1). Not seen in pgdrill's History (it
 * watches the primary's Lease only); an estimate, inside the 2 s grace as the real timing requires.
 */
const OPERATOR_RELEASE_S = 0.3;
/**
 * From the old operator's pod deleted to its replacement leading: the Deployment's ReplicaSet makes
 * a new pod, the kubelet starts it, the manager starts up (configuration, PKI, webhooks, caches), and
 * its elector, finding the Lease released, takes it at the first try. Real run: leading by +3.9 s
 * (the first write at +4.20 s, less the 0.3 s a pass takes before it writes).
 */
const OPERATOR_RESTART_S = 3.9;

const HEALTHY = "Cluster in healthy state";
const FAILING_OVER = "Failing over";
const WAITING = "Waiting for the instances to become active";
const PENDING = "pending";

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
  /** Multiplies every upstream duration (lease, retry, requeue, the operator's restart). Default 1. */
  timeScale?: number;
  /** A pod the operator creates becomes ready after this long (ms, not scaled). Default 400. */
  podStartMs?: number;
  /** Between two pod patches of one metadata pass (ms): they are separate API calls. Default 5. */
  patchGapMs?: number;
  backing?: Backing;
  /** The app user and password of the <cluster>-app secret (pkg/specs/secrets.go); the backing must have them (initdb's owner of database app). */
  app?: { username: string; password: string };
}

type Role = "primary" | "replica" | "unhealthy" | null;

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

interface ClusterStatus {
  currentPrimary?: string;
  targetPrimary?: string;
  phase?: string;
  phaseReason?: string;
  readyInstances?: number;
}

export class CnpgWorld {
  readonly fake: FakeKubeApi;
  readonly options: Required<Omit<WorldOptions, "backing" | "app">> & { backing?: Backing; app?: WorldOptions["app"] };
  /** Pod deletes seen, with their grace periods. */
  readonly deletes: Array<{ namespace: string | undefined; name: string; grace: number | undefined }> = [];
  /** What the fake operator and instance managers did, in order, for tests to read ("operator: leader", "pg-2: lease claimed (held)"...). */
  readonly log: string[] = [];
  private readonly proxies: Server[] = [];
  private readonly connections = new Map<string, Set<Socket>>();
  private operatorSerial = 0;
  private operatorPod: string | null = null;
  /** The operator reconciles only while one of its pods holds the leader lease. */
  private leading = false;
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private reconciling = false;
  private again = false;
  /** Instance managers not running (pod deleted, postgres stopped by a demotion in progress). */
  private readonly down = new Set<string>();
  /** Candidates waiting for the primary Lease: what they observed and since when (runnable.go tryTakeOver). */
  private readonly acquiring = new Map<string, { observed: string | null; since: number; timer: NodeJS.Timeout | null }>();
  private slicesTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** Instance pods deleted with grace 0 whose containers still run (the kubelet's minimum grace), each with a token for its incarnation. */
  private readonly terminating = new Map<string, symbol>();
  /** Demoted primaries whose instance manager is restarting (OLD_PRIMARY_RESTART_S): their status requests are refused. */
  private readonly restarting = new Set<string>();
  /** Killed instances whose replicas' WAL receivers are still reported up (WAL_RECEIVERS_DOWN_S). */
  private readonly walReceiversUp = new Set<string>();
  /** Instances that were the primary when their pod was deleted: recreated, they must rejoin as standbys. */
  private readonly formerPrimaries = new Set<string>();
  /** The cluster network: "<service>.<ns>.svc:<port>" → the local address of its stand-in. */
  readonly clusterDns: Record<string, string> = {};
  private readonly routing: Array<Promise<void>> = [];
  /** Pods run as processes (the probe runner), by namespace/name. */
  readonly processes = new Map<string, PodProcess>();
  /** Every line pods run here wrote to stderr, for tests to show on failure. */
  readonly podStderr: string[] = [];

  constructor(fake: FakeKubeApi, options: WorldOptions) {
    this.fake = fake;
    this.options = { operatorNamespace: "cnpg-system", timeScale: 1, podStartMs: 400, patchGapMs: 5, ...options };
    fake.onWrite((plural, object) => this.onWrite(plural, object));
    fake.onDelete((ref, grace) => {
      if (ref.plural === "pods") this.onPodDelete(ref.namespace, ref.name, grace);
      // A namespace's deletion ends its pods.
      if (ref.plural === "namespaces") for (const running of this.processes.values()) if (running.namespace === ref.name) this.stopProcess(running);
    });
    fake.onPodLog((namespace, name, query, res) => this.servePodLog(namespace, name, query, res));
    fake.onPodProxy((request, res) => this.proxyToPod(request, res));
    // The node the kube-proxy stand-in listens on.
    fake.put(CORE, "nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "fake-control-plane", labels: { "node-role.kubernetes.io/control-plane": "" } }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }, { type: "Hostname", address: "fake-control-plane" }] } });
    fake.onChange((plural, _type, object) => {
      if (plural !== "pods" || object.metadata.namespace !== this.options.namespace) return;
      this.podsChanged();
      // The Cluster controller watches its pods (cluster_controller.go SetupWithManager: Owns(&corev1.Pod{})).
      if (this.leading) this.reconcile();
    });
  }

  /** Seconds of upstream time, in this world's (scaled) milliseconds. */
  scaled(seconds: number): number {
    return seconds * 1000 * this.options.timeScale;
  }

  /** The operator as installed by its release manifest: CRD, deployment, one ready pod that wins its leader election. */
  installOperator(): void {
    this.fake.put("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "clusters.postgresql.cnpg.io" },
      status: { conditions: [{ type: "NamesAccepted", status: "True" }, { type: "Established", status: "True", reason: "InitialNamesAccepted" }] },
    });
    this.installOperatorDeployment("cnpg-controller-manager", this.options.operatorNamespace, { "app.kubernetes.io/name": "cloudnative-pg" });
    this.putOperatorPod(true);
  }

  /** An operator Deployment as another installer names it (Helm: <release>-cloudnative-pg), for the detection tests. */
  installOperatorDeployment(name: string, namespace: string, labels: Record<string, string>): void {
    this.fake.put("/apis/apps/v1", "deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels },
      spec: { replicas: 1, template: { spec: { containers: [{ name: "manager", image: `ghcr.io/cloudnative-pg/cloudnative-pg:${OPERATOR_VERSION}` }] } } },
      status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: "Available", status: "True" }] },
    });
  }

  instance(i: number): string {
    return `${this.options.cluster}-${i}`;
  }

  instanceNames(): string[] {
    return Array.from({ length: this.options.instances }, (_, i) => this.instance(i + 1));
  }

  pod(name: string): KubeObject | undefined {
    return this.fake.get(CORE, this.options.namespace, "pods", name);
  }

  cluster(): KubeObject | undefined {
    return this.fake.get(CNPG, this.options.namespace, "clusters", this.options.cluster);
  }

  lease(): LeaseSpec | undefined {
    return this.fake.get(COORDINATION, this.options.namespace, "leases", this.options.cluster)?.spec as LeaseSpec | undefined;
  }

  get operatorLeading(): boolean {
    return this.leading;
  }

  /** Sets a pod's role label (both cnpg.io/instanceRole and its deprecated alias, as utils.SetInstanceRole does) and readiness. */
  setRole(name: string, role: Role, ready = true): void {
    this.fake.patch(CORE, this.options.namespace, "pods", name, {
      metadata: { labels: { "cnpg.io/instanceRole": role, role } },
      status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
  }

  setStatus(status: Record<string, unknown>): void {
    this.fake.patch(CNPG, this.options.namespace, "clusters", this.options.cluster, { status });
    // The Cluster controller watches its Cluster with no predicate (cluster_controller.go
    // SetupWithManager: For(&apiv1.Cluster{})), so a status write starts another pass. Real run: the
    // targetPrimary flip-flop below ran at this pace (0.3–0.5 s a cycle), not at the 1 s requeue.
    if (this.leading) this.reconcile();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const waiting of this.acquiring.values()) if (waiting.timer) clearTimeout(waiting.timer);
    if (this.slicesTimer) clearTimeout(this.slicesTimer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    for (const sockets of this.connections.values()) for (const socket of sockets) socket.destroy();
    for (const running of this.processes.values()) this.stopProcess(running);
    await Promise.all([...this.processes.values()].map((running) => running.exited));
    // A container whose docker CLI went away early is not left behind either.
    await Promise.all([...this.processes.values()].map((running) => (running.runtime.how === "image" ? run("docker", ["rm", "--force", running.runtime.container]).catch(() => undefined) : undefined)));
    await Promise.all(this.proxies.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  // ---- Writes by clients -------------------------------------------------------------------

  private onWrite(plural: string, object: KubeObject): void {
    if (plural === "clusters" && object.metadata.name === this.options.cluster && !this.cluster()?.status) this.bootstrap();
    if (plural === "services") this.routeService(object);
    if (plural === "pods" && object.metadata.namespace === this.options.namespace && !this.instanceNames().includes(object.metadata.name)) void this.runPod(object);
    // A Cluster write (fencing annotation, targetPrimary) triggers a reconcile, as its watch does.
    if ((plural === "clusters" || plural === "clusters/status") && object.metadata.name === this.options.cluster) {
      this.applyFencing();
      this.later(10, () => this.reconcile());
      this.instanceManagersReact();
    }
  }

  /**
   * What the operator creates for a new Cluster, already bootstrapped: the superuser secret, the
   * -rw/-ro/-r services (pkg/specs/services.go), the primary Lease (internal/controller/
   * primary_lease.go: named after the Cluster, created by the operator, held by the primary),
   * the completed initdb Job's pod (pkg/specs/jobs.go: cluster and instance labels, no podRole),
   * the instance pods and a healthy status.
   */
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
      // initdb's application user, owner of database app (pkg/specs/secrets.go, CreateSecret: username, password, and more).
      const app = this.options.app ?? { username: "app", password: "fake-app-password" };
      this.fake.put(CORE, "secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${cluster}-app`, namespace, labels: { "cnpg.io/cluster": cluster, "cnpg.io/userType": "app" } },
        type: "kubernetes.io/basic-auth",
        data: { username: b64(app.username), password: b64(app.password), dbname: b64("app") },
      });
      for (const [suffix, role] of [["rw", "primary"], ["ro", "replica"], ["r", null]] as const) {
        const service = this.fake.put(CORE, "services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: `${cluster}-${suffix}`, namespace, labels: { "cnpg.io/cluster": cluster } },
          spec: { type: "ClusterIP", selector: { "cnpg.io/cluster": cluster, ...(role ? { "cnpg.io/instanceRole": role } : { "cnpg.io/podRole": "instance" }) }, ports: [{ name: "postgres", port: 5432, targetPort: 5432 }] },
        });
        this.routeService(service);
      }
      this.additionalServices();
      const now = microTime();
      this.fake.put(COORDINATION, "leases", {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: cluster, namespace, ownerReferences: [{ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", name: cluster, controller: true, uid: "00000000-0000-4000-8000-000000000001" }] },
        spec: { holderIdentity: this.instance(1), leaseDurationSeconds: LEASE_DURATION_S, acquireTime: now, renewTime: now, leaseTransitions: 1 },
      });
      this.fake.put(CORE, "pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `${this.instance(1)}-initdb-7xk2p`, namespace, labels: { "cnpg.io/cluster": cluster, "cnpg.io/instanceName": this.instance(1), "cnpg.io/jobRole": "initdb", "batch.kubernetes.io/job-name": `${this.instance(1)}-initdb` } },
        spec: { nodeName: "fake-worker-1", containers: [{ name: "initdb", image: "ghcr.io/cloudnative-pg/postgresql:18-system-trixie" }] },
        status: { phase: "Succeeded", conditions: [{ type: "Ready", status: "False", reason: "PodCompleted" }] },
      });
      for (let i = 1; i <= instances; i += 1) this.putPod(this.instance(i), i === 1 ? "primary" : "replica", true);
      const names = this.instanceNames();
      this.setStatus({
        instances,
        readyInstances: instances,
        phase: HEALTHY,
        currentPrimary: this.instance(1),
        currentPrimaryTimestamp: microTime(),
        targetPrimary: this.instance(1),
        targetPrimaryTimestamp: microTime(),
        latestGeneratedNode: instances,
        instanceNames: names,
        instancesStatus: { healthy: names },
        writeService: `${cluster}-rw`,
        readService: `${cluster}-r`,
        conditions: [{ type: "Ready", status: "True", reason: "ClusterIsReady", message: "Cluster is Ready" }],
      });
      this.scheduleRenewals();
    });
  }

  // ---- Pods going away ---------------------------------------------------------------------

  private onPodDelete(namespace: string | undefined, name: string, grace: number | undefined): void {
    this.deletes.push({ namespace, name, grace });
    // A pod run here (the probe runner) is stopped as the kubelet stops it: SIGTERM, then SIGKILL after the grace period.
    const running = this.processes.get(`${namespace}/${name}`);
    if (running) this.stopProcess(running, grace);
    if (namespace === this.options.operatorNamespace) {
      this.operatorPodDeleted(name, grace);
      return;
    }
    if (namespace !== this.options.namespace || !this.instanceNames().includes(name)) return;
    this.stopAcquiring(name);
    const wasPrimary = name === this.status().currentPrimary;
    if (wasPrimary) this.formerPrimaries.add(name);
    if (grace === 0) {
      // The pod object is gone now (no endpoint, no DNS, so no new connection reaches it), but the
      // kubelet gives its containers KUBELET_MIN_GRACE_S before SIGKILL: sessions already open keep
      // working, the instance manager keeps renewing the Lease and the replicas' WAL receivers stay
      // connected, so the operator cannot elect a new primary yet (real run: see KUBELET_MIN_GRACE_S).
      const incarnation = Symbol(name);
      this.terminating.set(name, incarnation);
      this.log.push(`${name}: pod deleted (grace 0), its containers stopping`);
      this.later(this.scaled(KUBELET_MIN_GRACE_S), () => this.containersKilled(name, incarnation, wasPrimary));
    } else {
      this.dropConnections(name);
      this.down.add(name);
      if (this.lease()?.holderIdentity === name) {
        // A graceful stop: the instance manager releases the Lease on its way out, so a replica
        // need not wait out the TTL (internal/cmd/manager/instance/run/cmd.go, the deferred
        // leaseRunnable.Release; runnable.go Release writes an empty holder, 1 s duration).
        this.writeLease({ holderIdentity: undefined, leaseDurationSeconds: RELEASED_LEASE_S, renewTime: microTime(), acquireTime: microTime() });
        this.log.push(`${name}: lease released`);
      }
      if (wasPrimary) void this.options.backing?.kill(name).catch(() => undefined);
    }
    // The operator notices on its pods watch (if it is running) and reconciles.
    this.later(20, () => this.reconcile());
  }

  /**
   * The kubelet's SIGKILL after a grace-0 delete: PostgreSQL and the instance manager die at once,
   * so the held sessions break, the replicas' WAL receivers end (seen down WAL_RECEIVERS_DOWN_S
   * later) and the Lease is left held (the
   * deferred Release never runs; real run: holders pgdrill-1 → pgdrill-2, never empty).
   */
  private containersKilled(name: string, incarnation: symbol, wasPrimary: boolean): void {
    if (this.terminating.get(name) !== incarnation) return;
    this.terminating.delete(name);
    if (wasPrimary) void this.options.backing?.kill(name).catch(() => undefined);
    // A replica's pod may already be back under its name: that incarnation is its own.
    if (this.pod(name)) return;
    this.down.add(name);
    this.dropConnections(name);
    this.log.push(this.lease()?.holderIdentity === name ? `${name}: killed holding the lease` : `${name}: killed`);
    if (wasPrimary) {
      this.walReceiversUp.add(name);
      this.later(this.scaled(WAL_RECEIVERS_DOWN_S), () => this.walReceiversUp.delete(name));
    }
  }

  /** An instance's PostgreSQL and instance manager run: its pod exists (or was deleted and is still in the kubelet's grace) and it is not stopped. */
  private running(name: string): boolean {
    return (this.pod(name) !== undefined || this.terminating.has(name)) && !this.down.has(name);
  }

  // ---- The operator's leader election ------------------------------------------------------

  /**
   * The operator runs with --leader-elect (config/manager/manager.yaml). Its pod deleted (any grace):
   * it stops reconciling at once (the manager's context is cancelled, a pass in flight stops), gives
   * its leader Lease up within the kubelet's grace (OPERATOR_RELEASE_S), and the replacement pod
   * the Deployment starts leads OPERATOR_RESTART_S after the delete. Until then nothing reconciles:
   * no failover happens without an operator, but the wait is the replacement's start-up, not the
   * 15 s leader lease (real run: see OPERATOR_RESTART_S).
   */
  private operatorPodDeleted(name: string, grace: number | undefined): void {
    if (name !== this.operatorPod) return;
    this.leading = false;
    this.operatorPod = null;
    this.log.push(`operator: ${name} gone (grace ${grace ?? "default"}), stopping`);
    this.later(this.scaled(OPERATOR_RELEASE_S), () => {
      const leader = this.fake.get(COORDINATION, this.options.operatorNamespace, "leases", OPERATOR_LEADER_LEASE);
      if (!leader || (leader.spec as LeaseSpec | undefined)?.holderIdentity !== `${name}_fake`) return;
      const now = microTime();
      this.fake.patch(COORDINATION, this.options.operatorNamespace, "leases", OPERATOR_LEADER_LEASE, { spec: { holderIdentity: "", leaseDurationSeconds: OPERATOR_RELEASED_LEASE_S, renewTime: now, acquireTime: now } });
      this.log.push(`operator: ${name} released the leader lease`);
    });
    // The Deployment's ReplicaSet makes a new pod at once; its manager leads once started.
    const restart = this.scaled(OPERATOR_RESTART_S);
    const created = Math.min(20, restart / 2);
    this.later(created, () => {
      const replacement = this.putOperatorPod(false);
      this.later(restart - created, () => {
        if (this.operatorPod === replacement) this.winLeaderElection();
      });
    });
  }

  private winLeaderElection(): void {
    if (!this.operatorPod) return;
    // Ready about now: its readiness probe asks the webhook server, which starts just before the elector.
    this.fake.patch(CORE, this.options.operatorNamespace, "pods", this.operatorPod, { status: { conditions: [{ type: "Ready", status: "True" }] } });
    const now = microTime();
    this.fake.put(COORDINATION, "leases", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: OPERATOR_LEADER_LEASE, namespace: this.options.operatorNamespace },
      spec: { holderIdentity: `${this.operatorPod}_fake`, leaseDurationSeconds: OPERATOR_LEASE_S, acquireTime: now, renewTime: now },
    });
    this.leading = true;
    this.log.push(`operator: ${this.operatorPod} leads`);
    this.reconcile();
  }

  // ---- The Cluster controller --------------------------------------------------------------

  /** One reconcile pass, as internal/controller/cluster_controller.go Reconcile does, requeued each second while work is left. */
  private reconcile(): void {
    if (this.closed || !this.leading) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    void this.reconcileOnce()
      .catch((error: unknown) => this.log.push(`operator: reconcile failed: ${(error as Error).message}`))
      .finally(() => {
        this.reconciling = false;
        if (this.again) {
          this.again = false;
          this.later(5, () => this.reconcile());
        }
      });
  }

  private async reconcileOnce(): Promise<void> {
    // getManagedResources: the pass lists the Cluster's pods, jobs and PVCs before it writes.
    if (!(await this.step(this.scaled(PASS_LIST_S)))) return;
    let status = this.status();
    if (!this.cluster() || !status.currentPrimary) return;

    // updateResourceStatus (cluster_status.go): a targetPrimary naming no active instance pod is
    // reset to currentPrimary ("Wrong target primary, the chosen one is not active or not
    // present"). "pending" never names one, so every pass of a failover that still waits resets it
    // and the failover path below sets it pending again. Real run: pending ↔ pgdrill-1 five times
    // between +0.62 s and +2.56 s, phase "Failing over" throughout, then pgdrill-2 at +2.67 s.
    if (status.targetPrimary !== status.currentPrimary && !this.activeInstance(status.targetPrimary)) {
      this.log.push(`operator: targetPrimary ${status.targetPrimary ?? "unset"} names no active instance, reset to ${status.currentPrimary}`);
      this.setStatus({ targetPrimary: status.currentPrimary, targetPrimaryTimestamp: microTime() });
      status = this.status();
    }

    // A failover or switchover in progress: mark the old primary unhealthy on every pass and wait
    // (cluster_controller.go: CurrentPrimary != TargetPrimary → markOldPrimaryAsUnhealthy, requeue 1 s).
    if (status.currentPrimary !== status.targetPrimary) {
      this.markUnhealthy(status.currentPrimary!);
      this.requeue();
      return;
    }

    // GetStatusFromInstances: each active instance's manager is asked for its status over HTTP;
    // one restarting refuses, and is retried before the pass goes on without it (STATUS_RETRY_S).
    const refusing = this.instanceNames().some((name) => this.restarting.has(name) && this.activeInstance(name));
    if (!(await this.step(this.scaled(PASS_STATUS_S + (refusing ? STATUS_RETRY_S : 0))))) return;
    status = this.status();
    if (status.currentPrimary !== status.targetPrimary) {
      this.requeue();
      return;
    }
    const current = status.currentPrimary!;
    const fenced = this.fencedSet();

    // The current primary is fenced: no switchover, no failover (cluster_controller.go
    // handleSwitchover: "The current primary instance is fenced ... we won't trigger a switchover").
    // Nor while it is still recovering from a fence (handleSwitchover: ReportingMightBeUnavailable):
    // docs/src/fencing.md, a primary unfenced is started again without a failover.
    const primaryPod = this.pod(current);
    if (!fenced.has(current) && !this.unfencing.has(current) && (!primaryPod || !isReady(primaryPod))) {
      await this.failover(current, status.phase);
      return;
    }

    // Pods: role labels once currentPrimary == targetPrimary, one patch per pod in the order of the
    // pod list (name order), as pkg/reconciler/instance/metadata.go ReconcileMetadata does; a pod
    // not yet active (Pending, or being deleted) is skipped (updateRoleLabels, utils.IsPodActive).
    for (const name of this.instanceNames()) {
      const pod = this.pod(name);
      if (!pod || !isActive(pod)) continue;
      const want: Role = name === current ? "primary" : "replica";
      if (roleOf(pod) === want) continue;
      this.fake.patch(CORE, this.options.namespace, "pods", name, { metadata: { labels: { "cnpg.io/instanceRole": want, role: want } } });
      if (!(await this.step(this.options.patchGapMs))) return;
    }

    // Missing instances are recreated under the same name, without a role label (pkg/specs/pods.go
    // sets cluster, instanceName and podRole only; the role comes from a later metadata pass), and
    // the pass ends there (reconcilePods: ErrNextLoop). Real run: pgdrill-1 recreated at +19.96 s,
    // 11 ms after pgdrill-2's primary label; "Waiting for the instances to become active" at +20.24 s.
    const missing = this.instanceNames().filter((name) => !this.pod(name));
    for (const name of missing) {
      this.putPod(name, null, false);
      this.log.push(`operator: ${name} recreated`);
      if (this.formerPrimaries.delete(name)) {
        this.later(this.scaled(FORMER_PRIMARY_REJOIN_S), () => this.rejoined(name));
      } else {
        this.later(this.options.podStartMs, () => this.instanceStarted(name));
      }
    }
    if (missing.length > 0) {
      this.requeue();
      return;
    }

    // The phase: "Waiting for the instances to become active" while an instance pod is not active
    // (cluster_controller.go reconcileResources, PhaseWaitingForInstancesToBeActive), healthy once
    // every instance is ready (the end of Reconcile), else left as it is: a pod that is active but
    // not ready only requeues ("Waiting for Pods to be ready", ErrNextLoop). Real switchover: the
    // old primary's container restarted, its pod still Running, and the phase stayed healthy.
    const ready = this.instanceNames().filter((name) => { const pod = this.pod(name); return pod !== undefined && isReady(pod); }).length;
    const inactive = this.instanceNames().some((name) => !this.activeInstance(name));
    const phase = inactive ? WAITING : ready === this.options.instances ? HEALTHY : (status.phase ?? WAITING);
    if (status.phase !== phase || status.readyInstances !== ready) this.setStatus({ phase, phaseReason: phase === HEALTHY ? "" : `${ready} of ${this.options.instances} ready`, readyInstances: ready });
    if (ready !== this.options.instances || this.instanceNames().some((name) => roleOf(this.pod(name)) !== (name === current ? "primary" : "replica"))) this.requeue();
  }

  /**
   * replicas.go reconcileTargetPrimaryForNonReplicaCluster with the primary not healthy: the phase
   * (RegisterPhase) and then targetPrimary "pending" (setPrimaryInstance), two writes (real run:
   * "Failing over" with targetPrimary still pgdrill-1 at +0.59 s, pending at +0.62 s); the old
   * primary labelled unhealthy (skipped when its pod is gone); then, only once the replicas' WAL
   * receivers are down (AreWalReceiversDown: the old primary's PostgreSQL stopped, else
   * ErrWalReceiversRunning, requeue 1 s), the most advanced ready replica as targetPrimary, in the
   * same pass (real run: pending at +2.56 s, pgdrill-2 at +2.67 s, after the kubelet's SIGKILL).
   */
  private async failover(current: string, phase: string | undefined): Promise<void> {
    if (phase !== FAILING_OVER) this.log.push(`operator: failover from ${current} initiated`);
    this.setStatus({ phase: FAILING_OVER, phaseReason: `Initiating a failover from ${current}` });
    if (!(await this.step(this.options.patchGapMs))) return;
    this.setStatus({ targetPrimary: PENDING, targetPrimaryTimestamp: microTime() });
    this.instanceManagersReact();
    // Marked unhealthy at once, removing it from -rw and -ro (replicas.go markOldPrimaryAsUnhealthy).
    this.markUnhealthy(current);
    if (this.running(current) || this.walReceiversUp.has(current)) {
      this.requeue();
      return;
    }
    const fenced = this.fencedSet();
    const candidate = this.instanceNames().find((name) => {
      const pod = this.pod(name);
      return name !== current && pod !== undefined && isReady(pod) && !fenced.has(name) && !this.down.has(name);
    });
    if (!candidate) {
      this.requeue();
      return;
    }
    this.setStatus({ phase: FAILING_OVER, phaseReason: `Failing over from ${current} to ${candidate}` });
    if (!(await this.step(this.options.patchGapMs))) return;
    this.setStatus({ targetPrimary: candidate, targetPrimaryTimestamp: microTime() });
    this.log.push(`operator: targetPrimary ${candidate}`);
    this.instanceManagersReact();
    this.requeue();
  }

  /** Waits `ms` inside a pass; false when the operator pod that runs the pass stopped leading meanwhile (a killed operator stops mid-pass). */
  private async step(ms: number): Promise<boolean> {
    const operator = this.operatorPod;
    await this.sleep(ms);
    return this.leading && this.operatorPod === operator;
  }

  /** cluster_status.go: an instance pod that exists and is active (utils.FilterActivePods). */
  private activeInstance(name: string | undefined): boolean {
    const pod = name === undefined ? undefined : this.pod(name);
    return pod !== undefined && isActive(pod);
  }

  /** replicas.go markOldPrimaryAsUnhealthy: the old primary's role label becomes "unhealthy" (skipped when its pod is gone). */
  private markUnhealthy(name: string): void {
    const pod = this.pod(name);
    if (!pod || roleOf(pod) === "unhealthy") return;
    this.fake.patch(CORE, this.options.namespace, "pods", name, { metadata: { labels: { "cnpg.io/instanceRole": "unhealthy", role: "unhealthy" } } });
  }

  private requeue(): void {
    this.later(this.scaled(REQUEUE_S), () => this.reconcile());
  }

  // ---- Instance managers -------------------------------------------------------------------

  /** Each instance manager reacts to the Cluster's status (instance_controller.go reconcilePrimary / reconcileDesignatedPrimary). */
  private instanceManagersReact(): void {
    const status = this.status();
    if (!status.targetPrimary) return;
    const target = status.targetPrimary;
    // The primary asked to step down (a switchover, or "pending", which replicas.go sets to signal
    // a still-running old primary to shut down): it shuts PostgreSQL down, releases the Lease
    // (runnable.go Release) and comes back as a replica.
    const current = status.currentPrimary;
    if (current && current !== target && !this.down.has(current) && this.pod(current) && this.lease()?.holderIdentity === current && !this.fencedSet().has(current)) {
      this.down.add(current);
      this.log.push(`${current}: demoting`);
      void (async () => {
        // The CHECKPOINT; then PostgreSQL stops: its sessions end and it refuses new connections
        // (57P03), so no client reaches it while the backing is stopped: not Ready from then, out of
        // every Service's routing (rw and ro dropped it already, on the operator's unhealthy label).
        await this.sleep(this.scaled(DEMOTE_CHECKPOINT_S));
        this.dropConnections(current);
        this.patchReady(current, false);
        await Promise.all([this.options.backing?.kill(current).catch(() => undefined), this.sleep(this.scaled(DEMOTE_SHUTDOWN_S - DEMOTE_CHECKPOINT_S))]);
        this.writeLease({ holderIdentity: undefined, leaseDurationSeconds: RELEASED_LEASE_S, renewTime: microTime(), acquireTime: microTime() });
        this.log.push(`${current}: lease released`);
        // Its instance manager exits and the container restarts (real run: see OLD_PRIMARY_RESTART_S).
        this.restarting.add(current);
        this.later(this.scaled(OLD_PRIMARY_RESTART_S), () => {
          this.restarting.delete(current);
          this.instanceStarted(current);
        });
      })();
    }
    if (target !== PENDING && target !== current && this.pod(target) && !this.down.has(target) && !this.acquiring.has(target)) this.startAcquiring(target);
  }

  /**
   * The candidate's wait for the primary Lease (runnable.go preAcquire / tryTakeOver): poll at once
   * and then every retry period; an empty holder is claimed at once; a holder that is still named
   * is taken over only after its record (holder, renewTime) sat unchanged for a full lease
   * duration, timed locally from the first observation. Then promote and set currentPrimary
   * (instance_controller.go reconcilePrimary: Acquire, handlePromotion, CurrentPrimary).
   */
  private startAcquiring(candidate: string): void {
    this.log.push(`${candidate}: acquiring the lease`);
    const state: { observed: string | null; since: number; timer: NodeJS.Timeout | null } = { observed: null, since: 0, timer: null };
    this.acquiring.set(candidate, state);
    const poll = () => {
      if (this.closed || this.acquiring.get(candidate) !== state) return;
      const lease = this.lease() ?? {};
      const holder = lease.holderIdentity ?? "";
      let claim = false;
      if (holder === candidate) claim = true;
      else if (holder === "") claim = true;
      else {
        const record = `${holder}|${lease.renewTime ?? ""}`;
        if (state.observed !== record) {
          state.observed = record;
          state.since = Date.now();
        } else if (Date.now() - state.since >= this.scaled(lease.leaseDurationSeconds ?? LEASE_DURATION_S)) claim = true;
      }
      if (!claim) {
        state.timer = setTimeout(poll, this.scaled(LEASE_RETRY_S));
        return;
      }
      this.acquiring.delete(candidate);
      const now = microTime();
      this.writeLease({ holderIdentity: candidate, leaseDurationSeconds: LEASE_DURATION_S, renewTime: now, acquireTime: now, leaseTransitions: (lease.leaseTransitions ?? 0) + 1 });
      this.log.push(`${candidate}: lease claimed (${holder === "" ? "released" : holder === candidate ? "already held" : `taken over from ${holder}`})`);
      // Then client-go's elector starts (runnable.go runLeaderElection): its acquire and its renew
      // loop's first try each renew at once, and it renews every retry period from there. Real run:
      // three Lease writes by pgdrill-2 within 15 ms (+18.90 s), then one every 2 s (+20.92 s, …).
      for (const gap of [5, 10]) {
        this.later(gap, () => {
          if (this.lease()?.holderIdentity === candidate && this.running(candidate)) this.writeLease({ renewTime: microTime() });
        });
      }
      this.scheduleRenewals();
      void this.promote(candidate);
    };
    poll();
  }

  private stopAcquiring(name: string): void {
    const state = this.acquiring.get(name);
    if (state?.timer) clearTimeout(state.timer);
    this.acquiring.delete(name);
  }

  private async promote(candidate: string): Promise<void> {
    if (this.options.backing) await this.options.backing.promote(candidate).catch(() => undefined);
    else await this.sleep(this.scaled(PROMOTION_S));
    if (this.closed || !this.pod(candidate)) return;
    // The new primary sets currentPrimary itself (instance_controller.go: "Setting myself as primary").
    this.setStatus({ currentPrimary: candidate, currentPrimaryTimestamp: microTime() });
    this.log.push(`${candidate}: currentPrimary`);
    // The operator relabels on its next pass (metadata.go, only once currentPrimary == targetPrimary).
    this.later(10, () => this.reconcile());
  }

  /** The holder renews every retry period while its instance manager runs (client-go leader election), counted from its last acquisition. */
  private scheduleRenewals(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    const tick = () => {
      this.renewTimer = null;
      if (this.closed) return;
      const holder = this.lease()?.holderIdentity;
      if (holder && this.running(holder)) this.writeLease({ renewTime: microTime() });
      this.renewTimer = setTimeout(tick, this.scaled(LEASE_RETRY_S));
    };
    this.renewTimer = setTimeout(tick, this.scaled(LEASE_RETRY_S));
  }

  /** A recreated former primary has rewound and starts as a standby: its pod is active (so labelled replica on the next pass), Ready on a later readiness probe. */
  private rejoined(name: string): void {
    if (this.closed || !this.pod(name)) return;
    this.log.push(`${name}: rejoined as a standby`);
    this.fake.patch(CORE, this.options.namespace, "pods", name, { status: { phase: "Running" } });
    this.later(this.scaled(STANDBY_READY_S), () => this.instanceStarted(name));
  }

  /** An instance's PostgreSQL is up: ready unless fenced (docs/src/fencing.md: a fenced pod is kept alive but not Ready). */
  private instanceStarted(name: string): void {
    this.unfencing.delete(name);
    if (this.closed || !this.pod(name)) return;
    this.down.delete(name);
    if ((this.pod(name)?.status as { phase?: string } | undefined)?.phase !== "Running") this.fake.patch(CORE, this.options.namespace, "pods", name, { status: { phase: "Running" } });
    if (!this.fencedSet().has(name)) this.patchReady(name, true);
    this.later(10, () => this.reconcile());
  }

  // ---- Fencing -----------------------------------------------------------------------------

  private fencedNow = new Set<string>();
  /** Unfenced, PostgreSQL starting again. */
  private readonly unfencing = new Set<string>();

  /**
   * cnpg.io/fencedInstances (docs/src/fencing.md, pkg/utils/fencing.go): a fenced instance's
   * postmaster is shut down and its pod is no longer Ready (so no endpoint routes to it), the pod
   * is kept; "*" fences every instance. Lifting it starts PostgreSQL again with no failover.
   */
  private applyFencing(): void {
    const fenced = this.fencedSet();
    for (const name of this.instanceNames()) {
      const was = this.fencedNow.has(name);
      const is = fenced.has(name);
      if (is && !was && this.pod(name)) {
        this.dropConnections(name);
        this.patchReady(name, false);
        this.log.push(`${name}: fenced, postgres stopped`);
      }
      if (!is && was && this.pod(name)) {
        this.log.push(`${name}: unfenced`);
        this.unfencing.add(name);
        this.later(100, () => this.instanceStarted(name));
      }
    }
    this.fencedNow = fenced;
  }

  private fencedSet(): Set<string> {
    const annotation = this.cluster()?.metadata.annotations?.["cnpg.io/fencedInstances"];
    let names: string[] = [];
    try {
      names = annotation ? (JSON.parse(annotation) as string[]) : [];
    } catch {
      names = [];
    }
    return new Set(names.includes("*") ? this.instanceNames() : names);
  }

  // ---- EndpointSlices ----------------------------------------------------------------------

  /**
   * The EndpointSlice controller: for each of the operator's Services, one slice labelled
   * kubernetes.io/service-name listing the pods its selector picks, each with conditions.ready
   * from the pod's Ready condition (not-ready pods are listed as not ready). A little after the
   * pods change, as a controller's work queue is.
   */
  private podsChanged(): void {
    if (this.slicesTimer || this.closed) return;
    this.slicesTimer = setTimeout(() => {
      this.slicesTimer = null;
      this.writeSlices();
    }, Math.max(1, this.scaled(ENDPOINTS_S)));
  }

  private writeSlices(): void {
    const { namespace, cluster } = this.options;
    for (const suffix of ["rw", "ro"] as const) {
      const service = this.fake.get(CORE, namespace, "services", `${cluster}-${suffix}`);
      if (!service) continue;
      const selector = (service.spec as { selector?: Record<string, string> }).selector ?? {};
      const endpoints = this.instanceNames()
        .map((name) => this.pod(name))
        .filter((pod): pod is KubeObject => pod !== undefined && Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v))
        .map((pod) => ({
          addresses: [(pod.status as { podIP?: string }).podIP ?? "10.244.0.1"],
          conditions: { ready: isReady(pod), serving: isReady(pod), terminating: false },
          targetRef: { kind: "Pod", name: pod.metadata.name, namespace },
          nodeName: (pod.spec as { nodeName?: string }).nodeName,
        }));
      const name = `${cluster}-${suffix}-fk${suffix === "rw" ? "7q" : "2m"}`;
      const current = this.fake.get(DISCOVERY, namespace, "endpointslices", name) as { endpoints?: unknown } | undefined;
      if (current && JSON.stringify(current.endpoints ?? []) === JSON.stringify(endpoints)) continue;
      this.fake.put(DISCOVERY, "endpointslices", {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name, namespace, labels: { "kubernetes.io/service-name": `${cluster}-${suffix}`, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" } },
        addressType: "IPv4",
        endpoints,
        ports: [{ name: "postgres", port: 5432, protocol: "TCP" }],
      });
    }
  }

  // ---- Objects -----------------------------------------------------------------------------

  private status(): ClusterStatus {
    return (this.cluster()?.status ?? {}) as ClusterStatus;
  }

  private writeLease(spec: LeaseSpec): void {
    if (!this.lease()) return;
    this.fake.patch(COORDINATION, this.options.namespace, "leases", this.options.cluster, { spec: { ...spec, ...(spec.holderIdentity === undefined && "holderIdentity" in spec ? { holderIdentity: null } : {}) } });
  }

  private patchReady(name: string, ready: boolean): void {
    if (!this.pod(name)) return;
    this.fake.patch(CORE, this.options.namespace, "pods", name, { status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } });
  }

  private putPod(name: string, role: Role, ready: boolean): void {
    const { namespace, cluster } = this.options;
    const serial = name.slice(cluster.length + 1);
    this.fake.put(CORE, "pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace,
        labels: { "cnpg.io/cluster": cluster, "cnpg.io/instanceName": name, "cnpg.io/podRole": "instance", ...(role ? { "cnpg.io/instanceRole": role, role } : {}) },
        annotations: { "cnpg.io/nodeSerial": serial, "cnpg.io/operatorVersion": OPERATOR_VERSION },
        ownerReferences: [{ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", name: cluster, controller: true, blockOwnerDeletion: true, uid: "00000000-0000-4000-8000-000000000001" }],
      },
      spec: { nodeName: `fake-worker-${serial}`, containers: [{ name: "postgres", image: "ghcr.io/cloudnative-pg/postgresql:18-system-trixie" }] },
      // A pod the operator (re)creates is Pending until the kubelet has started its containers.
      status: { phase: ready ? "Running" : "Pending", podIP: `10.244.${serial}.5`, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
    if (ready) this.down.delete(name);
    else this.down.add(name);
  }

  /** An operator pod: the installed one, Ready and leading; a replacement, Running but not Ready until it leads. */
  private putOperatorPod(leads: boolean): string {
    this.operatorSerial += 1;
    const name = `cnpg-controller-manager-6b9f78f594-${"abcdef"[this.operatorSerial % 6]}x${this.operatorSerial}`;
    this.operatorPod = name;
    this.fake.put(CORE, "pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: this.options.operatorNamespace, labels: { "app.kubernetes.io/name": "cloudnative-pg" } },
      spec: { nodeName: "fake-control-plane", containers: [{ name: "manager", image: `ghcr.io/cloudnative-pg/cloudnative-pg:${OPERATOR_VERSION}` }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: leads ? "True" : "False" }] },
    });
    if (leads) this.winLeaderElection();
    return name;
  }

  /**
   * spec.managed.services.additional (api/v1/cluster_types.go ManagedServices; pkg/specs/services.go
   * builds each: the template's metadata and spec, patched over the default Service of its
   * selectorType, with that Service's selector; the Cluster owns it): rw selects the primary, ro
   * the replicas, r every instance. The API server allocates a NodePort Service's ports.
   */
  private additionalServices(): void {
    const { namespace, cluster } = this.options;
    const managed = ((this.cluster()?.spec as { managed?: { services?: { additional?: unknown } } } | undefined)?.managed?.services?.additional ?? []) as Array<{ selectorType: "rw" | "ro" | "r"; serviceTemplate?: { metadata?: { name?: string; labels?: Record<string, string> }; spec?: Record<string, unknown> } }>;
    const selectors = { rw: { "cnpg.io/instanceRole": "primary" }, ro: { "cnpg.io/instanceRole": "replica" }, r: { "cnpg.io/podRole": "instance" } };
    for (const entry of managed) {
      const name = entry.serviceTemplate?.metadata?.name;
      if (!name) continue;
      const service = this.fake.put(CORE, "services", this.fake.withNodePorts({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace, labels: { ...entry.serviceTemplate?.metadata?.labels, "cnpg.io/cluster": cluster }, ownerReferences: [{ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", name: cluster, controller: true, uid: "00000000-0000-4000-8000-000000000001" }] },
        spec: { type: "ClusterIP", ...entry.serviceTemplate?.spec, selector: { "cnpg.io/cluster": cluster, ...selectors[entry.selectorType] }, ports: [{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }] },
      }));
      this.log.push(`operator: additional service ${name} (${entry.selectorType})`);
      this.routeService(service);
    }
  }

  // ---- The cluster network: Service names and IPs, for pods run here ----------------------

  /**
   * Every Service gets a stand-in for its cluster IP (a local listener routing by its selector;
   * headless with publishNotReadyAddresses: to the pod whether ready or not, as its DNS answers
   * with the pod's own address) and its name in the cluster DNS; a NodePort Service also listens
   * on its NodePort.
   */
  private routeService(service: KubeObject): void {
    const { name, namespace } = service.metadata;
    const spec = service.spec as { type?: string; clusterIP?: string; publishNotReadyAddresses?: boolean; selector?: Record<string, string>; ports?: Array<{ port?: number; nodePort?: number }> };
    if (!this.options.backing || namespace !== this.options.namespace) return;
    const port = spec.ports?.[0]?.port ?? 5432;
    const anyReadiness = spec.clusterIP === "None" && spec.publishNotReadyAddresses === true;
    this.routing.push(
      this.listen(0, spec.selector ?? {}, anyReadiness).then((local) => {
        this.clusterDns[`${name}.${namespace}.svc:${port}`] = `127.0.0.1:${local}`;
      }),
    );
    const nodePort = spec.ports?.[0]?.nodePort;
    if (spec.type === "NodePort" && nodePort !== undefined) void this.listen(nodePort, spec.selector ?? {}, false).catch((error: unknown) => this.log.push(`kube-proxy: NodePort ${nodePort} of ${name}: ${String(error)}`));
  }

  /**
   * Runs a pod of pgdrill's entry point (the probe runner: args ["probe-runner"]) with the pod's
   * environment, its secretKeyRefs resolved from the fake's secrets: from the pod's image in Docker
   * when the local engine has it (runInContainer), else as a local process. The one liberty: a pod
   * here shares the host's network (a container runs with --network host, so the cluster network's
   * stand-ins on 127.0.0.1 answer it), so its control port is its own (config.controlPort 0, read
   * from its hello line) and the pod proxy for the declared port goes there. Its stdout and stderr
   * are the pod's log; the pod is Running and Ready once it said hello; it is killed after its
   * activeDeadlineSeconds, as the kubelet does (reason DeadlineExceeded).
   */
  private async runPod(pod: KubeObject): Promise<void> {
    const { namespace = this.options.namespace, name } = pod.metadata;
    const spec = pod.spec as PodSpec;
    const container = spec.containers?.[0];
    if (!container || container.args?.[0] !== "probe-runner") return;
    const env: Record<string, string> = {};
    for (const entry of container.env ?? []) {
      const ref = entry.valueFrom?.secretKeyRef;
      if (!ref) {
        env[entry.name] = entry.value ?? "";
        continue;
      }
      const data = (this.fake.get(CORE, namespace, "secrets", ref.name)?.data ?? {}) as Record<string, string>;
      if (data[ref.key] === undefined) {
        this.setPodStatus(namespace, name, { phase: "Pending", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ name: "runner", ready: false, state: { waiting: { reason: "CreateContainerConfigError", message: `secret "${ref.name}" has no key "${ref.key}"` } } }] });
        return;
      }
      env[entry.name] = Buffer.from(data[ref.key]!, "base64").toString("utf8");
    }
    const config = JSON.parse(env.PGDRILL_RUNNER_CONFIG ?? "{}") as { controlPort?: number };
    const declaredPort = config.controlPort ?? container.ports?.[0]?.containerPort ?? 8080;
    env.PGDRILL_RUNNER_CONFIG = JSON.stringify({ ...config, controlPort: 0 });
    await Promise.all(this.routing);
    env.PGDRILL_FAKE_CLUSTER_DNS = JSON.stringify(this.clusterDns);
    const image = container.image ? await imageState(container.image) : { present: false as const, why: "the pod names no image" };
    if (this.closed || !this.fake.get(CORE, namespace, "pods", name)) return;
    const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TMPDIR: process.env.TMPDIR ?? "/tmp" };
    let child: ChildProcess;
    let runtime: PodRuntime;
    if (image.present) {
      const args = containerArgs(pod, spec, `pgdrill-fake-${namespace}-${name}-${randomBytes(3).toString("hex")}`.slice(0, 120), container.image!, Object.keys(env));
      runtime = { how: "image", image: container.image!, container: args[args.indexOf("--name") + 1]!, args };
      // The docker CLI stays attached: its stdout and stderr are the container's.
      child = spawn("docker", args, { env: { ...base, ...env, NODE_OPTIONS: `--import=${CLUSTER_NETWORK_IN_CONTAINER}` }, stdio: ["ignore", "pipe", "pipe"] });
      this.log.push(`kubelet: pod ${namespace}/${name} runs image ${container.image} in container ${runtime.container} (uid ${spec.securityContext?.runAsUser ?? "image default"}, read-only root, /tmp tmpfs, --network host; ${image.note})`);
    } else {
      runtime = { how: "process", why: image.why };
      child = spawn(process.execPath, ["--import", CLUSTER_NETWORK, PGDRILL_BIN, ...(container.args ?? [])], { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      this.log.push(`kubelet: pod ${namespace}/${name} runs as a local process of pgdrill probe-runner (${image.why})`);
    }
    const running: PodProcess = { namespace, name, runtime, child, log: "", ended: false, listeners: new Set(), declaredPort, port: null, exited: new Promise((resolve) => child.on("exit", () => resolve())) };
    this.processes.set(`${namespace}/${name}`, running);
    this.setPodStatus(namespace, name, { phase: "Pending", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ name: "runner", ready: false, state: { waiting: { reason: "ContainerCreating" } } }] });
    let deadlineExceeded = false;
    if (spec.activeDeadlineSeconds !== undefined) {
      const deadline = setTimeout(() => {
        deadlineExceeded = true;
        this.log.push(`kubelet: pod ${namespace}/${name} passed its activeDeadlineSeconds (${spec.activeDeadlineSeconds} s)`);
        this.stopProcess(running, 0);
      }, spec.activeDeadlineSeconds * 1000);
      deadline.unref();
      void running.exited.then(() => clearTimeout(deadline));
    }
    const notify = () => {
      for (const push of running.listeners) push();
    };
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      running.log += chunk;
      if (running.port === null) {
        const hello = /"type":"hello"[^\n]*"controlPort":(\d+)/.exec(running.log);
        if (hello) {
          running.port = Number(hello[1]);
          this.setPodStatus(namespace, name, { phase: "Running", podIP: "10.244.9.9", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "runner", ready: true, state: { running: { startedAt: new Date().toISOString() } } }] });
        }
      }
      notify();
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      running.log += chunk;
      this.podStderr.push(chunk);
      notify();
    });
    child.on("exit", (code, signal) => {
      running.ended = true;
      running.port = null;
      notify();
      if (deadlineExceeded) {
        this.setPodStatus(namespace, name, { phase: "Failed", reason: "DeadlineExceeded", message: `Pod was active on the node longer than the specified deadline`, conditions: [{ type: "Ready", status: "False" }] });
        return;
      }
      this.setPodStatus(namespace, name, { phase: code === 0 ? "Succeeded" : "Failed", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ name: "runner", ready: false, state: { terminated: { exitCode: code ?? 137, reason: signal ? "Error" : code === 0 ? "Completed" : "Error" } } }] });
    });
  }

  private setPodStatus(namespace: string, name: string, status: Record<string, unknown>): void {
    if (this.closed || !this.fake.get(CORE, namespace, "pods", name)) return;
    this.fake.patch(CORE, namespace, "pods", name, { status });
  }

  /** The kubelet's SIGTERM, then SIGKILL after the grace period (the delete's, else 2 s): `docker stop` for a container. */
  private stopProcess(running: PodProcess, grace?: number): void {
    if (running.ended) return;
    const seconds = grace ?? 2;
    if (running.runtime.how === "image") {
      const container = running.runtime.container;
      void run("docker", seconds === 0 ? ["kill", container] : ["stop", "--time", String(seconds), container]).catch(() => undefined);
      return;
    }
    const child = running.child;
    if (seconds === 0) {
      child.kill("SIGKILL");
      return;
    }
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), seconds * 1000);
    timer.unref();
    void running.exited.then(() => clearTimeout(timer));
  }

  /** GET …/pods/<name>/log: what the process wrote, from its start; with follow=true, kept open until it exits. */
  private servePodLog(namespace: string, name: string, query: Record<string, string>, res: ServerResponse): boolean {
    const running = this.processes.get(`${namespace}/${name}`);
    if (!running) return false;
    res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
    let sent = 0;
    const push = () => {
      if (running.log.length > sent) res.write(running.log.slice(sent));
      sent = running.log.length;
      if (running.ended || query.follow !== "true") {
        running.listeners.delete(push);
        res.end();
      }
    };
    running.listeners.add(push);
    res.on("close", () => running.listeners.delete(push));
    push();
    return true;
  }

  /** …/pods/<name>:<port>/proxy/<path>: forwarded to the process's control port (the port the pod declares). */
  private proxyToPod(request: { namespace: string; pod: string; port: number; path: string; method: string; body: string }, res: ServerResponse): boolean {
    const running = this.processes.get(`${request.namespace}/${request.pod}`);
    if (!running || running.port === null || request.port !== running.declaredPort) return false;
    const upstream = httpRequest({ host: "127.0.0.1", port: running.port, path: request.path, method: request.method, headers: request.body ? { "content-type": "application/json", "content-length": Buffer.byteLength(request.body) } : {} }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { "content-type": answer.headers["content-type"] ?? "application/json" });
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", status: "Failure", code: 503, message: `error trying to reach service: ${error.message}` }));
    });
    upstream.end(request.body || undefined);
    return true;
  }

  // ---- kube-proxy stand-in -----------------------------------------------------------------

  /** Listens on 127.0.0.1:`port` (0: any) and forwards each connection to a pod the selector picks; resolves with the port. */
  private async listen(port: number, selector: Record<string, string>, anyReadiness: boolean): Promise<number> {
    const server = createServer((client) => {
      const target = this.pickPod(selector, anyReadiness);
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
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  private pickPod(selector: Record<string, string>, anyReadiness = false): string | null {
    for (const name of this.instanceNames()) {
      const pod = this.pod(name);
      const labels = pod?.metadata.labels ?? {};
      if (pod && (anyReadiness || isReady(pod)) && Object.entries(selector).every(([k, v]) => labels[k] === v)) return pod.metadata.name;
    }
    return null;
  }

  private dropConnections(pod: string): void {
    for (const socket of this.connections.get(pod) ?? []) socket.destroy();
  }

  private later(ms: number, action: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) action();
    }, ms);
    this.timers.add(timer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }
}

function roleOf(pod: KubeObject | undefined): Role {
  const role = pod?.metadata.labels?.["cnpg.io/instanceRole"];
  return role === "primary" || role === "replica" || role === "unhealthy" ? role : null;
}

/** utils.IsPodActive: not Pending, Succeeded or Failed, and not being deleted. */
function isActive(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase !== "Pending" && phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp;
}

function isReady(pod: KubeObject): boolean {
  return ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** metav1.MicroTime as the API server writes it: RFC 3339 with microseconds, UTC. */
function microTime(): string {
  const ms = performance.timeOrigin + performance.now();
  const micros = Math.floor((ms % 1000) * 1000);
  return `${new Date(Math.floor(ms)).toISOString().slice(0, 19)}.${String(micros).padStart(6, "0")}Z`;
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

interface PodSpec {
  activeDeadlineSeconds?: number;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  containers?: Array<{
    image?: string;
    args?: string[];
    env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
    ports?: Array<{ containerPort?: number }>;
    resources?: { limits?: { cpu?: string; memory?: string } };
    securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }>;
  volumes?: Array<{ name: string; emptyDir?: { sizeLimit?: string } }>;
}

/** Whether the local engine has the image (and whether it is built from this tree's sources, for the log line), or why it cannot be used. */
async function imageState(image: string): Promise<{ present: true; note: string } | { present: false; why: string }> {
  if (process.env.PGDRILL_FAKE_RUNNER === "process") return { present: false, why: "PGDRILL_FAKE_RUNNER=process" };
  const label = await run("docker", ["image", "inspect", image, "--format", '{{index .Config.Labels "pgdrill.runner-sources"}}']).then(
    (out) => out.stdout.trim(),
    () => null,
  );
  if (label === null) return { present: false, why: `image ${image} is not in the local Docker engine; bash fixtures/image/build-probe-runner.sh builds it` };
  const tree = await run("bash", [BUILD_RUNNER_IMAGE, "--check"], { env: { ...process.env, PGDRILL_RUNNER_IMAGE: image } }).then(
    (out) => ({ current: true, hash: out.stdout.trim() }),
    (error: { stdout?: string }) => ({ current: false, hash: String(error.stdout ?? "").trim() }),
  );
  return { present: true, note: tree.current ? `built from this tree (sources ${label})` : `STALE: built from sources ${label || "unknown"}, this tree is ${tree.hash || "unknown"}; rebuild with bash fixtures/image/build-probe-runner.sh` };
}

/**
 * `docker run` for the runner pod, from its spec: its user, read-only root and dropped
 * capabilities (securityContext), no privilege escalation, its limits, each emptyDir mount as a
 * tmpfs of its sizeLimit, the termination grace, the env by name (values from the CLI's own
 * environment, so the secret is on no command line), and pgdrill's labels (the pod's run id and
 * this process as the owner, so `pgdrill reap` removes a container a killed test left). Then the
 * pod's args after the image's entrypoint (pgdrill).
 */
function containerArgs(pod: KubeObject, spec: PodSpec, name: string, image: string, envNames: string[]): string[] {
  const container = spec.containers![0]!;
  const args = ["run", "--rm", "--name", name, "--network", "host"];
  const labels = runLabels(pod.metadata.labels?.["pgdrill.run"] ?? "fake-kube", `fake-kube pod ${pod.metadata.namespace}/${pod.metadata.name}`);
  for (const [key, value] of Object.entries({ ...labels, "pgdrill.node": pod.metadata.name })) args.push("--label", `${key}=${value}`);
  const user = spec.securityContext?.runAsUser;
  if (user !== undefined) args.push("--user", `${user}:${spec.securityContext?.runAsGroup ?? user}`);
  const security = container.securityContext ?? {};
  if (security.readOnlyRootFilesystem) args.push("--read-only");
  if (security.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  for (const capability of security.capabilities?.drop ?? []) args.push("--cap-drop", capability);
  const limits = container.resources?.limits ?? {};
  if (limits.memory) args.push("--memory", `${bytes(limits.memory)}b`);
  if (limits.cpu) args.push("--cpus", String(cpus(limits.cpu)));
  for (const mount of container.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    if (volume?.emptyDir) args.push("--tmpfs", `${mount.mountPath}:rw,mode=1777${volume.emptyDir.sizeLimit ? `,size=${bytes(volume.emptyDir.sizeLimit)}` : ""}`);
  }
  if (spec.terminationGracePeriodSeconds !== undefined) args.push("--stop-timeout", String(spec.terminationGracePeriodSeconds));
  // The cluster network's stand-in, loaded as in the local process (node --import), from a read-only mount.
  args.push("--volume", `${CLUSTER_NETWORK_PATH}:${CLUSTER_NETWORK_IN_CONTAINER}:ro`, "--env", "NODE_OPTIONS");
  for (const envName of envNames) args.push("--env", envName);
  return [...args, image, ...(container.args ?? [])];
}

/** A Kubernetes quantity (64Mi, 256M, 1Gi, 1000) in bytes. */
function bytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`the fake's kubelet reads no quantity "${quantity}"`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ""] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

/** A CPU quantity (1, 500m) in CPUs. */
function cpus(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
