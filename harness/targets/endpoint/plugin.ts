/**
 * The endpoint plugin: an existing PostgreSQL endpoint (a managed service). pgdrill cannot fail it
 * over: faults are the user's own commands, and it writes only when allowed. Its runtime is
 * endpoint.ts.
 */
import { z } from "zod";
import { duration } from "../../scenario/schema-parts.ts";
import { definePlugin } from "../plugin.ts";

export const endpointTarget = z
  .strictObject({
    kind: z.literal("endpoint"),
    url: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The primary's connection string, as the application has it; default: DATABASE_URL. A libpq string: a URI " +
          "(postgresql://user:password@host1:5432,host2:5432/db?target_session_attrs=read-write) or keyword=value pairs; several " +
          "hosts, target_session_attrs, load_balance_hosts, connect_timeout (per host) and sslmode work as with libpq.",
      ),
    readReplicaUrl: z
      .union([z.string().min(1), z.literal(false)])
      .optional()
      .describe(
        'A read replica\'s connection string (a libpq URI or keyword=value pairs, several hosts too), probed as node "replica" ' +
          'and endpoint "ro"; default: DATABASE_READ_REPLICA_URL; false: no replica, whatever the environment says.',
      ),
    ssl: z
      .strictObject({
        ca: z.string().min(1).optional().describe("A CA bundle file to trust."),
        rejectUnauthorized: z.boolean().default(true).describe("false: accept any certificate."),
      })
      .optional()
      .describe("TLS beyond what the URL says: a CA bundle file to trust, or accept any certificate."),
    allowWrites: z
      .boolean()
      .default(false)
      .describe("The writes probe creates a table in a schema of its own and drops it after: say yes to that."),
    startupTimeout: duration.default("30s").describe("How long to wait for the endpoint to answer before the drill starts."),
  })
  .describe(
    "An existing PostgreSQL endpoint the application uses (a managed service: RDS Multi-AZ, Cloud SQL HA, Supabase); faults " +
      "are your own commands (`command` faults), e.g. the provider's CLI.",
  );

export type EndpointTarget = z.output<typeof endpointTarget>;

export const endpointPlugin = definePlugin({
  kind: "endpoint",
  options: endpointTarget,
  // "replica" only when a read replica URL is given; known for sure only when the drill starts.
  nodes: () => ["primary", "replica"],
  roles: [],
  // A managed service is failed over by its provider: only command faults, which need nothing.
  capabilities: [],
  faults: [],
  actions: [],
  probeEndpoints: () => ["rw", "ro", "primary", "replica"],
  restartsNodes: true,
  onDocker: false,
  strategy: null,
  check(spec, parts, report) {
    // An endpoint is someone's database: writes only when the scenario says so.
    const writes = parts.probes?.findIndex((probe) => probe?.kind === "writes") ?? -1;
    if (writes >= 0 && !spec.allowWrites) {
      report(
        ["target", "allowWrites"],
        `probes[${writes}] writes to the endpoint, which it may not`,
        "Set target.allowWrites: true to let pgdrill create its table in a schema of its own (pgdrill_<run id>, dropped " +
          "after the drill), or remove the writes probe to only observe.",
      );
    }
  },
});
