/**
 * A started cnpg target: the controls its faults and actions use (pod deletes, fencing, network
 * cuts and shaping in a pod's network namespace from its kind node, switchover), the endpoints of
 * access: outside, the in-cluster runner's side as the drill calls it, and its teardown.
 */
import { HarnessError, errorMessage } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { Session } from "../../connection/session.ts";
import { iptablesCommands } from "../shared/iptables.ts";
import { applyShaping, describeMechanism, removeShaping } from "../shared/shaping.ts";
import type { ControlsOf, Cut, ProbeRunner, Shaping, StartedTopology } from "../types.ts";
import { cnpgPlugin, instanceNames, type CnpgTarget } from "./plugin.ts";
import { FENCE_ALL, FENCED_ANNOTATION, kubeFailure, statusOf, type Kube } from "./kube.ts";
import type { RemoteContext, RunnerSession } from "./runner/remote.ts";
import type { ClusterObserver } from "./observer.ts";
import { KindHosts } from "./hosts.ts";
import { PodNetwork } from "./pod-network.ts";
import { OPERATOR_POD_SELECTOR } from "./operator.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import { removeMade, type Made } from "./made.ts";
import type { OutsideAccess, RwTimeline } from "./access.ts";

/** A switchover must finish within the schedule's per-step limit (60 s). */
const SWITCHOVER_TIMEOUT_MS = 55_000;

export interface StartedCnpgOptions {
  spec: CnpgTarget;
  kube: Kube;
  observer: ClusterObserver;
  namespace: string;
  made: Made;
  /** Where the operator's Deployment is (found, or installed by pgdrill). */
  operatorNamespace: string;
  credentials: { user: string; password: string };
  disruptive: boolean;
  /** access: in-cluster: the runner's session and the rw routing it labels by. */
  runner?: { session: RunnerSession; rw: RwTimeline };
  /** access: outside: where the NodePorts answer. */
  outside?: OutsideAccess;
}

type CnpgCapability = (typeof cnpgPlugin.capabilities)[number];

export class StartedCnpg implements StartedTopology {
  readonly kind = "cnpg";
  readonly nodes: readonly string[];
  readonly controls: ControlsOf<CnpgCapability> = {
    kill: { kill: (node) => this.deletePod(node, 0) },
    pods: { deletePod: (node, grace) => this.deletePod(node, grace) },
    network: { cut: (cut) => this.cut(cut), healCuts: (node) => this.healCuts(node) },
    shaping: { shape: (node, shaping) => this.shape(node, shaping), unshape: (node) => this.unshape(node) },
    fencing: { fence: (node) => this.fence(node), unfence: (node) => this.setFenced(node, false) },
    switchover: { switchover: (node) => this.switchover(node) },
    hosts: { down: (node) => this.hostDown(node), up: () => this.hostsUp() },
  };
  private readonly spec: CnpgTarget;
  private readonly kube: Kube;
  private readonly observer: ClusterObserver;
  private readonly namespace: string;
  private readonly made: Made;
  private readonly operatorNamespace: string;
  private readonly credentials: { user: string; password: string };
  private readonly disruptive: boolean;
  private readonly outside: OutsideAccess | undefined;
  readonly probeRunner: ProbeRunner | undefined;
  private tornDown = false;
  private readonly hosts = new KindHosts();
  private readonly network: PodNetwork;

  constructor(options: StartedCnpgOptions) {
    this.spec = options.spec;
    this.kube = options.kube;
    this.observer = options.observer;
    this.namespace = options.namespace;
    this.made = options.made;
    this.operatorNamespace = options.operatorNamespace;
    this.credentials = options.credentials;
    this.disruptive = options.disruptive;
    this.nodes = instanceNames(options.spec);
    this.outside = options.outside;
    const onKind = options.made.kindCluster !== undefined || options.kube.target.context.startsWith("kind-");
    this.network = new PodNetwork(options.namespace, options.observer, onKind);
    this.probeRunner = options.runner ? this.remoteProbes(options.runner.session, options.runner.rw) : undefined;
  }

  /** The drill's side of the in-cluster runner, as the drill calls it (types.ts ProbeRunner). */
  private remoteProbes(session: RunnerSession, rw: RwTimeline): ProbeRunner {
    let context: RemoteContext | null = null;
    let closed = false;
    return {
      prepare: async ({ history, clock, signal }) => {
        rw.start(clock, this.rwNode);
        context = { history, clock, signal };
        await session.attach(context);
      },
      run: async (untilMs) => {
        if (!context) throw new HarnessError("the probe runner was not prepared");
        context.until = untilMs;
        await session.run(context);
      },
      finalRead: () => session.finalRead(),
      close: async () => {
        if (closed) return;
        closed = true;
        await session.close();
      },
    };
  }

  /** Where the rw Service routes now (its EndpointSlices), else the pod labelled primary, else currentPrimary. */
  get rwNode(): string {
    return this.observer.rwEndpoint() ?? this.observer.primaries()[0] ?? this.observer.status.currentPrimary ?? `${this.spec.name}-1`;
  }

  /** access: outside only; in the cluster the probes run in the runner pod and nothing here dials the database. */
  endpoint(name: string): Endpoint {
    const outside = this.outside;
    if (!outside)
      throw new HarnessError(
        `the cnpg target runs its probes in the cluster (access: in-cluster): nothing outside it reaches "${name}"; set ` +
          `target.access: outside to probe from here`,
      );
    const base = { host: outside.host, user: this.credentials.user, password: this.credentials.password, database: "postgres" };
    if (name === "rw") return { ...base, node: this.rwNode, port: outside.rw };
    if (name === "ro") return { ...base, node: this.observer.replicas()[0] ?? "ro", port: outside.ro };
    const index = this.nodes.indexOf(name);
    if (index < 0) throw new HarnessError(`no instance "${name}" in cluster ${this.spec.name}`);
    return { ...base, node: name, port: outside.instances[index]! };
  }

  /** kube-proxy programs a NodePort a moment after its endpoints exist: wait until rw answers. */
  async waitForServices(timeoutMs: number): Promise<void> {
    await pollUntil(
      async () => {
        try {
          const session = await Session.connect(this.endpoint("rw"), { connectTimeoutMs: 2000, applicationName: "pgdrill-setup" });
          await session.close();
          return done(undefined);
        } catch (error) {
          return notYet(errorMessage(error));
        }
      },
      {
        deadline: Date.now() + timeoutMs,
        everyMs: 500,
        before: "",
        gaveUp: (last) => new HarnessError(`the rw service at ${this.outside?.host}:${this.outside?.rw} did not answer (${last})`),
      },
    );
  }

  async resolve(node: string): Promise<string> {
    if (node === "primary") {
      const primary = this.observer.status.currentPrimary ?? this.observer.primaries()[0];
      if (!primary) throw new HarnessError("no instance is primary now (the Cluster has no currentPrimary)");
      return primary;
    }
    if (node === "replica") {
      const primary = this.observer.status.currentPrimary;
      const replica = this.observer.replicas().find((name) => name !== primary);
      if (!replica) throw new HarnessError("no ready replica now");
      return replica;
    }
    if (node === "operator") {
      const { pods } = await this.kube.listPods(this.operatorNamespace, OPERATOR_POD_SELECTOR);
      const running = pods.find((pod) => pod.metadata?.deletionTimestamp === undefined && pod.status?.phase === "Running");
      if (!running?.metadata?.name) throw new HarnessError(`no running operator pod in ${this.operatorNamespace}`);
      return `${this.operatorNamespace}/${running.metadata.name}`;
    }
    return node;
  }

  redact(text: string): string {
    const { password } = this.credentials;
    return password.length >= 4 ? text.split(password).join("***") : text;
  }

  private async deletePod(node: string, graceSeconds: number | undefined): Promise<void> {
    this.refuseUnlessDisruptive(`delete pod ${node}`);
    const { namespace, name } = this.podRef(node);
    await this.kube.deletePod(namespace, name, graceSeconds).catch((error: unknown) => {
      throw kubeFailure(`deleting pod ${namespace}/${name}`, error);
    });
  }

  private async hostDown(node: string): Promise<string> {
    this.refuseUnlessDisruptive(`take down the node of ${node}`);
    // The Kubernetes node is a kind node container only on kind; KindHosts says so when it is not.
    const kubeNode = this.observer.pods.get(node)?.nodeName;
    if (!kubeNode) throw new HarnessError(`pod ${node} is not scheduled on a node`);
    return this.hosts.takeDown(kubeNode, node, await this.alsoOn(kubeNode, node));
  }

  /**
   * What else a failover needs that the node hosts, said in the History: another instance, or the
   * operator itself (with one operator pod on the same node, no one is left to promote a replica).
   */
  private async alsoOn(kubeNode: string, node: string): Promise<string[]> {
    const instances = [...this.observer.pods.values()]
      .filter((pod) => pod.name !== node && pod.nodeName === kubeNode)
      .map((pod) => pod.name);
    const { pods } = await this.kube.listPods(this.operatorNamespace, OPERATOR_POD_SELECTOR).catch(() => ({ pods: [] }));
    const operator = pods.filter((pod) => pod.spec?.nodeName === kubeNode).map((pod) => `the operator's pod ${pod.metadata?.name ?? ""}`);
    return [...instances, ...operator];
  }

  private async hostsUp(): Promise<string | void> {
    return this.hosts.bringUp();
  }

  private async cut(cut: Cut): Promise<void> {
    this.refuseUnlessDisruptive(`cut ${cut.node} off`);
    if (cut.from !== "all") throw new HarnessError("the cnpg target cuts a pod off from everything only");
    await this.network.run(cut.node, iptablesCommands.cut("all", "both"), false);
  }

  private async healCuts(node: string): Promise<void> {
    // A pod deleted since the cut took its network namespace, and the rules, with it.
    await this.network.run(node, iptablesCommands.heal(), true);
  }

  /** tc netem in the pod's network namespace, from its kind node (as cuts are). */
  private async shape(node: string, shaping: Shaping): Promise<string> {
    this.refuseUnlessDisruptive(`slow down the network of ${node}`);
    return describeMechanism(await applyShaping(this.network.shell(node, false), shaping));
  }

  private async unshape(node: string): Promise<void> {
    // As with cuts: a pod deleted since took its qdisc with it.
    await removeShaping(this.network.shell(node, true));
  }

  /**
   * A switchover: set status.targetPrimary (with targetPrimaryTimestamp in RFC 3339 with
   * microseconds, as machinery's pgTime.GetCurrentTimestamp writes it for `kubectl cnpg promote`,
   * internal/cmd/plugin/promote/promote.go) under an optimistic lock, and nothing else. The
   * operator acts on targetPrimary alone (internal/controller/cluster_controller.go: a
   * currentPrimary != targetPrimary is a switchover in progress) and registers its own phase.
   */
  private async switchover(node: string): Promise<void> {
    this.refuseUnlessDisruptive(`switch over to ${node}`);
    if (!this.nodes.includes(node)) throw new HarnessError(`no instance "${node}" to switch over to`);
    for (let attempt = 0; ; attempt += 1) {
      const cluster = await this.kube.getCluster(this.namespace, this.spec.name);
      if (!cluster) throw new HarnessError(`Cluster ${this.spec.name} is gone`);
      if (cluster.status?.targetPrimary === node) throw new HarnessError(`${node} is already the target primary`);
      try {
        await this.kube.patchClusterStatus(this.namespace, this.spec.name, {
          // The resource version makes this an optimistic-locked update, as the plugin's is.
          metadata: { resourceVersion: cluster.metadata.resourceVersion },
          status: { targetPrimary: node, targetPrimaryTimestamp: rfc3339Micro() },
        });
        break;
      } catch (error) {
        if (statusOf(error) !== 409 || attempt >= 3) throw kubeFailure(`requesting a switchover to ${node}`, error);
      }
    }
    await this.observer.waitUntil(
      () => this.observer.status.currentPrimary === node && this.observer.rwEndpoint() === node,
      SWITCHOVER_TIMEOUT_MS,
      `the switchover to ${node}`,
    );
  }

  async teardown(): Promise<string[]> {
    if (this.tornDown) return [];
    this.tornDown = true;
    await this.probeRunner?.close();
    await this.observer.stop();
    // Best effort: teardown never throws; what is left is named by `pgdrill reap`.
    return removeMade(this.kube, this.made, this.namespace, () => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  private refuseUnlessDisruptive(what: string): void {
    if (!this.disruptive) {
      throw new HarnessError(
        `refusing to ${what}: context ${this.kube.target.context} was not made by pgdrill and is not in target.allowContexts`,
      );
    }
  }

  private podRef(node: string): { namespace: string; name: string } {
    const slash = node.indexOf("/");
    return slash < 0 ? { namespace: this.namespace, name: node } : { namespace: node.slice(0, slash), name: node.slice(slash + 1) };
  }

  private async fence(node: string): Promise<void> {
    this.refuseUnlessDisruptive(`fence ${node}`);
    await this.setFenced(node, true);
  }

  private async setFenced(node: string, fenced: boolean): Promise<void> {
    const cluster = await this.kube.getCluster(this.namespace, this.spec.name);
    if (!cluster) throw new HarnessError(`Cluster ${this.spec.name} is gone`);
    const current = parseFenced(cluster.metadata.annotations?.[FENCED_ANNOTATION]);
    // "*" fences every instance. Removing one name from it would change nothing and leave the
    // Cluster fenced without saying so; CloudNativePG refuses single-instance unfencing of a
    // fully fenced Cluster too (pkg/utils/fencing.go, ErrorSingleInstanceUnfencing). So pgdrill
    // neither fences one instance inside "*" (its heal could not lift it) nor unfences one.
    if (current.includes(FENCE_ALL)) {
      throw new HarnessError(
        `cannot ${fenced ? "fence" : "unfence"} ${node} alone: the Cluster's ${FENCED_ANNOTATION} is ["*"], every instance ` +
          `is fenced and stays fenced. Lift it with \`kubectl cnpg fencing off ${this.spec.name} "*"\` (or remove the ` +
          `annotation) and run the drill again`,
      );
    }
    const next = fenced ? [...new Set([...current, node])].sort() : current.filter((name) => name !== node);
    await this.kube
      .patchCluster(this.namespace, this.spec.name, {
        metadata: { annotations: { [FENCED_ANNOTATION]: next.length > 0 ? JSON.stringify(next) : null } },
      })
      .catch((error: unknown) => {
        throw kubeFailure(`${fenced ? "fencing" : "unfencing"} ${node}`, error);
      });
  }
}

export function parseFenced(annotation: string | undefined): string[] {
  if (!annotation) return [];
  try {
    const parsed: unknown = JSON.parse(annotation);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/** Now in RFC 3339 with microseconds in UTC, as Go's metav1.RFC3339Micro ("2006-01-02T15:04:05.000000Z07:00"). */
export function rfc3339Micro(epochMs: number = performance.timeOrigin + performance.now()): string {
  const whole = Math.floor(epochMs);
  const micros = Math.min(999_999, Math.floor((epochMs - Math.floor(whole / 1000) * 1000) * 1000));
  return `${new Date(whole).toISOString().slice(0, 19)}.${String(micros).padStart(6, "0")}Z`;
}
