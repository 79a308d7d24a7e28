/**
 * The probe runner's pod and what it dials, as pure functions of the scenario, so tests read
 * exactly what would be created. The pod needs no Kubernetes rights at all: no token is mounted
 * (automountServiceAccountToken: false) and no Role or binding exists for it; the drill does every
 * API call itself. It runs as a non-root user with a read-only root, no capabilities and the
 * runtime's seccomp profile, with small bounded resources, restarts never, and is killed by the
 * kubelet after activeDeadlineSeconds however the drill ends. The app user's password comes from
 * the `<cluster>-app` secret CloudNativePG creates (pkg/specs/secrets.go: username, password).
 */
import type { ProbeSpec } from "../../../scenario/probes.ts";
import { LABELS } from "../kube.ts";
import { PGDRILL_LABEL } from "../manifests.ts";
import type { CnpgTarget } from "../plugin.ts";
import { instanceNames } from "../plugin.ts";
import { RUNNER_CONFIG_ENV, RUNNER_CONTROL_PORT, type RunnerConfig } from "./protocol.ts";
import { RUNNER_PROTOCOL } from "../../../runner/protocol.ts";

/** The image the workflow builds from fixtures/image/probe-runner.Dockerfile (node base + the packed pgdrill). */
export { DEFAULT_RUNNER_IMAGE } from "../plugin.ts";
export const RUNNER_CONTAINER = "runner";
export const RUNNER_LABEL = "pgdrill.io/probe-runner";
const PASSWORD_ENV = "PGPASSWORD";

export function runnerPodName(target: Pick<CnpgTarget, "name">): string {
  return `${target.name}-pgdrill-runner`;
}

/** The per-instance Service the role probe dials in the cluster: headless, so DNS answers with the pod's own address. */
export function instanceServiceName(target: Pick<CnpgTarget, "name">, index: number): string {
  return `${target.name}-pgdrill-${index + 1}`;
}

/**
 * What the runner dials: the operator's own `-rw` and `-ro` Services (what applications use) and,
 * for the role probe, each instance through a headless Service of pgdrill's selecting that pod
 * alone by cnpg.io/instanceName, with not-ready addresses published, so a pod the operator has
 * not (or no longer) marked ready still answers the role probe as a direct connection would.
 */
export function runnerConfig(
  target: CnpgTarget,
  namespace: string,
  probes: readonly ProbeSpec[],
  limits: { maxRunMs: number; lifetimeMs: number },
): RunnerConfig {
  const svc = (name: string) => `${name}.${namespace}.svc`;
  return {
    protocol: RUNNER_PROTOCOL,
    cluster: target.name,
    nodes: instanceNames(target).map((name, i) => ({ name, host: svc(instanceServiceName(target, i)), port: 5432 })),
    rw: { host: svc(`${target.name}-rw`), port: 5432 },
    ro: { host: svc(`${target.name}-ro`), port: 5432 },
    user: "app",
    database: "app",
    passwordEnv: PASSWORD_ENV,
    probes: [...probes],
    maxRunMs: limits.maxRunMs,
    lifetimeMs: limits.lifetimeMs,
    controlPort: RUNNER_CONTROL_PORT,
  };
}

export interface InstanceServiceManifest {
  apiVersion: "v1";
  kind: "Service";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    clusterIP: "None";
    publishNotReadyAddresses: true;
    selector: Record<string, string>;
    ports: Array<{ name: string; port: number; targetPort: number; protocol: "TCP" }>;
  };
}

export function instanceServices(target: CnpgTarget, namespace: string): InstanceServiceManifest[] {
  return instanceNames(target).map((instance, i) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: instanceServiceName(target, i), namespace, labels: { [PGDRILL_LABEL]: "true" } },
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: { [LABELS.cluster]: target.name, [LABELS.instanceName]: instance },
      ports: [{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }],
    },
  }));
}

export interface RunnerPodManifest {
  apiVersion: "v1";
  kind: "Pod";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: Record<string, unknown> & { containers: Array<Record<string, unknown> & { env: Array<Record<string, unknown>> }> };
}

/**
 * `controlPlane`: the cluster is pgdrill's own kind cluster, whose control-plane node hosts no
 * instance: the runner may go there (its taint tolerated), so taking an instance's node down
 * (node-down) leaves the clients running. On anyone else's cluster the control plane is left alone.
 */
export function runnerPod(
  target: CnpgTarget,
  namespace: string,
  config: RunnerConfig,
  options: { image: string; runId: string; controlPlane?: boolean },
): RunnerPodManifest {
  const secret = `${target.name}-app`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: runnerPodName(target),
      namespace,
      labels: { [PGDRILL_LABEL]: "true", "pgdrill.run": options.runId, [RUNNER_LABEL]: target.name },
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // The kubelet ends it even if the drill never comes back to delete it.
      activeDeadlineSeconds: Math.ceil(config.lifetimeMs / 1000) + 60,
      terminationGracePeriodSeconds: 5,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
      // Away from the instances where the scheduler can: a fault on an instance's node should not take the clients with it.
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { [LABELS.cluster]: target.name } } },
            },
          ],
        },
      },
      ...(options.controlPlane
        ? { tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }] }
        : {}),
      containers: [
        {
          name: RUNNER_CONTAINER,
          image: options.image,
          imagePullPolicy: options.image.endsWith(":local") ? "Never" : "IfNotPresent",
          args: ["probe-runner"],
          env: [
            { name: RUNNER_CONFIG_ENV, value: JSON.stringify(config) },
            { name: "PGDRILL_RUNNER_USER", valueFrom: { secretKeyRef: { name: secret, key: "username" } } },
            { name: config.passwordEnv, valueFrom: { secretKeyRef: { name: secret, key: "password" } } },
          ],
          ports: [{ name: "control", containerPort: config.controlPort, protocol: "TCP" }],
          readinessProbe: { httpGet: { path: "/clock", port: config.controlPort }, periodSeconds: 1, failureThreshold: 3 },
          resources: { requests: { cpu: "100m", memory: "96Mi" }, limits: { cpu: "1", memory: "256Mi" } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
    },
  };
}
