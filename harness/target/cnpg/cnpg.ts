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
import { FENCED_ANNOTATION, Kube, describeKubeError, kubeFailure, loadKube, statusOf, type KubeTarget } from "./kube.ts";
import { clusterManifest, kindConfig, nodePorts, serviceManifests, type KindConfig } from "./manifests.ts";
import { ClusterObserver } from "./observer.ts";
import { OPERATOR_POD_SELECTOR, installOperator, loadOperatorManifest, operatorReady, waitForOperator } from "./operator.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

/** CloudNativePG's phase once every instance is ready. */
export const HEALTHY_PHASE = "Cluster in healthy state";
const SWITCHOVER_PHASE = "Switchover in progress";
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

interface Made {
  kindCluster?: string;
  namespace?: string;
  /** Objects created inside a namespace pgdrill did not create. */
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
    }
    kube = new Kube(target);
    options.log(`cnpg: context ${target.context} (${target.server})${mayDisrupt(spec, target.context) ? "" : ", faults refused (not made by pgdrill, not in allowContexts)"}`);

    await ensureOperator(kube, spec, deadline, options);

    const namespace = spec.namespace ?? `pgdrill-${options.runId.toLowerCase()}`.slice(0, 63);
    if (await kube.createNamespace(namespace, { "pgdrill.managed": "true", "pgdrill.run": options.runId })) made.namespace = namespace;
    await applyWithRetry(kube, clusterManifest(spec, namespace, options.runId), deadline, options.signal);
    if (!made.namespace) made.objects.push({ kind: "Cluster", name: spec.name });
    for (const service of serviceManifests(spec, namespace)) {
      await kube.apply(service).catch((error: unknown) => {
        throw kubeFailure(`creating service ${service.metadata.name}`, error);
      });
      if (!made.namespace) made.objects.push({ kind: "Service", name: service.metadata.name });
    }
    options.log(`cnpg: applied Cluster ${namespace}/${spec.name} (${spec.instances} instances, ${spec.replication}) and its NodePort services`);

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
    const started = new StartedCnpg({ spec, kube, observer, namespace, made, credentials: { user: superuser.username ?? "postgres", password: superuser.password ?? "" }, disruptive: mayDisrupt(spec, target.context) });
    await started.waitForServices(Math.max(5000, Math.min(60_000, deadline - Date.now())));
    return started;
  } catch (error) {
    await observer?.stop();
    const removed = await removeMade(kube, made, options.log);
    if (removed.length > 0) options.log(`cnpg: removed ${removed.join(", ")}`);
    if (error instanceof InputError) throw error;
    throw new HarnessError(`could not start the cnpg target: ${errorMessage(error)}`, { cause: error });
  }
}

async function ensureOperator(kube: Kube, spec: CnpgTarget, deadline: number, options: TopologyStartOptions): Promise<void> {
  const { operator } = spec;
  const ready = await operatorReady(kube, operator.namespace).catch((error: unknown) => {
    throw kubeFailure("checking for the CloudNativePG operator", error);
  });
  if (operator.install === "never" || (operator.install === "if-missing" && ready !== null)) {
    if (ready === null) throw new InputError("target.operator.install", `no CloudNativePG operator in namespace ${operator.namespace}`, 'Install it, or set install to "if-missing".');
    options.log(`cnpg: using the installed operator in ${operator.namespace}`);
  } else {
    options.log(`cnpg: installing CloudNativePG ${operator.manifest ?? operator.version}`);
    await installOperator(kube, await loadOperatorManifest(operator, options.signal), options.log);
  }
  await waitForOperator(kube, operator.namespace, deadline, options.signal);
}

/** The operator's admission webhook answers a little after its pod is ready: retry until it does. */
async function applyWithRetry(kube: Kube, object: Parameters<Kube["apply"]>[0], deadline: number, signal?: AbortSignal): Promise<void> {
  let last: unknown;
  await pollUntil(
    async () => {
      try {
        await kube.apply(object);
        return done(undefined);
      } catch (error) {
        last = error;
        const status = statusOf(error);
        if (status !== undefined && status < 500) throw kubeFailure(`applying ${object.kind} ${object.metadata?.name ?? ""}`, error);
        return notYet(errorMessage(error));
      }
    },
    { deadline, everyMs: 2000, signal, gaveUp: () => kubeFailure(`applying ${object.kind} ${object.metadata?.name ?? ""} (the operator's webhook never answered)`, last) },
  );
}

async function removeMade(kube: Kube | null, made: Made, log: (line: string) => void): Promise<string[]> {
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
  }
  return removed;
}

interface StartedCnpgOptions {
  spec: CnpgTarget;
  kube: Kube;
  observer: ClusterObserver;
  namespace: string;
  made: Made;
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
    this.credentials = options.credentials;
    this.disruptive = options.disruptive;
    this.nodes = instanceNames(options.spec);
    this.ports = nodePorts(options.spec);
  }

  get rwNode(): string {
    return this.observer.primaries()[0] ?? this.observer.status.currentPrimary ?? `${this.spec.name}-1`;
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
      const { pods } = await this.kube.listPods(this.spec.operator.namespace, OPERATOR_POD_SELECTOR);
      const running = pods.find((pod) => pod.metadata?.deletionTimestamp === undefined && pod.status?.phase === "Running");
      if (!running?.metadata?.name) throw new HarnessError(`no running operator pod in ${this.spec.operator.namespace}`);
      return `${this.spec.operator.namespace}/${running.metadata.name}`;
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

  /** What `kubectl cnpg promote <cluster> <instance>` does: set status.targetPrimary; the operator does the rest. */
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
          status: { targetPrimary: node, targetPrimaryTimestamp: new Date().toISOString(), phase: SWITCHOVER_PHASE, phaseReason: `Switching over to ${node}` },
        });
        break;
      } catch (error) {
        if (statusOf(error) !== 409 || attempt >= 3) throw kubeFailure(`requesting a switchover to ${node}`, error);
      }
    }
    await this.observer.waitUntil(
      () => this.observer.status.currentPrimary === node && this.observer.primaries().join() === node,
      SWITCHOVER_TIMEOUT_MS,
      `the switchover to ${node}`,
    );
  }

  async teardown(): Promise<string[]> {
    if (this.tornDown) return [];
    this.tornDown = true;
    await this.observer.stop();
    if (this.made.kindCluster || this.made.namespace) return removeMade(this.kube, this.made, () => undefined);
    // An existing namespace: remove only what pgdrill put there.
    const removed: string[] = [];
    for (const object of this.made.objects) {
      try {
        if (object.kind === "Cluster") await this.kube.deleteCluster(this.namespace, object.name);
        else await this.kube.deleteService(this.namespace, object.name);
        removed.push(`${object.kind} ${this.namespace}/${object.name}`);
      } catch {
        // Best effort: teardown never throws; what is left is named by `pgdrill reap`.
      }
    }
    return removed;
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

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
