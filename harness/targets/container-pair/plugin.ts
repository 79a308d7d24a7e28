/**
 * The container pair's plugin: a primary and a streaming standby in containers, with pgdrill's
 * scripted promotion standing in for a failover manager (the seed guide's manual streaming
 * replication). Its runtime is pair.ts.
 */
import { z } from "zod";
import { backupOptions, backupsOff } from "../../scenario/backup.ts";
import { duration } from "../../scenario/schema-parts.ts";
import { definePlugin } from "../plugin.ts";
import { promoteAction } from "./actions/promote.ts";

export const CONTAINER_PAIR_NODES = ["primary", "standby"] as const;

export const containerPairTarget = z
  .strictObject({
    kind: z.literal("container-pair"),
    replication: z
      .enum(["async", "sync"])
      .default("async")
      .describe("async: commits do not wait for the standby; sync: synchronous_standby_names makes them wait."),
    image: z
      .string()
      .min(1)
      .optional()
      .describe("Image with PostgreSQL binaries (Debian layout). Default: PGDRILL_IMAGE, postgres:16, or the local build."),
    startupTimeout: duration.default("60s").describe("How long to wait for each node to accept connections."),
    pooler: z
      .strictObject({
        mode: z
          .enum(["transaction", "session"])
          .default("transaction")
          .describe("transaction: a server connection per transaction (the guide's choice); session: one per client."),
        image: z.string().min(1).optional().describe("Image with Debian's pgbouncer package; default: the PostgreSQL nodes' image."),
        poolSize: z.number().int().min(1).max(200).default(20).describe("Server connections per database/user pair (default_pool_size)."),
        settings: z
          .record(z.string().regex(/^[a-z_]+$/, { message: "must be a PgBouncer setting name (lower-case, '_')" }), z.string())
          .default({})
          .describe('Extra [pgbouncer] settings, e.g. { server_login_retry: "1" }; PgBouncer\'s defaults otherwise.'),
      })
      .optional()
      .describe(
        'PgBouncer in front of the primary, as the seed guide\'s Pooler: probes with endpoint "pooler" go through it, and a ' +
          "promotion repoints it (what the Pooler does when the rw service moves).",
      ),
    backup: backupOptions.optional(),
  })
  .describe("Two PostgreSQL containers, primary and standby, with streaming replication.");

export type ContainerPairTarget = z.output<typeof containerPairTarget>;

export const containerPairPlugin = definePlugin({
  kind: "container-pair",
  options: containerPairTarget,
  nodes: () => [...CONTAINER_PAIR_NODES],
  roles: [],
  capabilities: ["kill", "stop", "freeze", "network", "shaping", "promotion", "backup", "disaster"],
  unavailable: (spec, capability) => backupsOff(spec.backup, capability),
  faults: [],
  actions: [promoteAction],
  probeEndpoints: () => ["rw", ...CONTAINER_PAIR_NODES, "every-node"],
  hasPooler: (spec) => spec.pooler !== undefined,
  addPooler: 'Add "pooler: {}" to the target (PgBouncer in front of the primary), or use "rw".',
  // A killed container stays down: nothing restarts it.
  restartsNodes: false,
  onDocker: true,
  strategy: "Manual streaming replication",
});
