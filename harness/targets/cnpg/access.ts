/**
 * How the probes reach the database: in the cluster, a probe-runner pod in the drill's namespace
 * dialing the operator's -rw/-ro Services, its operations labelled by where rw routed at the time;
 * or, with access: outside, the NodePorts the API server allocated and a node address.
 */
import { HarnessError, InputError, errorMessage } from "../../errors.ts";
import type { TopologyStartOptions } from "../types.ts";
import type { ProbeSpec } from "../../scenario/probes.ts";
import type { Clock } from "../../clock.ts";
import { roundMs } from "../../clock.ts";
import { instanceNames, type CnpgTarget } from "./plugin.ts";
import { kubeFailure, statusOf, type Kube } from "./kube.ts";
import { outsideServiceNames } from "./manifests.ts";
import { runnerConfig, runnerPod, RUNNER_CONTAINER, RUNNER_LABEL } from "./runner/pod.ts";
import { RUNNER_CONTROL_PORT } from "./runner/protocol.ts";
import { RunnerSession } from "./runner/remote.ts";
import { kubeRunnerTransport } from "./runner/transport.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import type { Made } from "./made.ts";

/** A run without a stated duration: the runner's own bounds (a run of at most 6 h). */
const RUNNER_MAX_RUN_MS = 6 * 3600_000;
/** The runner pod outlives the probing by this much (heal, final reads, teardown), then exits whatever happens. */
const RUNNER_AFTER_MS = 10 * 60_000;
/** The runner pod must be ready within this (image pull included) and the start-up's own deadline. */
const RUNNER_READY_MS = 180_000;

/** Where the rw Service routed, on the drill's clock, from the EndpointSlice watch (for the runner's labels). */
export class RwTimeline {
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

/**
 * The probe runner: its pod in the drill's namespace (runner/pod.ts: no Kubernetes rights, the
 * app user from the Cluster's -app secret, bounded), ready (its readiness probe is its clock), and
 * answering through the API server's pod proxy, which is how the drill reaches it from now on.
 */
export async function startRunner(
  kube: Kube,
  spec: CnpgTarget,
  probes: readonly ProbeSpec[],
  namespace: string,
  made: Made,
  rw: RwTimeline,
  deadline: number,
  ownKind: boolean,
  options: TopologyStartOptions,
): Promise<RunnerSession> {
  if (probes.length === 0)
    throw new InputError(
      "probes",
      "the cnpg target's in-cluster runner has no probes to run",
      "List at least one probe, or set target.access: outside.",
    );
  const durationMs = Math.min(RUNNER_MAX_RUN_MS - 60_000, options.durationMs ?? RUNNER_MAX_RUN_MS - 60_000);
  const config = runnerConfig(spec, namespace, probes, { maxRunMs: durationMs + 60_000, lifetimeMs: durationMs + RUNNER_AFTER_MS });
  const pod = runnerPod(spec, namespace, config, { image: spec.runner.image, runId: options.runId, controlPlane: ownKind });
  await kube.create(pod).catch((error: unknown) => {
    if (statusOf(error) === 409) {
      throw new InputError(
        "target.name",
        `a Pod "${pod.metadata.name}" already exists in namespace ${namespace} and pgdrill did not create it`,
        "Choose another target.name or target.namespace, or delete that Pod if it is a leftover of an earlier drill.",
      );
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
          `the probe runner's image "${spec.runner.image}" cannot be had on this cluster (${waiting.reason}` +
            `${waiting.message ? `: ${waiting.message}` : ""})`,
          "Build it (docker build -f fixtures/image/probe-runner.Dockerfile; pgdrill loads it into kind clusters it makes), " +
            "`kind load docker-image` it into yours, or push it to a registry the cluster pulls from and name it here.",
        );
      }
      if (status?.phase === "Failed" || status?.phase === "Succeeded") {
        const terminated = status.containerStatuses?.[0]?.state?.terminated;
        throw new HarnessError(
          `the probe runner's pod ${pod.metadata.name} ended before the drill (${status.phase}` +
            `${terminated ? `, exit code ${terminated.exitCode}${terminated.message ? `: ${terminated.message}` : ""}` : ""}); ` +
            `its log: kubectl logs -n ${namespace} ${pod.metadata.name}`,
        );
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
export async function outsideAccess(
  kube: Kube,
  spec: CnpgTarget,
  namespace: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<OutsideAccess> {
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
      gaveUp: (last) =>
        new HarnessError(
          `the operator did not make the Services of managed.services.additional (${last}); CloudNativePG 1.24 or later has them`,
        ),
    },
  );
  const host =
    spec.outside.host ??
    (await kube.nodeAddress().catch((error: unknown) => {
      throw kubeFailure("listing the nodes for an address", error);
    }));
  if (!host)
    throw new InputError(
      "target.outside.host",
      "no node of the cluster reports an InternalIP",
      "Set target.outside.host to a node address where NodePorts answer from here.",
    );
  return { host, rw: ports[0]!, ro: ports[1]!, instances: ports.slice(2) };
}

export interface OutsideAccess {
  host: string;
  rw: number;
  ro: number;
  instances: number[];
}
