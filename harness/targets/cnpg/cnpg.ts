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
import type { StartedTopology, Topology, TopologyStartOptions } from "../types.ts";
import type { ProbeSpec } from "../../scenario/probes.ts";
import { instanceNames, type CnpgTarget } from "./plugin.ts";
import { mayDisrupt } from "./safety.ts";
import { kindKubeconfig } from "./kind.ts";
import { Kube, kubeFailure, loadKube, statusOf, type KubeTarget } from "./kube.ts";
import { clusterManifest, instanceNodePortServices, outsideServiceNames } from "./manifests.ts";
import { instanceServices, runnerPodName } from "./runner/pod.ts";
import type { RunnerSession } from "./runner/remote.ts";
import { ClusterObserver } from "./observer.ts";
import { withImageDefaults } from "./images.ts";
import { useKindCluster } from "./kind-cluster.ts";
import { clusterConflict, createWithRetry, describeMade, removeMade, type Made } from "./made.ts";
import { RwTimeline, outsideAccess, startRunner } from "./access.ts";
import { StartedCnpg } from "./started.ts";
import { ensureOperator } from "./operator.ts";

/** CloudNativePG's phase once every instance is ready. */
export const HEALTHY_PHASE = "Cluster in healthy state";

export function cnpgTopology(spec: CnpgTarget, probes: readonly ProbeSpec[] = []): Topology {
  return {
    kind: "cnpg",
    nodes: instanceNames(spec),
    // CloudNativePG bootstraps the first instance as the primary.
    initialPrimary: `${spec.name}-1`,
    start: (options) => startCnpg(spec, probes, options),
  };
}

async function startCnpg(
  scenarioSpec: CnpgTarget,
  probes: readonly ProbeSpec[],
  startOptions: TopologyStartOptions,
): Promise<StartedTopology> {
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
        throw new InputError(
          "target.context",
          `"${target.context}" is not a kind cluster pgdrill made, so pgdrill will not create its namespace, Cluster and ` +
            `services there or aim faults at it`,
          `If this cluster is meant for drills, add "${target.context}" to target.allowContexts.`,
        );
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
    await createWithRetry(
      kube,
      clusterManifest(spec, namespace, options.runId),
      deadline,
      () => clusterConflict(spec, namespace),
      options.signal,
    );
    made.objects.push({ kind: "Cluster", name: spec.name });
    // In the cluster: a headless Service per instance for the runner's role probe. Outside: a
    // NodePort Service per instance (its port allocated by the API server); rw and ro are the
    // operator's own, declared in the Cluster (managed.services.additional).
    const services = spec.access === "in-cluster" ? instanceServices(spec, namespace) : instanceNodePortServices(spec, namespace);
    for (const service of services) {
      await kube.create(service).catch((error: unknown) => {
        if (statusOf(error) === 409) {
          throw new InputError(
            "target.name",
            `a Service "${service.metadata.name}" already exists in namespace ${namespace} and pgdrill did not create it`,
            "Choose another target.name or target.namespace, or delete that Service if it is a leftover of an earlier drill.",
          );
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
      () =>
        watching.status.phase === HEALTHY_PHASE && watching.status.readyInstances === spec.instances && watching.primaries().length === 1,
      Math.max(1000, deadline - Date.now()),
      `Cluster ${spec.name} becoming ready (phase "${HEALTHY_PHASE}", ${spec.instances} ready instances)`,
      options.signal,
    );
    options.log(`cnpg: Cluster ready in ${Date.now() - t1} ms, primary ${watching.primaries()[0]}`);

    const common = {
      spec,
      kube,
      observer,
      namespace,
      made,
      operatorNamespace: operator.namespace,
      disruptive: mayDisrupt(spec, target.context),
    };
    if (spec.access === "in-cluster") {
      session = await startRunner(kube, spec, probes, namespace, made, rw, deadline, kindCluster !== undefined, options);
      record({
        kind: "log",
        level: "info",
        message:
          `probes ran in the cluster: pod ${namespace}/${runnerPodName(spec)} (${spec.runner.image}) dialing ${spec.name}-rw.` +
          `${namespace}.svc and ${spec.name}-ro.${namespace}.svc as the app user, its History brought back through the API ` +
          `server`,
      });
      return new StartedCnpg({ ...common, credentials: { user: "app", password: "" }, runner: { session, rw } });
    }
    const superuser = await kube.secret(namespace, `${spec.name}-superuser`).catch((error: unknown) => {
      throw kubeFailure(`reading secret ${spec.name}-superuser`, error);
    });
    const outside = await outsideAccess(kube, spec, namespace, deadline, options.signal);
    const started = new StartedCnpg({
      ...common,
      credentials: { user: superuser.username ?? "postgres", password: superuser.password ?? "" },
      outside,
    });
    await started.waitForServices(Math.max(5000, Math.min(60_000, deadline - Date.now())));
    const names = outsideServiceNames(spec);
    record({
      kind: "log",
      level: "warn",
      message:
        `probes ran OUTSIDE the cluster (access: outside), from this machine through the operator's NodePort Services ` +
        `${names.rw} (${outside.host}:${outside.rw}) and ${names.ro} (${outside.host}:${outside.ro}): what clients in the ` +
        `cluster saw was not probed`,
    });
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
