/**
 * The CloudNativePG plugin: a Cluster on a kind cluster pgdrill creates, or on an existing one
 * named by context. The operator decides failovers; pgdrill deletes pods, fences, cuts pods off and
 * asks for switchovers. Its runtime is cnpg.ts.
 */
import { z } from "zod";
import { duration } from "../../scenario/schema-parts.ts";
import { kubeEventShape } from "./events.ts";
import { operatorSigns } from "./mechanism.ts";
import { operatorChecker } from "./operator-check.ts";
import { definePlugin, type AimedFault, type Path, type Report } from "../plugin.ts";
import { deletePodFault } from "./faults/delete-pod.ts";
import { fenceFault } from "./faults/fence.ts";
import { nodeDownFault } from "./faults/node-down.ts";
import { mayDisrupt } from "./safety.ts";
import { operatorRows } from "./report-rows.ts";
import { VERSION } from "../../version.ts";

/**
 * The probe runner's image as .github/workflows/cnpg.yml builds it (fixtures/image/probe-runner.Dockerfile) for this version of pgdrill.
 */
export const DEFAULT_RUNNER_IMAGE = `pgdrill/probe-runner:${VERSION}`;

/** The newest release the sources show: tag v1.30.0, releases/cnpg-1.30.0.yaml on release-1.30 (there is no 1.30.1). */
export const CNPG_DEFAULT_VERSION = "1.30.0";

const kubernetesName = (what: string) =>
  z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: `must be a Kubernetes ${what} name (lower-case letters, digits, '-')` });

// Defaults follow the seed guide (3 instances, its postgresql parameters scaled down to fit kind).
export const cnpgTarget = z
  .strictObject({
    kind: z.literal("cnpg"),
    context: z
      .string()
      .min(1)
      .optional()
      .describe("Existing kubeconfig context; omitted: pgdrill creates a kind cluster and deletes it after."),
    kubeconfig: z.string().min(1).optional().describe("Kubeconfig file for `context`; default KUBECONFIG or ~/.kube/config."),
    allowContexts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Contexts not created by pgdrill where pgdrill may create its namespace, Cluster and services (and install the " +
          "operator if none is there) and aim faults. Anything else is refused.",
      ),
    kindConfig: z
      .string()
      .min(1)
      .default("fixtures/kind/cluster.yaml")
      .describe("kind cluster config (nodes); pgdrill adds the port mappings."),
    kindImage: z
      .string()
      .min(1)
      .optional()
      .describe(
        'kind node image, e.g. "kindest/node:v1.33.1"; default: PGDRILL_KIND_NODE_IMAGE, else kind\'s own. Without a ' +
          "registry: fixtures/kind/build.sh builds pgdrill/kind-node:v1.34.4.",
      ),
    operator: z
      .strictObject({
        version: z
          .string()
          .regex(/^\d+\.\d+\.\d+(-rc\d+)?$/, { message: 'must be a release like "1.30.0"' })
          .default(CNPG_DEFAULT_VERSION)
          .describe("CloudNativePG release to install."),
        manifest: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Release manifest: an https URL or a local file. Default: PGDRILL_CNPG_MANIFEST, else the release's manifest on " +
              "GitHub. Images it names that the local Docker engine holds are loaded into kind clusters pgdrill makes.",
          ),
        install: z
          .enum(["if-missing", "always", "never"])
          .default("if-missing")
          .describe(
            "if-missing: install unless CloudNativePG is there (its CRD or an operator Deployment, any name, any namespace); " +
              "never: require one; always: install, refused if CloudNativePG is already there (pgdrill never applies the " +
              "manifest over an install).",
          ),
        namespace: z
          .string()
          .min(1)
          .default("cnpg-system")
          .describe(
            "Namespace of the operator pgdrill installs when the manifest names none; an installed operator is found wherever it is.",
          ),
      })
      .default({ version: CNPG_DEFAULT_VERSION, install: "if-missing", namespace: "cnpg-system" })
      .describe("The CloudNativePG operator: which release, and whether pgdrill installs it."),
    namespace: kubernetesName("namespace")
      .optional()
      .describe("Namespace for the Cluster; default pgdrill-<run id>, created and deleted by pgdrill."),
    name: kubernetesName("object").default("pgdrill").describe("Cluster object name; instances are <name>-1, <name>-2, ..."),
    instances: z
      .number()
      .int()
      .min(2, { message: "must be at least 2: a failover needs a replica" })
      .max(9)
      .default(3)
      .describe("PostgreSQL instances (pods): a primary and replicas."),
    replication: z
      .enum(["async", "sync"])
      .default("async")
      .describe("async, or sync: one replica must confirm each commit (postgresql.synchronous, method any)."),
    imageName: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PostgreSQL operand image; default: PGDRILL_CNPG_POSTGRES_IMAGE, else the operator's default. Loaded into kind " +
          "clusters pgdrill makes when the local Docker engine holds it.",
      ),
    storage: z
      .string()
      .regex(/^\d+(Mi|Gi)$/, { message: 'must be a size like "1Gi"' })
      .default("1Gi")
      .describe("Storage size of each instance."),
    parameters: z
      .record(z.string(), z.string())
      .default({})
      .describe("postgresql.parameters; merged over pgdrill's defaults (the seed guide's, scaled down)."),
    spec: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("Merged over the generated Cluster spec as-is: the escape hatch for options pgdrill does not model."),
    access: z
      .enum(["in-cluster", "outside"], {
        error:
          "must be \"in-cluster\" (the probes run in a pod in the drill's namespace and dial the operator's <name>-rw/-ro " +
          'Services, as applications in the cluster do; the default) or "outside" (the probes run here and reach the ' +
          "database through NodePort Services the operator owns). The old { host, nodePortBase } is gone: NodePorts are " +
          "allocated by the API server, and the node address is target.outside.host",
      })
      .default("in-cluster")
      .describe(
        "Where the probes run. in-cluster (default): in a probe-runner pod in the drill's namespace (target.runner.image), " +
          "dialing <name>-rw.<namespace>.svc as applications in the cluster do; its History comes back through the API server " +
          "on the drill's clock. outside: from this machine, through NodePort Services the operator owns " +
          "(spec.managed.services.additional), ports allocated by the API server; the History says the probes ran outside.",
      ),
    runner: z
      .strictObject({
        image: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._\/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$/, {
            message: `must be a container image reference like "${DEFAULT_RUNNER_IMAGE}" or "ghcr.io/you/pgdrill-runner:1"`,
          })
          .default(DEFAULT_RUNNER_IMAGE)
          .describe(
            `The probe runner's image: pgdrill (its \`probe-runner\` command) on Node 24. Default ${DEFAULT_RUNNER_IMAGE}, ` +
              `built from fixtures/image/probe-runner.Dockerfile; pgdrill loads it into kind clusters it makes from the local ` +
              `Docker engine. On other clusters, push it where the cluster pulls from and name it here.`,
          ),
      })
      .default({ image: DEFAULT_RUNNER_IMAGE })
      .describe("The in-cluster probe runner (access: in-cluster)."),
    outside: z
      .strictObject({
        host: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Address of a Kubernetes node where the NodePorts answer; default: the first node's InternalIP (a kind node's " +
              "address on the Docker network, reachable from a Linux host).",
          ),
      })
      .default({})
      .describe("access: outside only: where the NodePort Services are reached from here."),
    startupTimeout: duration.default("10m").describe("Time to create the kind cluster, install the operator and get the Cluster Ready."),
  })
  .describe(
    "A CloudNativePG Cluster on Kubernetes: a kind cluster pgdrill creates (default) or an existing cluster named by kubeconfig context.",
  );

export type CnpgTarget = z.output<typeof cnpgTarget>;

/** Instances are <name>-1, <name>-2, …, as the operator names their pods. */
export function instanceNames(spec: Pick<CnpgTarget, "name" | "instances">): string[] {
  return Array.from({ length: spec.instances }, (_, i) => `${spec.name}-${i + 1}`);
}

export const cnpgPlugin = definePlugin({
  kind: "cnpg",
  options: cnpgTarget,
  nodes: instanceNames,
  // Resolved when the step runs: the primary then, a ready replica, the operator's pod.
  roles: ["primary", "replica", "operator"],
  capabilities: ["kill", "pods", "network", "shaping", "fencing", "switchover", "hosts"],
  faults: [deletePodFault, fenceFault, nodeDownFault],
  actions: [],
  probeEndpoints: () => ["rw", "ro"],
  endpointsAreServices: true,
  killedBy: "pod delete, grace 0",
  // The operator recreates a deleted pod.
  restartsNodes: true,
  // kind runs its nodes as Docker containers.
  onDocker: true,
  strategy: "CloudNativePG",
  // Creating anything (a namespace, a Cluster, services, the operator) on a cluster pgdrill did not
  // make needs the same explicit yes as its faults: a drill started with the wrong context must not
  // change it at all.
  check(spec, parts, report) {
    // Its probes run in the cluster's probe runner (runner/runner.ts), which runs node-postgres only.
    parts.probes?.forEach((probe, i) => {
      if (probe && probe.kind !== "role" && probe.driver !== "node-postgres") {
        report(
          ["probes", i, "driver"],
          `the cnpg target runs its probes in the cluster's probe runner, which has no ${probe.driver} agent`,
          'Use driver: "node-postgres" (the default) on cnpg; driver agents run on the container pair, Patroni and endpoint targets.',
        );
      }
    });
    if (spec.context !== undefined && !mayDisrupt(spec, spec.context)) {
      report(
        ["target", "context"],
        `"${spec.context}" is not a kind cluster pgdrill made, so pgdrill will not create its namespace, Cluster and ` +
          `services there or aim faults at it`,
        `If this cluster is meant for drills, add "${spec.context}" to target.allowContexts.`,
      );
    }
  },
  checkFault: checkCnpgFault,
  reportRows: operatorRows,
  // What its watches record (observer.ts), and the operator's view of a failover read from them.
  observations: { k8s: kubeEventShape },
  checks: { operator: operatorChecker },
  mechanism: operatorSigns,
});

/** What each fault that cannot aim at the operator's pod would do to it, for the message. */
const NOT_THE_OPERATOR: Readonly<Record<string, string>> = {
  partition: "cut off",
  fence: "fence",
  netem: "slow down the network of",
  "node-down": "take down the node of",
};

/** cnpg faults aim at pods: the operator's pod can be deleted but not cut off, shaped or fenced. */
function checkCnpgFault(_spec: CnpgTarget, fault: AimedFault, path: Path, report: Report): boolean {
  if (fault.kind === "partition" && fault.aims.some((aim) => aim.field === "between")) {
    report([...path, "between"], "the cnpg target cuts one pod off from everything", 'Use "isolate: <node>".');
    return true;
  }
  const verb = Object.hasOwn(NOT_THE_OPERATOR, fault.kind) ? NOT_THE_OPERATOR[fault.kind] : undefined;
  const operator = fault.aims.find((aim) => aim.node === "operator");
  if (verb !== undefined && operator !== undefined) {
    const fix = 'Aim at an instance, "primary" or "replica"; the operator\'s pod can only be killed or deleted.';
    report([...path, operator.field], `cannot ${verb} the operator`, fix);
    return true;
  }
  return false;
}
