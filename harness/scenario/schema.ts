/**
 * A scenario is plain data (Jepsen: a test is a map), so the same schema serves TypeScript,
 * YAML and JSON. Objects are strict: an unknown key is refused by name (xk6-disruptor), because a
 * misspelt option that is silently ignored makes a drill measure something else.
 */
import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { GATE_EXPRESSION, GATE_METRICS } from "../gate/metrics.ts";

export const duration = z
  .union([z.string(), z.number()], { error: 'must be a duration like "500ms", "3s" or "2m"' })
  .superRefine((value, ctx) => {
  const parsed = parseDuration(value);
  if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
});

const nodeName = z.string().min(1, { message: "must name a node of the target, e.g. \"primary\"" });

// ---- Target ---------------------------------------------------------------------------------

export const containerPairTarget = z.strictObject({
  kind: z.literal("container-pair"),
  /** async: commits do not wait for the standby; sync: synchronous_standby_names makes them wait. */
  replication: z.enum(["async", "sync"]).default("async"),
  /** Image with PostgreSQL binaries (Debian layout). Default: PGDRILL_IMAGE, postgres:16, or the local build. */
  image: z.string().min(1).optional(),
  /** How long to wait for each node to accept connections. */
  startupTimeout: duration.default("60s"),
  /**
   * PgBouncer in front of the primary, as the seed guide's Pooler: probes with endpoint "pooler"
   * go through it, and a promotion repoints it (what the Pooler does when the rw service moves).
   */
  pooler: z
    .strictObject({
      /** transaction: a server connection per transaction (the guide's choice); session: per client. */
      mode: z.enum(["transaction", "session"]).default("transaction"),
      /** Image with Debian's pgbouncer package; default: the PostgreSQL nodes' image. */
      image: z.string().min(1).optional(),
      /** Server connections per database/user pair (default_pool_size). */
      poolSize: z.number().int().min(1).max(200).default(20),
      /** Extra [pgbouncer] settings, e.g. { server_login_retry: "1" }; PgBouncer's defaults otherwise. */
      settings: z.record(z.string().regex(/^[a-z_]+$/, { message: "must be a PgBouncer setting name (lower-case, '_')" }), z.string()).default({}),
    })
    .optional(),
});

/** The operator release pgdrill installs by default; bump with care and note it in the README. */
export const CNPG_DEFAULT_VERSION = "1.30.1";

/**
 * A CloudNativePG Cluster on Kubernetes: a kind cluster pgdrill creates (default) or an existing
 * cluster named by kubeconfig context. Defaults follow the seed guide (3 instances, its
 * postgresql parameters scaled down to fit kind).
 */
export const cnpgTarget = z.strictObject({
  kind: z.literal("cnpg"),
  /** Existing kubeconfig context; omitted: pgdrill creates a kind cluster and deletes it after. */
  context: z.string().min(1).optional(),
  /** Kubeconfig file for `context`; default KUBECONFIG or ~/.kube/config. */
  kubeconfig: z.string().min(1).optional(),
  /** Contexts not created by pgdrill that faults may be aimed at. Anything else is refused. */
  allowContexts: z.array(z.string().min(1)).default([]),
  /** kind cluster config (nodes); pgdrill adds the port mappings. */
  kindConfig: z.string().min(1).default("fixtures/kind/cluster.yaml"),
  /** kind node image, e.g. "kindest/node:v1.33.1"; default: kind's own. */
  kindImage: z.string().min(1).optional(),
  operator: z
    .strictObject({
      /** CloudNativePG release to install. */
      version: z.string().regex(/^\d+\.\d+\.\d+(-rc\d+)?$/, { message: 'must be a release like "1.30.1"' }).default(CNPG_DEFAULT_VERSION),
      /** Release manifest: an https URL or a local file. Default: the release's manifest on GitHub. */
      manifest: z.string().min(1).optional(),
      /** if-missing: install unless an operator already runs; never: require one; always: (re)apply. */
      install: z.enum(["if-missing", "always", "never"]).default("if-missing"),
      namespace: z.string().min(1).default("cnpg-system"),
    })
    .default({ version: CNPG_DEFAULT_VERSION, install: "if-missing", namespace: "cnpg-system" }),
  /** Namespace for the Cluster; default pgdrill-<run id>, created and deleted by pgdrill. */
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: "must be a Kubernetes namespace name (lower-case letters, digits, '-')" }).optional(),
  /** Cluster object name; instances are <name>-1, <name>-2, ... */
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: "must be a Kubernetes object name (lower-case letters, digits, '-')" }).default("pgdrill"),
  instances: z.number().int().min(2, { message: "must be at least 2: a failover needs a replica" }).max(9).default(3),
  /** async, or sync: one replica must confirm each commit (postgresql.synchronous, method any). */
  replication: z.enum(["async", "sync"]).default("async"),
  /** PostgreSQL operand image; default: the operator's default. */
  imageName: z.string().min(1).optional(),
  storage: z.string().regex(/^\d+(Mi|Gi)$/, { message: 'must be a size like "1Gi"' }).default("1Gi"),
  /** postgresql.parameters; merged over pgdrill's defaults (the seed guide's, scaled down). */
  parameters: z.record(z.string(), z.string()).default({}),
  /** Merged over the generated Cluster spec as-is: the escape hatch for options pgdrill does not model. */
  spec: z.record(z.string(), z.unknown()).default({}),
  /** How probes reach the services from here: a node address and the NodePorts pgdrill creates. */
  access: z
    .strictObject({
      /** Address of a Kubernetes node (kind: 127.0.0.1, where its ports are mapped). */
      host: z.string().min(1).default("127.0.0.1"),
      /** rw gets this NodePort, ro the next, then one per instance. */
      nodePortBase: z.number().int().min(30000).max(32700).default(30430),
    })
    .default({ host: "127.0.0.1", nodePortBase: 30430 }),
  /** Time to create the kind cluster, install the operator and get the Cluster Ready. */
  startupTimeout: duration.default("10m"),
});

/**
 * An existing PostgreSQL endpoint the application uses (a managed service: RDS Multi-AZ, Cloud SQL
 * HA, Supabase), reached through the same variables the seed guide documents. pgdrill cannot fail
 * it over itself: faults are the user's own commands (`command` faults), e.g. the provider's CLI.
 */
export const endpointTarget = z.strictObject({
  kind: z.literal("endpoint"),
  /** The primary's connection URL, as the application has it; default: DATABASE_URL. sslmode etc. work as with `pg`. */
  url: z.string().min(1).optional(),
  /** A read replica's URL, probed as node "replica" and endpoint "ro"; default: DATABASE_READ_REPLICA_URL. */
  readReplicaUrl: z.string().min(1).optional(),
  /** TLS beyond what the URL says: a CA bundle file to trust, or accept any certificate. */
  ssl: z
    .strictObject({
      ca: z.string().min(1).optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  /** The writes probe creates a table in a schema of its own and drops it after: say yes to that. */
  allowWrites: z.boolean().default(false),
  /** How long to wait for the endpoint to answer before the drill starts. */
  startupTimeout: duration.default("30s"),
});

export const target = z.discriminatedUnion("kind", [containerPairTarget, cnpgTarget, endpointTarget], {
  error: (issue) =>
    issue.code === "invalid_union" ? 'unknown target kind: use "container-pair", "cnpg" or "endpoint"' : undefined,
});

// ---- Probes ---------------------------------------------------------------------------------

const probeCommon = {
  /** Name in the history and reports; defaults to the probe kind. */
  name: z.string().min(1).optional(),
  /** Interval between operation starts. */
  every: duration.default("100ms"),
  /** Statement timeout; an operation past it is `info` (writes) or `fail` (reads). */
  timeout: duration.default("1s"),
  /** TCP connect + authentication timeout. */
  connectTimeout: duration.default("1s"),
};

/**
 * An application-style pool for `connection: "pool"`; what is left out comes from
 * DATABASE_POOL_MIN / _MAX / _RECYCLE (seconds), then the seed guide's 5 / 20 / 300 s.
 */
const poolOption = z
  .strictObject({
    min: z.number().int().min(0).max(100).optional(),
    max: z.number().int().min(1).max(100).optional(),
    /** A connection older than this is closed and replaced on its next checkout. */
    recycle: duration.optional(),
  })
  .optional();

export const select1Probe = z.strictObject({
  kind: z.literal("select1"),
  ...probeCommon,
  /** fresh: connect for every operation (the seed guide's loop); held: keep one, reconnect on error; pool: an application pool. */
  connection: z.enum(["fresh", "held", "pool"]).default("fresh"),
  pool: poolOption,
  /** Which endpoint: "rw" follows the primary as the target repoints it; or a node name. */
  endpoint: z.string().min(1).default("rw"),
});

export const writesProbe = z.strictObject({
  kind: z.literal("writes"),
  ...probeCommon,
  connection: z.enum(["fresh", "held", "pool"]).default("held"),
  pool: poolOption,
  /** "rw", or "pooler" to write through the target's PgBouncer. */
  endpoint: z.enum(["rw", "pooler"]).default("rw"),
});

export const roleProbe = z.strictObject({
  kind: z.literal("role"),
  ...probeCommon,
  every: duration.default("200ms"),
  timeout: duration.default("500ms"),
  connectTimeout: duration.default("500ms"),
});

export const probe = z.discriminatedUnion("kind", [select1Probe, writesProbe, roleProbe], {
  error: (issue) =>
    issue.code === "invalid_union" ? 'unknown probe kind: use one of "select1", "writes", "role"' : undefined,
});

// ---- Faults and actions ---------------------------------------------------------------------

export const killFault = z.strictObject({ kind: z.literal("kill"), node: nodeName });
export const stopFault = z.strictObject({
  kind: z.literal("stop"),
  node: nodeName,
  /** PostgreSQL shutdown mode; fast is what `docker stop` with a sane stop signal does. */
  mode: z.enum(["smart", "fast", "immediate"]).default("fast"),
});
export const pauseFault = z.strictObject({ kind: z.literal("pause"), node: nodeName });
export const partitionFault = z
  .strictObject({
    kind: z.literal("partition"),
    /** Cut one node off from everything, clients included. */
    isolate: nodeName.optional(),
    /** Cut two nodes off from each other only; clients still reach both. */
    between: z.tuple([nodeName, nodeName]).optional(),
    /** With `between: [a, b]`: drop only what b sends to a. */
    oneWay: z.boolean().default(false),
  })
  .superRefine((value, ctx) => {
    if ((value.isolate === undefined) === (value.between === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: 'give exactly one of "isolate: <node>" or "between: [<node>, <node>]"',
      });
    }
    if (value.between && value.between[0] === value.between[1]) {
      ctx.addIssue({ code: "custom", path: ["between"], message: "must name two different nodes" });
    }
    if (value.oneWay && value.isolate !== undefined) {
      ctx.addIssue({ code: "custom", path: ["oneWay"], message: 'only applies with "between"' });
    }
  });

/** cnpg: delete a pod the way `kubectl delete pod` does, with its own or a given grace period. */
export const deletePodFault = z.strictObject({
  kind: z.literal("delete-pod"),
  node: nodeName,
  /** Grace period; omitted: the pod's own (CloudNativePG's stopDelay). */
  grace: duration.optional(),
});
/** cnpg: fence an instance (cnpg.io/fencedInstances): PostgreSQL stops, the pod stays. */
export const fenceFault = z.strictObject({ kind: z.literal("fence"), node: nodeName });

/**
 * The user's own command as the fault (Chaos Toolkit's process action): a provider's failover
 * CLI, a script. Run with bash; its output goes into the History, with secrets masked.
 */
export const commandFault = z.strictObject({
  kind: z.literal("command"),
  /** Shell command that injects, e.g. "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover". */
  run: z.string().min(1),
  /** Shell command that undoes it, run when `for` ends or the drill ends. */
  heal: z.string().min(1).optional(),
  /** The command is killed and the step fails after this long. */
  timeout: duration.default("5m"),
  /** Name in the History and reports; default: the command's first words. */
  label: z.string().min(1).optional(),
});

export const fault = z.discriminatedUnion("kind", [killFault, stopFault, pauseFault, partitionFault, deletePodFault, fenceFault, commandFault], {
  error: (issue) =>
    issue.code === "invalid_union"
      ? 'unknown fault kind: use one of "kill", "stop", "pause", "partition", "delete-pod", "fence", "command"'
      : undefined,
});

export const promoteAction = z.strictObject({
  kind: z.literal("promote"),
  node: nodeName,
  /** Detection delay before promoting, as a failure detector would take. */
  after: duration.default(0),
});
export const healAction = z.strictObject({ kind: z.literal("heal") });
/** cnpg: a planned switchover, what `kubectl cnpg promote` does; waits until `to` is primary. */
export const switchoverAction = z.strictObject({
  kind: z.literal("switchover"),
  /** The instance to promote, or "replica" for any healthy replica. */
  to: nodeName.default("replica"),
});

export const action = z.discriminatedUnion("kind", [promoteAction, healAction, switchoverAction], {
  error: (issue) =>
    issue.code === "invalid_union" ? 'unknown action kind: use one of "promote", "heal", "switchover"' : undefined,
});

export const faultStep = z.strictObject({
  at: duration,
  fault,
  /** Heal this fault automatically after this long. */
  for: duration.optional(),
});
export const actionStep = z.strictObject({ at: duration, action });
export const step = z.union([faultStep, actionStep], {
  error: () => 'each schedule entry needs "at" and exactly one of "fault" or "action"',
});

// ---- Scenario -------------------------------------------------------------------------------

const gateExpression = z.string().regex(GATE_EXPRESSION, {
  message: 'must be a comparison like ">= 0.99", "< 30000" or "== 0"',
});

export const gate = z.record(z.string(), gateExpression).superRefine((value, ctx) => {
  for (const key of Object.keys(value)) {
    if (!(key in GATE_METRICS)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `unknown metric; use one of ${Object.keys(GATE_METRICS).join(", ")}`,
      });
    }
  }
});

export const scenario = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, {
    message: "must be lower-case letters, digits, '.', '_' or '-' (it names the report folder)",
  }),
  description: z.string().optional(),
  target,
  probes: z.array(probe).min(1, { message: "needs at least one probe, e.g. select1" }),
  /** Checked before the first fault; a bad baseline aborts the drill as errored. */
  steadyState: z
    .strictObject({
      window: duration.default("2s"),
      minAvailability: z.number().min(0).max(1).default(1),
    })
    .default({ window: "2s", minAvailability: 1 }),
  schedule: z.array(step).default([]),
  /** Total length of the probing, steady-state window included. */
  duration,
  gate: gate.default({}),
});

export type ScenarioInput = z.input<typeof scenario>;
export type Scenario = z.output<typeof scenario>;
export type Target = z.output<typeof target>;
export type ContainerPairTarget = z.output<typeof containerPairTarget>;
export type CnpgTarget = z.output<typeof cnpgTarget>;
export type EndpointTarget = z.output<typeof endpointTarget>;
export type ProbeSpec = z.output<typeof probe>;
export type FaultSpec = z.output<typeof fault>;
export type ActionSpec = z.output<typeof action>;
export type StepSpec = z.output<typeof step>;
