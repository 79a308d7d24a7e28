/**
 * Target: a CloudNativePG Cluster, the seed guide's recommended self-managed option. pgdrill
 * creates a kind cluster (or uses an existing context), installs the operator, creates a Cluster,
 * and watches the pods and the Cluster while the drill runs. Probes run where applications do: in
 * a probe-runner pod in the drill's namespace that dials the operator's -rw/-ro Services
 * (runner/), its History brought back through the API server on the drill's clock; or, with
 * access: outside, from here through NodePort Services the operator owns. Faults go through the
 * Kubernetes API (pod deletes, fencing, switchover) or, for network cuts, iptables in the pod's
 * network namespace on the kind node.
 */
import { toMs } from "../../duration.ts";
import { HarnessError, InputError, errorMessage } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { Session } from "../../connection/session.ts";
import { iptablesCommands } from "../shared/iptables.ts";
import { applyShaping, describeMechanism, removeShaping, type NodeShell } from "../shared/shaping.ts";
import type { ControlsOf, Cut, ProbeRunner, Shaping, StartedTopology, Topology, TopologyStartOptions } from "../types.ts";
import type { ProbeSpec } from "../../scenario/probes.ts";
import type { Clock } from "../../clock.ts";
import { roundMs } from "../../clock.ts";
import { cnpgPlugin, instanceNames, type CnpgTarget } from "./plugin.ts";
import { mayDisrupt } from "./safety.ts";
import { forgetOwner } from "../shared/owners.ts";
import { copyToKindNode, deleteKindCluster, execOnKindNode, kindKubeconfig, kindResource, onKindNode } from "./kind.ts";
import { FENCE_ALL, FENCED_ANNOTATION, Kube, describeKubeError, kubeFailure, loadKube, statusOf, type KubeTarget } from "./kube.ts";
import { clusterManifest, instanceNodePortServices, outsideServiceNames } from "./manifests.ts";
import { instanceServices, runnerConfig, runnerPod, runnerPodName, RUNNER_CONTAINER, RUNNER_LABEL } from "./runner/pod.ts";
import { RUNNER_CONTROL_PORT } from "./runner/protocol.ts";
import { RunnerSession, type RemoteContext } from "./runner/remote.ts";
import { kubeRunnerTransport } from "./runner/transport.ts";
import { ClusterObserver } from "./observer.ts";
import { manifestImages, withImageDefaults } from "./images.ts";
import { loadImages, useKindCluster } from "./kind-cluster.ts";
import { KindHosts } from "./hosts.ts";
import { OPERATOR_POD_SELECTOR, describeInstall, detectOperator, installOperator, loadOperatorManifest, manifestDeployment, planOperator, waitForOperator } from "./operator.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

/** CloudNativePG's phase once every instance is ready. */
export const HEALTHY_PHASE = "Cluster in healthy state";
/** A switchover must finish within the schedule's per-step limit (60 s). */
const SWITCHOVER_TIMEOUT_MS = 55_000;

/** A run without a stated duration: the runner's own bounds (a run of at most 6 h). */
const RUNNER_MAX_RUN_MS = 6 * 3600_000;
/** The runner pod outlives the probing by this much (heal, final reads, teardown), then exits whatever happens. */
const RUNNER_AFTER_MS = 10 * 60_000;
/** The runner pod must be ready within this (image pull included) and the start-up's own deadline. */
const RUNNER_READY_MS = 180_000;

export function cnpgTopology(spec: CnpgTarget, probes: readonly ProbeSpec[] = []): Topology {
  return {
    kind: "cnpg",
    nodes: instanceNames(spec),
    // CloudNativePG bootstraps the first instance as the primary.
    initialPrimary: `${spec.name}-1`,
    start: (options) => startCnpg(spec, probes, options),
  };
}

/** Teardown waits this long for the namespace it deleted to be gone (its pods stopped, its volumes released). */
const NAMESPACE_GONE_MS = 120_000;

/** What this run created, and nothing else: teardown deletes exactly this. */
interface Made {
  kindCluster?: string;
  namespace?: string;
  /** The Cluster, services and the runner pod it created (by POST: an existing one is a conflict, never taken over). */
  objects: Array<{ kind: "Cluster" | "Service" | "Pod"; name: string }>;
}

/** Where the rw Service routed, on the drill's clock, from the EndpointSlice watch (for the runner's labels). */
class RwTimeline {
  clock: Clock | null = null;
  private readonly changes: Array<{ t: number; node: string }> = [];

  /** From now on, changes are timed on `clock`; `node` is where rw routes now. */
  start(clock: Clock, node: string): void {
    this.clock = clock;
    this.changes.push({ t: Number.NEGATIVE_INFINITY, node });
  }

  moved(node: string): void {
    if (this.clock) this.changes.push({ t: roundMs(this.clock.now()), node });
  }

  /** The instance rw routed to at drill t; null before anything is known. */
  at(t: number): string | null {
    let found: string | null = null;
    for (const change of this.changes) {
      if (change.t > t) break;
      found = change.node;
    }
    return found;
  }
}

async function startCnpg(scenarioSpec: CnpgTarget, probes: readonly ProbeSpec[], startOptions: TopologyStartOptions): Promise<StartedTopology> {
  // Start-up lines go to the History too: how long the cluster, the operator and the Cluster took is evidence.
  const options: TopologyStartOptions = {
    ...startOptions,
    log: (line) => {
      startOptions.log(line);
      if (/ (up|ready) in \d+ ms/.test(line)) startOptions.record?.({ kind: "log", level: "info", message: line });
    },
  };
  const { spec, used } = withImageDefaults(scenarioSpec);
  for (const line of used) options.log(`cnpg: ${line}`);
  const deadline = Date.now() + toMs(spec.startupTimeout);
  const made: Made = { objects: [] };
  let kube: Kube | null = null;
  let observer: ClusterObserver | null = null;
  let session: RunnerSession | null = null;
  const rw = new RwTimeline();
  let kindCluster: string | undefined;
  try {
    let target: KubeTarget;
    if (spec.context === undefined) {
      kindCluster = await useKindCluster(spec, options, (name) => (made.kindCluster = name));
      target = loadKube({ yaml: await kindKubeconfig(kindCluster) });
    } else {
      target = loadKube({ ...(spec.kubeconfig ? { kubeconfig: spec.kubeconfig } : {}), context: spec.context });
      // Checked when the scenario was validated; again here, on the context the kubeconfig resolved.
      if (!mayDisrupt(spec, target.context)) {
        throw new InputError("target.context", `"${target.context}" is not a kind cluster pgdrill made, so pgdrill will not create its namespace, Cluster and services there or aim faults at it`, `If this cluster is meant for drills, add "${target.context}" to target.allowContexts.`);
      }
    }
    kube = new Kube(target);
    options.log(`cnpg: context ${target.context} (${target.server})`);

    const operator = await ensureOperator(kube, spec, deadline, kindCluster, options);

    const namespace = spec.namespace ?? `pgdrill-${options.runId.toLowerCase()}`.slice(0, 63);
    if (await kube.createNamespace(namespace, { "pgdrill.managed": "true", "pgdrill.run": options.runId })) made.namespace = namespace;
    // Never over someone else's Cluster: a Cluster of that name is theirs (or a leftover) and stays.
    const existing = await kube.getCluster(namespace, spec.name).catch((error: unknown) => {
      throw kubeFailure(`looking for Cluster ${namespace}/${spec.name}`, error);
    });
    if (existing) throw clusterConflict(spec, namespace);
    await createWithRetry(kube, clusterManifest(spec, namespace, options.runId), deadline, () => clusterConflict(spec, namespace), options.signal);
    made.objects.push({ kind: "Cluster", name: spec.name });
    // In the cluster: a headless Service per instance for the runner's role probe. Outside: a
    // NodePort Service per instance (its port allocated by the API server); rw and ro are the
    // operator's own, declared in the Cluster (managed.services.additional).
    const services = spec.access === "in-cluster" ? instanceServices(spec, namespace) : instanceNodePortServices(spec, namespace);
    for (const service of services) {
      await kube.create(service).catch((error: unknown) => {
        if (statusOf(error) === 409) {
          throw new InputError("target.name", `a Service "${service.metadata.name}" already exists in namespace ${namespace} and pgdrill did not create it`, "Choose another target.name or target.namespace, or delete that Service if it is a leftover of an earlier drill.");
        }
        throw kubeFailure(`creating service ${service.metadata.name}`, error);
      });
      made.objects.push({ kind: "Service", name: service.metadata.name });
    }
    options.log(`cnpg: created ${describeMade(made, namespace)}`);

    const record = options.record ?? (() => undefined);
    observer = new ClusterObserver(kube, {
      namespace,
      cluster: spec.name,
      record: (observation) => {
        record(observation);
        if (observation.kind === "endpoint" && observation.endpoint === "rw") rw.moved(observation.node);
      },
      log: options.log,
    });
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

    const common = { spec, kube, observer, namespace, made, operatorNamespace: operator.namespace, disruptive: mayDisrupt(spec, target.context) };
    if (spec.access === "in-cluster") {
      session = await startRunner(kube, spec, probes, namespace, made, rw, deadline, kindCluster !== undefined, options);
      record({ kind: "log", level: "info", message: `probes ran in the cluster: pod ${namespace}/${runnerPodName(spec)} (${spec.runner.image}) dialing ${spec.name}-rw.${namespace}.svc and ${spec.name}-ro.${namespace}.svc as the app user, its History brought back through the API server` });
      return new StartedCnpg({ ...common, credentials: { user: "app", password: "" }, runner: { session, rw } });
    }
    const superuser = await kube.secret(namespace, `${spec.name}-superuser`).catch((error: unknown) => {
      throw kubeFailure(`reading secret ${spec.name}-superuser`, error);
    });
    const outside = await outsideAccess(kube, spec, namespace, deadline, options.signal);
    const started = new StartedCnpg({ ...common, credentials: { user: superuser.username ?? "postgres", password: superuser.password ?? "" }, outside });
    await started.waitForServices(Math.max(5000, Math.min(60_000, deadline - Date.now())));
    const names = outsideServiceNames(spec);
    record({ kind: "log", level: "warn", message: `probes ran OUTSIDE the cluster (access: outside), from this machine through the operator's NodePort Services ${names.rw} (${outside.host}:${outside.rw}) and ${names.ro} (${outside.host}:${outside.ro}): what clients in the cluster saw was not probed` });
    options.log(`cnpg: probing from outside the cluster through ${outside.host}:${outside.rw} (rw) and :${outside.ro} (ro)`);
    return started;
  } catch (error) {
    await session?.close();
    await observer?.stop();
    const removed = await removeMade(kube, made, spec.namespace ?? `pgdrill-${options.runId.toLowerCase()}`.slice(0, 63), options.log);
    if (removed.length > 0) options.log(`cnpg: removed ${removed.join(", ")}`);
    if (error instanceof InputError) throw error;
    throw new HarnessError(`could not start the cnpg target: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * The probe runner: its pod in the drill's namespace (runner/pod.ts: no Kubernetes rights, the
 * app user from the Cluster's -app secret, bounded), ready (its readiness probe is its clock), and
 * answering through the API server's pod proxy, which is how the drill reaches it from now on.
 */
async function startRunner(kube: Kube, spec: CnpgTarget, probes: readonly ProbeSpec[], namespace: string, made: Made, rw: RwTimeline, deadline: number, ownKind: boolean, options: TopologyStartOptions): Promise<RunnerSession> {
  if (probes.length === 0) throw new InputError("probes", "the cnpg target's in-cluster runner has no probes to run", "List at least one probe, or set target.access: outside.");
  const durationMs = Math.min(RUNNER_MAX_RUN_MS - 60_000, options.durationMs ?? RUNNER_MAX_RUN_MS - 60_000);
  const config = runnerConfig(spec, namespace, probes, { maxRunMs: durationMs + 60_000, lifetimeMs: durationMs + RUNNER_AFTER_MS });
  const pod = runnerPod(spec, namespace, config, { image: spec.runner.image, runId: options.runId, controlPlane: ownKind });
  await kube.create(pod).catch((error: unknown) => {
    if (statusOf(error) === 409) {
      throw new InputError("target.name", `a Pod "${pod.metadata.name}" already exists in namespace ${namespace} and pgdrill did not create it`, "Choose another target.name or target.namespace, or delete that Pod if it is a leftover of an earlier drill.");
    }
    throw kubeFailure(`creating the probe runner's pod ${pod.metadata.name}`, error);
  });
  made.objects.push({ kind: "Pod", name: pod.metadata.name });
  const t0 = Date.now();
  await pollUntil(
    async () => {
      const { pods } = await kube.listPods(namespace, `${RUNNER_LABEL}=${spec.name}`);
      const found = pods.find((candidate) => candidate.metadata?.name === pod.metadata.name);
      const status = found?.status;
      const waiting = status?.containerStatuses?.find((container) => container.name === RUNNER_CONTAINER)?.state?.waiting;
      if (waiting?.reason && /ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName/.test(waiting.reason)) {
        throw new InputError(
          "target.runner.image",
          `the probe runner's image "${spec.runner.image}" cannot be had on this cluster (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""})`,
          "Build it (docker build -f fixtures/image/probe-runner.Dockerfile; pgdrill loads it into kind clusters it makes), `kind load docker-image` it into yours, or push it to a registry the cluster pulls from and name it here.",
        );
      }
      if (status?.phase === "Failed" || status?.phase === "Succeeded") {
        const terminated = status.containerStatuses?.[0]?.state?.terminated;
        throw new HarnessError(`the probe runner's pod ${pod.metadata.name} ended before the drill (${status.phase}${terminated ? `, exit code ${terminated.exitCode}${terminated.message ? `: ${terminated.message}` : ""}` : ""}); its log: kubectl logs -n ${namespace} ${pod.metadata.name}`);
      }
      const ready = (status?.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True");
      return ready ? done(undefined) : notYet(waiting?.reason ?? status?.phase ?? "not scheduled");
    },
    {
      deadline: Math.min(deadline, Date.now() + RUNNER_READY_MS),
      everyMs: 500,
      before: "",
      ...(options.signal ? { signal: options.signal } : {}),
      gaveUp: (last) => new HarnessError(`the probe runner's pod ${pod.metadata.name} did not become ready (${last})`),
    },
  );
  const transport = kubeRunnerTransport(kube.target, namespace, pod.metadata.name, RUNNER_CONTAINER, RUNNER_CONTROL_PORT);
  await transport.clock().catch((error: unknown) => {
    transport.close();
    throw new HarnessError(`the probe runner did not answer through the API server's pod proxy (${errorMessage(error)})`);
  });
  options.log(`cnpg: probe runner ${pod.metadata.name} ready in ${Date.now() - t0} ms (${spec.runner.image})`);
  const service = `${spec.name}-rw`;
  return new RunnerSession({
    transport,
    log: options.log,
    // An operation the runner sent through <name>-rw went where the rw Service routed at its invoke.
    relabel: (node, t) => (node === service ? (rw.at(t) ?? node) : node),
  });
}

/** access: outside: the NodePorts the API server allocated (the operator's rw/ro Services, pgdrill's per instance) and a node address. */
async function outsideAccess(kube: Kube, spec: CnpgTarget, namespace: string, deadline: number, signal?: AbortSignal): Promise<OutsideAccess> {
  const names = outsideServiceNames(spec);
  const instances = instanceNames(spec).map((_, i) => `${spec.name}-pgdrill-${i + 1}`);
  const ports = await pollUntil(
    async () => {
      const found = await Promise.all([names.rw, names.ro, ...instances].map((name) => kube.nodePort(namespace, name)));
      const missing = [names.rw, names.ro, ...instances].filter((_, i) => found[i] === null);
      return missing.length === 0 ? done(found as number[]) : notYet(`no NodePort yet on ${missing.join(", ")}`);
    },
    {
      deadline: Math.min(deadline, Date.now() + 120_000),
      everyMs: 500,
      before: "",
      ...(signal ? { signal } : {}),
      gaveUp: (last) => new HarnessError(`the operator did not make the Services of managed.services.additional (${last}); CloudNativePG 1.24 or later has them`),
    },
  );
  const host = spec.outside.host ?? (await kube.nodeAddress().catch((error: unknown) => {
    throw kubeFailure("listing the nodes for an address", error);
  }));
  if (!host) throw new InputError("target.outside.host", "no node of the cluster reports an InternalIP", "Set target.outside.host to a node address where NodePorts answer from here.");
  return { host, rw: ports[0]!, ro: ports[1]!, instances: ports.slice(2) };
}

interface OutsideAccess {
  host: string;
  rw: number;
  ro: number;
  instances: number[];
}

/**
 * Uses the CloudNativePG that is installed, wherever and however (release manifest, Helm, OLM);
 * installs the pinned release only where there is no trace of one. Returns its Deployment.
 */
async function ensureOperator(kube: Kube, spec: CnpgTarget, deadline: number, kindCluster: string | undefined, options: TopologyStartOptions): Promise<{ namespace: string; name: string }> {
  const { operator } = spec;
  const t0 = Date.now();
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
    if (kindCluster) await loadImages(kindCluster, manifestImages(objects), options);
    await installOperator(kube, objects, options.log);
    deployment = manifestDeployment(objects, operator.namespace);
  }
  await waitForOperator(kube, deployment, deadline, options.signal);
  options.log(`cnpg: operator ${deployment.namespace}/${deployment.name} ready in ${Date.now() - t0} ms`);
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
    // Removed means gone, not Terminating: on a cluster pgdrill did not make, what it leaves is the user's to find.
    await kube.deleteNamespaceAndWait(made.namespace, NAMESPACE_GONE_MS).then(
      ({ outcome }) =>
        removed.push(
          outcome === "gone"
            ? `namespace ${made.namespace}`
            : `namespace ${made.namespace} (deleted, but still terminating after ${NAMESPACE_GONE_MS / 1000} s: \`kubectl get all,pvc -n ${made.namespace}\` shows what holds it)`,
        ),
      (error: unknown) => log(`cnpg: deleting namespace ${made.namespace}: ${describeKubeError(error)}`),
    );
    return removed;
  }
  // A namespace pgdrill did not create: only the objects it created there.
  for (const object of [...made.objects].reverse()) {
    try {
      if (object.kind === "Cluster") await kube.deleteCluster(namespace, object.name);
      else if (object.kind === "Pod") await kube.deletePod(namespace, object.name, 0).catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
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
  /** access: in-cluster: the runner's session and the rw routing it labels by. */
  runner?: { session: RunnerSession; rw: RwTimeline };
  /** access: outside: where the NodePorts answer. */
  outside?: OutsideAccess;
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
    if (!outside) throw new HarnessError(`the cnpg target runs its probes in the cluster (access: in-cluster): nothing outside it reaches "${name}"; set target.access: outside to probe from here`);
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
      { deadline: Date.now() + timeoutMs, everyMs: 500, before: "", gaveUp: (last) => new HarnessError(`the rw service at ${this.outside?.host}:${this.outside?.rw} did not answer (${last})`) },
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
    return this.hosts.takeDown(kubeNode, node);
  }

  private async hostsUp(): Promise<string | void> {
    return this.hosts.bringUp();
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

  /**
   * Runs a script in the pod's network namespace with its kind node's tools. Where the kernel has
   * no netem, the delay runs in pgdrill's packet delayer on the node, in the pod's namespace: it
   * needs python3 on the node, which pgdrill's node image has (fixtures/kind/build.sh) and
   * kindest/node has not; the shaping's tools check says so.
   */
  private podShell(node: string, missingOk: boolean): NodeShell {
    return {
      name: node,
      copy: async (content, path) => {
        const where = this.podNetns(node, false);
        await copyToKindNode(where!.kubeNode, content, path);
      },
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
