/**
 * A scenario is plain data (Jepsen: a test is a map), so the same schema serves TypeScript,
 * YAML and JSON. Objects are strict: an unknown key is refused by name (xk6-disruptor), because a
 * misspelt option that is silently ignored makes a drill measure something else.
 *
 * Three things are derived from this one schema: the runtime check (validate.ts adds the checks a
 * schema cannot express), the TypeScript input type (`ScenarioInput`), and the JSON Schema editors
 * use (json-schema.ts; `.describe()` texts become its descriptions). Where zod cannot see what a
 * refinement checks, the schema says it twice: a type cast for TypeScript, a `.meta()` for JSON
 * Schema, both next to the refinement that decides at run time, and tests keep them in step.
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration, POSITIVE_DURATION_PATTERN, type Duration, type DurationText } from "../duration.ts";
import { closest } from "../suggest.ts";
import { GATE_EXPRESSION, GATE_METRIC_NAMES, GATE_METRICS, unknownMetricFix, type GateInput, type GateMetric } from "../gate/metrics.ts";

// ---- Durations ------------------------------------------------------------------------------

const DURATION_DESCRIPTION =
  'A duration: "500ms", "3s", "1.5m", or compound like "1m30s" or "1h15m" (units h, m, s, ms, largest first, each once). A bare number is refused, except 0.';

function durationSchema() {
  // Reached only for neither string nor number, which parseDuration refuses with its message.
  const error = (issue: { input?: unknown }) => {
    const parsed = parseDuration(issue.input);
    return parsed.ok ? undefined : parsed.message;
  };
  return z.union([z.string(), z.number()], { error }).superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message, params: { fix: parsed.fix } });
  });
}

/**
 * A duration: text with units, or 0. TypeScript sees the template literal types of DurationText
 * (zod would say `string | number`); what comes out is the value as written.
 */
export const duration = durationSchema().meta({
  id: "Duration",
  description: DURATION_DESCRIPTION,
  anyOf: [{ type: "string", pattern: DURATION_PATTERN.source }, { const: 0 }],
}) as unknown as z.ZodType<Duration, DurationText>;

/**
 * A fault's `for`. 0 is refused by name: the heal would be scheduled at the instant of the inject
 * and run before the inject has finished, so the fault would stay until the drill ends.
 */
export const faultFor = durationSchema()
  .superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed.ok && parsed.ms === 0) {
      ctx.addIssue({
        code: "custom",
        message: `must be longer than 0, got ${JSON.stringify(value)}`,
        params: { fix: 'Omit "for" to keep the fault until the drill ends (or a heal action), or give a positive duration like "5s".' },
      });
    }
  })
  .meta({
    id: "PositiveDuration",
    description: `${DURATION_DESCRIPTION.replace(/ A bare number is refused, except 0\.$/, "")} Longer than 0.`,
    anyOf: [{ type: "string", pattern: POSITIVE_DURATION_PATTERN.source }],
  }) as unknown as z.ZodType<Duration, Exclude<DurationText, 0>>;

/**
 * A union told apart by `kind`, whose "unknown kind" message lists the kinds it holds: written
 * from the options themselves, so adding one cannot leave the message behind.
 */
function byKind<const Options extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]]>(noun: string, options: Options) {
  const kinds = options.flatMap((option) => [...(option._zod.propValues?.kind ?? [])]).map(String);
  const list = kinds.map((kind) => `"${kind}"`).join(", ");
  return z.discriminatedUnion("kind", options, {
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      // The union sees the whole object; its kind is what was misspelt.
      const given: unknown = typeof issue.input === "object" && issue.input !== null ? (issue.input as { kind?: unknown }).kind : issue.input;
      const meant = typeof given === "string" ? closest(given, kinds) : null;
      return `unknown ${noun} kind: ${meant ? `did you mean "${meant}"? Use` : "use"} one of ${list}`;
    },
  });
}

/**
 * The fix a refinement of this schema attached to its issue (`params: { fix }`), or undefined:
 * how validation and a saved run's gate say what to write instead.
 */
export function issueFix(issue: z.core.$ZodIssue | undefined): string | undefined {
  const fix = issue?.code === "custom" ? issue.params?.["fix"] : undefined;
  return typeof fix === "string" ? fix : undefined;
}

const nodeName = z.string().min(1, { message: "must name a node of the target, e.g. \"primary\"" });

// ---- Target ---------------------------------------------------------------------------------

export const containerPairTarget = z
  .strictObject({
    kind: z.literal("container-pair"),
    replication: z.enum(["async", "sync"]).default("async").describe("async: commits do not wait for the standby; sync: synchronous_standby_names makes them wait."),
    image: z.string().min(1).optional().describe("Image with PostgreSQL binaries (Debian layout). Default: PGDRILL_IMAGE, postgres:16, or the local build."),
    startupTimeout: duration.default("60s").describe("How long to wait for each node to accept connections."),
    pooler: z
      .strictObject({
        mode: z.enum(["transaction", "session"]).default("transaction").describe("transaction: a server connection per transaction (the guide's choice); session: one per client."),
        image: z.string().min(1).optional().describe("Image with Debian's pgbouncer package; default: the PostgreSQL nodes' image."),
        poolSize: z.number().int().min(1).max(200).default(20).describe("Server connections per database/user pair (default_pool_size)."),
        settings: z
          .record(z.string().regex(/^[a-z_]+$/, { message: "must be a PgBouncer setting name (lower-case, '_')" }), z.string())
          .default({})
          .describe('Extra [pgbouncer] settings, e.g. { server_login_retry: "1" }; PgBouncer\'s defaults otherwise.'),
      })
      .optional()
      .describe('PgBouncer in front of the primary, as the seed guide\'s Pooler: probes with endpoint "pooler" go through it, and a promotion repoints it (what the Pooler does when the rw service moves).'),
  })
  .describe("Two PostgreSQL containers, primary and standby, with streaming replication.");

/** The operator release pgdrill installs by default; bump with care and note it in the README. */
export const CNPG_DEFAULT_VERSION = "1.30.1";

const kubernetesName = (what: string) =>
  z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: `must be a Kubernetes ${what} name (lower-case letters, digits, '-')` });

// Defaults follow the seed guide (3 instances, its postgresql parameters scaled down to fit kind).
export const cnpgTarget = z
  .strictObject({
    kind: z.literal("cnpg"),
    context: z.string().min(1).optional().describe("Existing kubeconfig context; omitted: pgdrill creates a kind cluster and deletes it after."),
    kubeconfig: z.string().min(1).optional().describe("Kubeconfig file for `context`; default KUBECONFIG or ~/.kube/config."),
    allowContexts: z.array(z.string().min(1)).default([]).describe("Contexts not created by pgdrill that faults may be aimed at. Anything else is refused."),
    kindConfig: z.string().min(1).default("fixtures/kind/cluster.yaml").describe("kind cluster config (nodes); pgdrill adds the port mappings."),
    kindImage: z.string().min(1).optional().describe('kind node image, e.g. "kindest/node:v1.33.1"; default: kind\'s own.'),
    operator: z
      .strictObject({
        version: z
          .string()
          .regex(/^\d+\.\d+\.\d+(-rc\d+)?$/, { message: 'must be a release like "1.30.1"' })
          .default(CNPG_DEFAULT_VERSION)
          .describe("CloudNativePG release to install."),
        manifest: z.string().min(1).optional().describe("Release manifest: an https URL or a local file. Default: the release's manifest on GitHub."),
        install: z.enum(["if-missing", "always", "never"]).default("if-missing").describe("if-missing: install unless an operator already runs; never: require one; always: (re)apply."),
        namespace: z.string().min(1).default("cnpg-system").describe("Namespace of the operator."),
      })
      .default({ version: CNPG_DEFAULT_VERSION, install: "if-missing", namespace: "cnpg-system" })
      .describe("The CloudNativePG operator: which release, and whether pgdrill installs it."),
    namespace: kubernetesName("namespace").optional().describe("Namespace for the Cluster; default pgdrill-<run id>, created and deleted by pgdrill."),
    name: kubernetesName("object").default("pgdrill").describe("Cluster object name; instances are <name>-1, <name>-2, ..."),
    instances: z.number().int().min(2, { message: "must be at least 2: a failover needs a replica" }).max(9).default(3).describe("PostgreSQL instances (pods): a primary and replicas."),
    replication: z.enum(["async", "sync"]).default("async").describe("async, or sync: one replica must confirm each commit (postgresql.synchronous, method any)."),
    imageName: z.string().min(1).optional().describe("PostgreSQL operand image; default: the operator's default."),
    storage: z.string().regex(/^\d+(Mi|Gi)$/, { message: 'must be a size like "1Gi"' }).default("1Gi").describe("Storage size of each instance."),
    parameters: z.record(z.string(), z.string()).default({}).describe("postgresql.parameters; merged over pgdrill's defaults (the seed guide's, scaled down)."),
    spec: z.record(z.string(), z.unknown()).default({}).describe("Merged over the generated Cluster spec as-is: the escape hatch for options pgdrill does not model."),
    access: z
      .strictObject({
        host: z.string().min(1).default("127.0.0.1").describe("Address of a Kubernetes node (kind: 127.0.0.1, where its ports are mapped)."),
        nodePortBase: z.number().int().min(30000).max(32700).default(30430).describe("rw gets this NodePort, ro the next, then one per instance."),
      })
      .default({ host: "127.0.0.1", nodePortBase: 30430 })
      .describe("How probes reach the services from here: a node address and the NodePorts pgdrill creates."),
    startupTimeout: duration.default("10m").describe("Time to create the kind cluster, install the operator and get the Cluster Ready."),
  })
  .describe("A CloudNativePG Cluster on Kubernetes: a kind cluster pgdrill creates (default) or an existing cluster named by kubeconfig context.");

// pgdrill cannot fail a managed service over itself: faults are the user's own commands.
export const endpointTarget = z
  .strictObject({
    kind: z.literal("endpoint"),
    url: z.string().min(1).optional().describe("The primary's connection URL, as the application has it; default: DATABASE_URL. sslmode etc. work as with `pg`."),
    readReplicaUrl: z.string().min(1).optional().describe('A read replica\'s URL, probed as node "replica" and endpoint "ro"; default: DATABASE_READ_REPLICA_URL.'),
    ssl: z
      .strictObject({
        ca: z.string().min(1).optional().describe("A CA bundle file to trust."),
        rejectUnauthorized: z.boolean().default(true).describe("false: accept any certificate."),
      })
      .optional()
      .describe("TLS beyond what the URL says: a CA bundle file to trust, or accept any certificate."),
    allowWrites: z.boolean().default(false).describe("The writes probe creates a table in a schema of its own and drops it after: say yes to that."),
    startupTimeout: duration.default("30s").describe("How long to wait for the endpoint to answer before the drill starts."),
  })
  .describe("An existing PostgreSQL endpoint the application uses (a managed service: RDS Multi-AZ, Cloud SQL HA, Supabase); faults are your own commands (`command` faults), e.g. the provider's CLI.");

export const target = byKind("target", [containerPairTarget, cnpgTarget, endpointTarget])
  .describe("What is drilled: a container pair, a CloudNativePG cluster, or an existing endpoint.");

// ---- Probes ---------------------------------------------------------------------------------

const probeCommon = {
  name: z.string().min(1).optional().describe("Name in the history and reports; defaults to the probe kind."),
  every: duration.default("100ms").describe("Interval between operation starts."),
  timeout: duration.default("1s").describe("Statement timeout; an operation past it is `info` (writes) or `fail` (reads)."),
  connectTimeout: duration.default("1s").describe("TCP connect + authentication timeout."),
};

const connection = (fallback: "fresh" | "held") =>
  z
    .enum(["fresh", "held", "pool"])
    .default(fallback)
    .describe("fresh: connect for every operation (the seed guide's loop); held: keep one, reconnect on error; pool: an application pool.");

// What `pool` leaves out comes from DATABASE_POOL_MIN / _MAX / _RECYCLE (seconds), then the seed
// guide's 5 / 20 / 300 s: the probe then behaves like the application it stands in for.
const poolOption = z
  .strictObject({
    min: z.number().int().min(0).max(100).optional().describe("Connections kept open; default DATABASE_POOL_MIN or 5."),
    max: z.number().int().min(1).max(100).optional().describe("Connections at most; default DATABASE_POOL_MAX or 20."),
    recycle: duration.optional().describe("A connection older than this is closed and replaced on its next checkout; default DATABASE_POOL_RECYCLE or 300 s."),
  })
  .optional()
  .describe('An application-style pool for connection: "pool".');

export const select1Probe = z
  .strictObject({
    kind: z.literal("select1"),
    ...probeCommon,
    connection: connection("fresh"),
    pool: poolOption,
    endpoint: z.string().min(1).default("rw").describe('Which endpoint: "rw" follows the primary as the target repoints it; "ro", "pooler", or a node name.'),
  })
  .describe("SELECT 1, repeated: can clients get an answer?");

export const writesProbe = z
  .strictObject({
    kind: z.literal("writes"),
    ...probeCommon,
    connection: connection("held"),
    pool: poolOption,
    endpoint: z.enum(["rw", "pooler"]).default("rw").describe('"rw", or "pooler" to write through the target\'s PgBouncer.'),
  })
  .describe("Tracked writes: each acknowledged write is looked for on the final primary, so lost writes are counted.");

export const roleProbe = z
  .strictObject({
    kind: z.literal("role"),
    ...probeCommon,
    every: duration.default("200ms").describe("Interval between operation starts."),
    timeout: duration.default("500ms").describe("Statement timeout."),
    connectTimeout: duration.default("500ms").describe("TCP connect + authentication timeout."),
  })
  .describe("Asks every node whether it is a primary: who was primary when, and any split brain.");

export const probe = byKind("probe", [select1Probe, writesProbe, roleProbe])
  .describe("A client operation, repeated by a worker through the drill.");

// ---- Faults and actions ---------------------------------------------------------------------

export const killFault = z.strictObject({ kind: z.literal("kill"), node: nodeName.describe("The node to SIGKILL.") }).describe("SIGKILL a node's PostgreSQL.");
export const stopFault = z
  .strictObject({
    kind: z.literal("stop"),
    node: nodeName.describe("The node to stop."),
    mode: z.enum(["smart", "fast", "immediate"]).default("fast").describe("PostgreSQL shutdown mode; fast is what `docker stop` with a sane stop signal does."),
  })
  .describe("Shut a node's PostgreSQL down.");
export const pauseFault = z.strictObject({ kind: z.literal("pause"), node: nodeName.describe("The node to freeze.") }).describe("Freeze a node (docker pause) until healed.");
export const partitionFault = z
  .strictObject({
    kind: z.literal("partition"),
    isolate: nodeName.optional().describe("Cut one node off from everything, clients included."),
    between: z.tuple([nodeName, nodeName]).optional().describe("Cut two nodes off from each other only; clients still reach both."),
    oneWay: z.boolean().default(false).describe("With `between: [a, b]`: drop only what b sends to a."),
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
  })
  // The refinement's first rule, for editors.
  .meta({ oneOf: [{ required: ["isolate"] }, { required: ["between"] }] })
  .describe("Cut nodes off the network: one from everything (isolate), or two from each other (between).");

export const deletePodFault = z
  .strictObject({
    kind: z.literal("delete-pod"),
    node: nodeName.describe('The instance whose pod is deleted, "primary", "replica" or "operator".'),
    grace: duration.optional().describe("Grace period; omitted: the pod's own (CloudNativePG's stopDelay)."),
  })
  .describe("cnpg: delete a pod the way `kubectl delete pod` does, with its own or a given grace period.");
export const fenceFault = z
  .strictObject({ kind: z.literal("fence"), node: nodeName.describe('The instance to fence, "primary" or "replica".') })
  .describe("cnpg: fence an instance (cnpg.io/fencedInstances): PostgreSQL stops, the pod stays.");

// Chaos Toolkit's process action. Its output goes into the History, with secrets masked.
export const commandFault = z
  .strictObject({
    kind: z.literal("command"),
    run: z.string().min(1).describe('Shell command (bash) that injects, e.g. "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover".'),
    heal: z.string().min(1).optional().describe("Shell command that undoes it, run when `for` ends or the drill ends."),
    timeout: duration.default("5m").describe("The command is killed and the step fails after this long."),
    label: z.string().min(1).optional().describe("Name in the History and reports; default: the command's first words."),
  })
  .describe("Your own command as the fault: a provider's failover CLI, a script.");

export const fault = byKind("fault", [killFault, stopFault, pauseFault, partitionFault, deletePodFault, fenceFault, commandFault])
  .describe("What goes wrong, and on which node.");

export const promoteAction = z
  .strictObject({
    kind: z.literal("promote"),
    node: nodeName.describe("The standby to promote."),
    after: duration.default(0).describe("Detection delay before promoting, as a failure detector would take."),
  })
  .describe("Promote a standby to primary (what a failover manager does); clients follow the new primary.");
export const healAction = z.strictObject({ kind: z.literal("heal") }).describe("Heal every fault still active.");
export const switchoverAction = z
  .strictObject({
    kind: z.literal("switchover"),
    to: nodeName.default("replica").describe('The instance to promote, or "replica" for any healthy replica.'),
  })
  .describe("cnpg: a planned switchover, what `kubectl cnpg promote` does; waits until `to` is primary.");

export const action = byKind("action", [promoteAction, healAction, switchoverAction])
  .describe("What the operator (or pgdrill standing in for one) does.");

export const faultStep = z
  .strictObject({
    at: duration.describe("When, from the start of the drill."),
    fault,
    for: faultFor.optional().describe("Heal this fault automatically after this long; omitted: it stays until the drill ends or a heal action."),
  })
  .describe("A fault at a time.");
export const actionStep = z.strictObject({ at: duration.describe("When, from the start of the drill."), action }).describe("An action at a time.");
export const step = z.union([faultStep, actionStep], {
  error: () => 'each schedule entry needs "at" and exactly one of "fault" or "action"',
});

// ---- Scenario -------------------------------------------------------------------------------

const gateExpression = z.string().regex(GATE_EXPRESSION, {
  message: 'must be a comparison like ">= 0.99", "< 30000" or "== 0"',
});

// A record, not an object, so the gates keep the order they were written in (reports list them
// so); JSON Schema gets each metric as a property with its meaning.
export const gate = z
  .record(z.string(), gateExpression)
  .superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(GATE_METRICS, key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `unknown metric "${key}"`, params: { fix: unknownMetricFix(key) } });
      }
    }
  })
  .meta({
    propertyNames: { enum: GATE_METRIC_NAMES },
    properties: Object.fromEntries(
      GATE_METRIC_NAMES.map((metric) => [
        metric,
        { type: "string", pattern: GATE_EXPRESSION.source, description: GATE_METRICS[metric] },
      ]),
    ),
    additionalProperties: false,
  })
  .describe('Thresholds that decide the verdict: metric → comparison, e.g. { "failover.latencyMs": "< 30000" }. A metric that could not be measured never passes.') as unknown as z.ZodType<
  { [M in GateMetric]?: string },
  GateInput
>;

export const scenario = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, {
      message: "must be lower-case letters, digits, '.', '_' or '-' (it names the report folder)",
    })
    .describe("The scenario's name; it names the report folder."),
  description: z.string().optional().describe("What the drill shows, for `pgdrill list` and the reports."),
  target,
  probes: z.array(probe).min(1, { message: "needs at least one probe, e.g. select1" }).describe("Client operations run through the whole drill."),
  steadyState: z
    .strictObject({
      window: duration.default("2s").describe("How long the probes run before the first fault."),
      minAvailability: z.number().min(0).max(1).default(1).describe("The availability (0..1) the window must reach, else the drill aborts as errored."),
    })
    .default({ window: "2s", minAvailability: 1 })
    .describe("Checked before the first fault; a bad baseline aborts the drill as errored."),
  schedule: z.array(step).default([]).describe("Faults and actions at times from the start of the drill."),
  duration: duration.describe("Total length of the probing, steady-state window included."),
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
