/**
 * Target: a CloudNativePG Cluster, the seed guide's recommended self-managed option. pgdrill
 * creates a kind cluster (or uses an existing context), installs the operator, applies a Cluster
 * and NodePort services, and watches the pods and the Cluster while the drill runs. Probes go
 * through the services, as applications do; faults go through the Kubernetes API (pod deletes,
 * fencing, switchover) or, for network cuts, iptables in the pod's network namespace on the kind
 * node.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { toMs } from "../../duration.ts";
import { HarnessError, InputError, errorMessage } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { Session } from "../../connection/session.ts";
import { iptablesCommands } from "../shared/iptables.ts";
import { applyShaping, describeMechanism, removeShaping, type NodeShell } from "../shared/shaping.ts";
import type { ControlsOf, Cut, Shaping, StartedTopology, Topology, TopologyStartOptions } from "../types.ts";
import { cnpgPlugin, instanceNames, type CnpgTarget } from "./plugin.ts";
import { mayDisrupt } from "./safety.ts";
import { forgetOwner, recordOwner } from "../../run/owners.ts";
import { createKindCluster, deleteKindCluster, execOnKindNode, kindAvailable, kindClusterName, kindKubeconfig, kindResource, onKindNode } from "./kind.ts";
import { FENCE_ALL, FENCED_ANNOTATION, Kube, describeKubeError, kubeFailure, loadKube, statusOf, type KubeTarget } from "./kube.ts";
import { clusterManifest, kindConfig, nodePorts, serviceManifests, type KindConfig } from "./manifests.ts";
import { ClusterObserver } from "./observer.ts";
import { OPERATOR_POD_SELECTOR, describeInstall, detectOperator, installOperator, loadOperatorManifest, manifestDeployment, planOperator, waitForOperator } from "./operator.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

/** CloudNativePG's phase once every instance is ready. */
export const HEALTHY_PHASE = "Cluster in healthy state";
/** A switchover must finish within the schedule's per-step limit (60 s). */
const SWITCHOVER_TIMEOUT_MS = 55_000;

export function cnpgTopology(spec: CnpgTarget): Topology {
  return {
    kind: "cnpg",
    nodes: instanceNames(spec),
    // CloudNativePG bootstraps the first instance as the primary.
    initialPrimary: `${spec.name}-1`,
    start: (options) => startCnpg(spec, options),
  };
}

/** What this run created, and nothing else: teardown deletes exactly this. */
interface Made {
  kindCluster?: string;
  namespace?: string;
  /** The Cluster and services it created (by POST: an existing one is a conflict, never taken over). */
  objects: Array<{ kind: "Cluster" | "Service"; name: string }>;
}

async function startCnpg(spec: CnpgTarget, options: TopologyStartOptions): Promise<StartedTopology> {
  const deadline = Date.now() + toMs(spec.startupTimeout);
  const made: Made = { objects: [] };
  let kube: Kube | null = null;
  let observer: ClusterObserver | null = null;
  try {
    let target: KubeTarget;
    if (spec.context === undefined) {
      if (!(await kindAvailable())) {
        throw new InputError("target.context", "no context given and the kind CLI is not installed", "Install kind (https://kind.sigs.k8s.io) so pgdrill can create a cluster, or set target.context to an existing cluster.");
      }
      const name = kindClusterName(options.runId);
      const base = parseYaml(await readFile(kindConfigPath(spec.kindConfig), "utf8").catch(() => {
        throw new InputError("target.kindConfig", `cannot read "${spec.kindConfig}"`, "Point it at a kind cluster config (see fixtures/kind/cluster.yaml).");
      })) as KindConfig;
      options.log(`cnpg: creating kind cluster ${name}`);
      made.kindCluster = name;
      recordOwner(kindResource(name), options.runId);
      const t0 = Date.now();
      await createKindCluster(name, stringifyYaml(kindConfig(base, spec)), { ...(spec.kindImage ? { image: spec.kindImage } : {}), waitSeconds: 180, ...(options.signal ? { signal: options.signal } : {}) });
      options.log(`cnpg: kind cluster ${name} up in ${Date.now() - t0} ms`);
      target = loadKube({ yaml: await kindKubeconfig(name) });
    } else {
      target = loadKube({ ...(spec.kubeconfig ? { kubeconfig: spec.kubeconfig } : {}), context: spec.context });
      // Checked when the scenario was validated; again here, on the context the kubeconfig resolved.
      if (!mayDisrupt(spec, target.context)) {
        throw new InputError("target.context", `"${target.context}" is not a kind cluster pgdrill made, so pgdrill will not create its namespace, Cluster and services there or aim faults at it`, `If this cluster is meant for drills, add "${target.context}" to target.allowContexts.`);
      }
    }
    kube = new Kube(target);
    options.log(`cnpg: context ${target.context} (${target.server})`);

    const operator = await ensureOperator(kube, spec, deadline, options);

    const namespace = spec.namespace ?? `pgdrill-${options.runId.toLowerCase()}`.slice(0, 63);
    if (await kube.createNamespace(namespace, { "pgdrill.managed": "true", "pgdrill.run": options.runId })) made.namespace = namespace;
    // Never over someone else's Cluster: a Cluster of that name is theirs (or a leftover) and stays.
    const existing = await kube.getCluster(namespace, spec.name).catch((error: unknown) => {
      throw kubeFailure(`looking for Cluster ${namespace}/${spec.name}`, error);
    });
    if (existing) throw clusterConflict(spec, namespace);
    await createWithRetry(kube, clusterManifest(spec, namespace, options.runId), deadline, () => clusterConflict(spec, namespace), options.signal);
    made.objects.push({ kind: "Cluster", name: spec.name });
    for (const service of serviceManifests(spec, namespace)) {
      await kube.create(service).catch((error: unknown) => {
        if (statusOf(error) === 409) {
          throw new InputError("target.name", `a Service "${service.metadata.name}" already exists in namespace ${namespace} and pgdrill did not create it`, "Choose another target.name or target.namespace, or delete that Service if it is a leftover of an earlier drill.");
        }
        throw kubeFailure(`creating service ${service.metadata.name}`, error);
      });
      made.objects.push({ kind: "Service", name: service.metadata.name });
    }
    options.log(`cnpg: created ${describeMade(made, namespace)}`);

    observer = new ClusterObserver(kube, { namespace, cluster: spec.name, record: options.record ?? (() => undefined), log: options.log });
    await observer.start();
    const t1 = Date.now();
    const watching = observer;
    await watching.waitUntil(
      () => watching.status.phase === HEALTHY_PHASE && watching.status.readyInstances === spec.instances && watching.primaries().length === 1,
      Math.max(1000, deadline - Date.now()),
      `Cluster ${spec.name} becoming ready (phase "${HEALTHY_PHASE}", ${spec.instances} ready instances)`,
      options.signal,
    );
    options.log(`cnpg: Cluster ready in ${Date.now() - t1} ms, primary ${watching.primaries()[0]}`);

    const superuser = await kube.secret(namespace, `${spec.name}-superuser`).catch((error: unknown) => {
      throw kubeFailure(`reading secret ${spec.name}-superuser`, error);
    });
    const started = new StartedCnpg({ spec, kube, observer, namespace, made, operatorNamespace: operator.namespace, credentials: { user: superuser.username ?? "postgres", password: superuser.password ?? "" }, disruptive: mayDisrupt(spec, target.context) });
    await started.waitForServices(Math.max(5000, Math.min(60_000, deadline - Date.now())));
    return started;
  } catch (error) {
    await observer?.stop();
    const removed = await removeMade(kube, made, spec.namespace ?? `pgdrill-${options.runId.toLowerCase()}`.slice(0, 63), options.log);
    if (removed.length > 0) options.log(`cnpg: removed ${removed.join(", ")}`);
    if (error instanceof InputError) throw error;
    throw new HarnessError(`could not start the cnpg target: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Uses the CloudNativePG that is installed, wherever and however (release manifest, Helm, OLM);
 * installs the pinned release only where there is no trace of one. Returns its Deployment.
 */
async function ensureOperator(kube: Kube, spec: CnpgTarget, deadline: number, options: TopologyStartOptions): Promise<{ namespace: string; name: string }> {
  const { operator } = spec;
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
    await installOperator(kube, objects, options.log);
    deployment = manifestDeployment(objects, operator.namespace);
  }
  await waitForOperator(kube, deployment, deadline, options.signal);
  return deployment;
}

function clusterConflict(spec: CnpgTarget, namespace: string): InputError {
  return new InputError("target.name", `a Cluster "${spec.name}" already exists in namespace ${namespace} and pgdrill did not create it, so it will not apply over it or delete it`, "Choose another target.name or target.namespace (pgdrill creates pgdrill-<run id> when namespace is unset).");
}

function describeMade(made: Made, namespace: string): string {
  return [made.namespace ? `namespace ${made.namespace}` : null, ...made.objects.map((object) => `${object.kind} ${namespace}/${object.name}`)].filter((part) => part !== null).join(", ");
}

/** Creates the Cluster; the operator's admission webhook answers a little after its pod is ready, so 5xx are retried. */
async function createWithRetry(kube: Kube, object: Parameters<Kube["create"]>[0], deadline: number, conflict: () => Error, signal?: AbortSignal): Promise<void> {
  let last: unknown;
  await pollUntil(
    async () => {
      try {
        await kube.create(object);
        return done(undefined);
      } catch (error) {
        last = error;
        const status = statusOf(error);
        if (status === 409) throw conflict();
        if (status !== undefined && status < 500) throw kubeFailure(`creating ${object.kind} ${object.metadata?.name ?? ""}`, error);
        return notYet(errorMessage(error));
      }
    },
    { deadline, everyMs: 2000, signal, gaveUp: () => kubeFailure(`creating ${object.kind} ${object.metadata?.name ?? ""} (the operator's webhook never answered)`, last) },
  );
}

async function removeMade(kube: Kube | null, made: Made, namespace: string, log: (line: string) => void): Promise<string[]> {
  const removed: string[] = [];
  if (made.kindCluster) {
    await deleteKindCluster(made.kindCluster).then(
      () => {
        forgetOwner(kindResource(made.kindCluster!));
        removed.push(kindResource(made.kindCluster!));
      },
      (error: unknown) => log(`cnpg: ${errorMessage(error)}`),
    );
    return removed;
  }
  if (!kube) return removed;
  if (made.namespace) {
    await kube.deleteNamespace(made.namespace).then(
      () => removed.push(`namespace ${made.namespace}`),
      (error: unknown) => log(`cnpg: deleting namespace ${made.namespace}: ${describeKubeError(error)}`),
    );
    return removed;
  }
  // A namespace pgdrill did not create: only the objects it created there.
  for (const object of made.objects) {
    try {
      if (object.kind === "Cluster") await kube.deleteCluster(namespace, object.name);
      else await kube.deleteService(namespace, object.name);
      removed.push(`${object.kind} ${namespace}/${object.name}`);
    } catch (error) {
      log(`cnpg: deleting ${object.kind} ${namespace}/${object.name}: ${describeKubeError(error)}`);
    }
  }
  return removed;
}

interface StartedCnpgOptions {
  spec: CnpgTarget;
  kube: Kube;
  observer: ClusterObserver;
  namespace: string;
  made: Made;
  /** Where the operator's Deployment is (found, or installed by pgdrill). */
  operatorNamespace: string;
  credentials: { user: string; password: string };
  disruptive: boolean;
}

type CnpgCapability = (typeof cnpgPlugin.capabilities)[number];

class StartedCnpg implements StartedTopology {
  readonly kind = "cnpg";
  readonly nodes: readonly string[];
  readonly controls: ControlsOf<CnpgCapability> = {
    kill: { kill: (node) => this.deletePod(node, 0) },
    pods: { deletePod: (node, grace) => this.deletePod(node, grace) },
    network: { cut: (cut) => this.cut(cut), healCuts: (node) => this.healCuts(node) },
    shaping: { shape: (node, shaping) => this.shape(node, shaping), unshape: (node) => this.unshape(node) },
    fencing: { fence: (node) => this.fence(node), unfence: (node) => this.setFenced(node, false) },
    switchover: { switchover: (node) => this.switchover(node) },
  };
  private readonly spec: CnpgTarget;
  private readonly kube: Kube;
  private readonly observer: ClusterObserver;
  private readonly namespace: string;
  private readonly made: Made;
  private readonly operatorNamespace: string;
  private readonly credentials: { user: string; password: string };
  private readonly disruptive: boolean;
  private readonly ports: ReturnType<typeof nodePorts>;
  private tornDown = false;

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
    this.ports = nodePorts(options.spec);
  }

  /** Where the rw Service routes now (its EndpointSlices), else the pod labelled primary, else currentPrimary. */
  get rwNode(): string {
    return this.observer.rwEndpoint() ?? this.observer.primaries()[0] ?? this.observer.status.currentPrimary ?? `${this.spec.name}-1`;
  }

  endpoint(name: string): Endpoint {
    const base = { host: this.spec.access.host, user: this.credentials.user, password: this.credentials.password, database: "postgres" };
    if (name === "rw") return { ...base, node: this.rwNode, port: this.ports.rw };
    if (name === "ro") return { ...base, node: this.observer.replicas()[0] ?? "ro", port: this.ports.ro };
    const index = this.nodes.indexOf(name);
    if (index < 0) throw new HarnessError(`no instance "${name}" in cluster ${this.spec.name}`);
    return { ...base, node: name, port: this.ports.instances[index]! };
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
      { deadline: Date.now() + timeoutMs, everyMs: 500, before: "", gaveUp: (last) => new HarnessError(`the rw service at ${this.spec.access.host}:${this.ports.rw} did not answer (${last})`) },
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

  private async cut(cut: Cut): Promise<void> {
    this.refuseUnlessDisruptive(`cut ${cut.node} off`);
    if (cut.from !== "all") throw new HarnessError("the cnpg target cuts a pod off from everything only");
    await this.inPodNetns(cut.node, iptablesCommands.cut("all", "both"), false);
  }

  private async healCuts(node: string): Promise<void> {
    // A pod deleted since the cut took its network namespace, and the rules, with it.
    await this.inPodNetns(node, iptablesCommands.heal(), true);
  }

  /** tc netem in the pod's network namespace, from its kind node (as cuts are). */
  private async shape(node: string, shaping: Shaping): Promise<string> {
    this.refuseUnlessDisruptive(`slow down the network of ${node}`);
    return describeMechanism(await applyShaping(this.podShell(node, false), shaping));
  }

  private async unshape(node: string): Promise<void> {
    // As with cuts: a pod deleted since took its qdisc with it.
    await removeShaping(this.podShell(node, true));
  }

  /** Runs a script in the pod's network namespace (tools from its kind node); no copy: no delayer there. */
  private podShell(node: string, missingOk: boolean): NodeShell {
    return {
      name: node,
      noDelayer: "kind nodes have no python3 for pgdrill's packet delayer",
      run: async (script) => {
        const where = this.podNetns(node, missingOk);
        return where ? execOnKindNode(where.kubeNode, podNetnsScript(this.namespace, node, script, missingOk)) : { exitCode: 0, output: "" };
      },
    };
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
    await this.observer.stop();
    // Best effort: teardown never throws; what is left is named by `pgdrill reap`.
    return removeMade(this.kube, this.made, this.namespace, () => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  private refuseUnlessDisruptive(what: string): void {
    if (!this.disruptive) {
      throw new HarnessError(`refusing to ${what}: context ${this.kube.target.context} was not made by pgdrill and is not in target.allowContexts`);
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
        `cannot ${fenced ? "fence" : "unfence"} ${node} alone: the Cluster's ${FENCED_ANNOTATION} is ["*"], every instance is fenced and stays fenced. Lift it with \`kubectl cnpg fencing off ${this.spec.name} "*"\` (or remove the annotation) and run the drill again`,
      );
    }
    const next = fenced ? [...new Set([...current, node])].sort() : current.filter((name) => name !== node);
    await this.kube
      .patchCluster(this.namespace, this.spec.name, { metadata: { annotations: { [FENCED_ANNOTATION]: next.length > 0 ? JSON.stringify(next) : null } } })
      .catch((error: unknown) => {
        throw kubeFailure(`${fenced ? "fencing" : "unfencing"} ${node}`, error);
      });
  }

  /**
   * Runs iptables in the pod's network namespace from its kind node: crictl finds the pod's
   * sandbox, nsenter enters its netns. This works under any CNI, where NetworkPolicy needs one
   * that enforces it, and it cuts clients, replicas, the operator and kubelet alike.
   */
  private async inPodNetns(node: string, rules: string, missingOk: boolean): Promise<void> {
    const where = this.podNetns(node, missingOk);
    if (where) await onKindNode(where.kubeNode, podNetnsScript(this.namespace, node, rules, missingOk));
  }

  /** The kind node the pod runs on; null when it is gone and that is fine. */
  private podNetns(node: string, missingOk: boolean): { kubeNode: string } | null {
    const kubeNode = this.observer.pods.get(node)?.nodeName;
    if (!this.made.kindCluster && !this.kube.target.context.startsWith("kind-")) {
      throw new HarnessError("network faults need a kind cluster: pgdrill runs iptables and tc in the pod's network namespace from the kind node");
    }
    if (!kubeNode) {
      if (missingOk) return null;
      throw new HarnessError(`pod ${node} is not scheduled on a node`);
    }
    return { kubeNode };
  }

}

/** The default config ships with pgdrill: found next to the package when not under the current directory. */
function kindConfigPath(path: string): string {
  if (isAbsolute(path) || existsSync(path)) return path;
  const shipped = fileURLToPath(new URL(`../../../${path}`, import.meta.url));
  return existsSync(shipped) ? shipped : path;
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

/** crictl finds the pod's sandbox on its kind node, nsenter enters its network namespace and runs `rules` there. */
function podNetnsScript(namespace: string, node: string, rules: string, missingOk: boolean): string {
  return [
    `sandbox=$(crictl pods --namespace '^${namespace}$' --name '^${node}$' --state ready -q | head -n 1)`,
    `if [ -z "$sandbox" ]; then ${missingOk ? "exit 0" : `echo "no ready pod ${node}" >&2; exit 3`}; fi`,
    `pid=$(crictl inspectp --output go-template --template '{{.info.pid}}' "$sandbox")`,
    `nsenter -t "$pid" -n sh -c ${shellQuote(rules)}`,
  ].join("\n");
}

/** Now in RFC 3339 with microseconds in UTC, as Go's metav1.RFC3339Micro ("2006-01-02T15:04:05.000000Z07:00"). */
export function rfc3339Micro(epochMs: number = performance.timeOrigin + performance.now()): string {
  const whole = Math.floor(epochMs);
  const micros = Math.min(999_999, Math.floor((epochMs - Math.floor(whole / 1000) * 1000) * 1000));
  return `${new Date(whole).toISOString().slice(0, 19)}.${String(micros).padStart(6, "0")}Z`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
