/** The probes' schemas: what a client operation repeated through the drill is. */
import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { byKind, duration } from "./schema-parts.ts";

const probeCommon = {
  name: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Name in the history and reports; defaults to the probe kind, with the driver after it when not node-postgres ("select1-libpq").',
    ),
  every: duration.default("100ms").describe("Interval between operation starts."),
  timeout: duration.default("1s").describe("Statement timeout; an operation past it is `info` (writes) or `fail` (reads)."),
  connectTimeout: duration.default("1s").describe("TCP connect + authentication timeout."),
};

// The probes whose availability is measured (role probes are not) may say how slow is too slow.
const slo = duration
  .optional()
  .describe(
    'Latency objective, e.g. "1s": an ok operation slower than this counts as unavailable for the time beyond it. Longer ' +
      "than 0 and at most `timeout`. Without it, an ok operation counts as served however long it took (at most connectTimeout " +
      "+ timeout).",
  );

/**
 * `slo` must be longer than 0 (every operation takes some time, so 0 would make every one a
 * stall) and at most `timeout` (an operation past its timeout fails, so a longer objective could
 * never be missed).
 */
function sloWithinTimeout(value: { slo?: unknown; timeout: unknown }, ctx: z.RefinementCtx): void {
  if (value.slo === undefined) return;
  const sloMs = parseDuration(value.slo);
  const timeoutMs = parseDuration(value.timeout);
  if (sloMs.ok && sloMs.ms === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["slo"],
      message: `must be longer than 0, got ${JSON.stringify(value.slo)}`,
      params: { fix: 'Give the latency a client can accept, e.g. slo: "1s", or omit slo to count every ok operation as served.' },
    });
  } else if (sloMs.ok && timeoutMs.ok && sloMs.ms > timeoutMs.ms) {
    ctx.addIssue({
      code: "custom",
      path: ["slo"],
      message: `must be at most the probe's timeout (${JSON.stringify(value.timeout)}), got ${JSON.stringify(value.slo)}`,
      params: { fix: "Lower slo, or raise timeout: an operation past its timeout fails, so a longer objective could never be missed." },
    });
  }
}

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
    recycle: duration
      .optional()
      .describe("A connection older than this is closed and replaced on its next checkout; default DATABASE_POOL_RECYCLE or 300 s."),
  })
  .optional()
  .describe('An application-style pool for connection: "pool".');

/** The client stacks a select1 or writes probe can run through; node-postgres runs in pgdrill's own process. */
export const DRIVERS = ["node-postgres", "libpq", "pgjdbc", "psycopg"] as const;
export type Driver = (typeof DRIVERS)[number];

// A driver agent (docs/drivers.md) runs the probe in the driver's own language with its own defaults.
const driverOptions = {
  driver: z
    .enum(DRIVERS)
    .default("node-postgres")
    .describe(
      "The client stack that runs the probe: node-postgres in pgdrill's process, or an agent in the driver's own language " +
        "(libpq in C, pgjdbc in Java, psycopg 3 in Python) with that driver's connection logic and defaults. See docs/drivers.md.",
    ),
  driverSettings: z
    .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe(
      "Passed to the driver untouched: libpq and psycopg conninfo keywords (keepalives: 1), pgjdbc connection properties " +
        "(targetServerType, socketTimeout). A setting the driver refuses fails the probe, naming it.",
    ),
};

/** A probe's name when the scenario gives none: its kind, and its driver when that is not node-postgres. */
export function defaultProbeName(kind: string, driver: string | undefined): string {
  return driver === undefined || driver === "node-postgres" ? kind : `${kind}-${driver}`;
}

/** The name a probe goes by in the History: its own, or the default. */
export function probeName(spec: { kind: string; name?: string | undefined; driver?: string | undefined }): string {
  return spec.name ?? defaultProbeName(spec.kind, spec.driver);
}

/**
 * libpq's target_session_attrs values (connection/endpoint.ts has the same list: the scenario schema
 * may not import the connection layer, and probe/every-node.ts checks that the two agree).
 */
export const SESSION_ATTRS = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const;

/** The endpoint that lists every node of the target as one libpq multi-host endpoint. */
export const EVERY_NODE = "every-node";

const targetSessionAttrs = z
  .enum(SESSION_ATTRS)
  .optional()
  .describe(
    `With endpoint "${EVERY_NODE}": libpq's target_session_attrs, which node of the list a connection settles on (hosts tried ` +
      'in node order); default "read-write". An endpoint target\'s connection string says it itself (target_session_attrs=…).',
  );

/** targetSessionAttrs applies only to the every-node endpoint: elsewhere nothing would read it. */
function sessionAttrsWithEveryNode(value: { endpoint: string; targetSessionAttrs?: unknown }, ctx: z.RefinementCtx): void {
  if (value.targetSessionAttrs === undefined || value.endpoint === EVERY_NODE) return;
  ctx.addIssue({
    code: "custom",
    path: ["targetSessionAttrs"],
    message: `applies only with endpoint "${EVERY_NODE}" (this probe's is "${value.endpoint}")`,
    params: {
      fix:
        `Set endpoint: "${EVERY_NODE}", or remove targetSessionAttrs; on the endpoint target, write target_session_attrs=… into ` +
        "the connection string.",
    },
  });
}

export const select1Probe = z
  .strictObject({
    kind: z.literal("select1"),
    ...probeCommon,
    slo,
    connection: connection("fresh"),
    pool: poolOption,
    ...driverOptions,
    endpoint: z
      .string()
      .min(1)
      .default("rw")
      .describe(
        'Which endpoint: "rw" follows the primary as the target repoints it; "ro", "pooler", a node name, or ' +
          `"${EVERY_NODE}": every node's own address as one libpq multi-host list (container pair, patroni, pg-auto-failover), no proxy.`,
      ),
    targetSessionAttrs,
  })
  .superRefine(sloWithinTimeout)
  .superRefine(sessionAttrsWithEveryNode)
  .describe("SELECT 1, repeated: can clients get an answer?");

export const writesProbe = z
  .strictObject({
    kind: z.literal("writes"),
    ...probeCommon,
    slo,
    connection: connection("held"),
    pool: poolOption,
    ...driverOptions,
    endpoint: z
      .enum(["rw", "pooler", EVERY_NODE])
      .default("rw")
      .describe(
        `"rw", "pooler" to write through the target's PgBouncer, or "${EVERY_NODE}": every node's own address as one libpq ` +
          "multi-host list with target_session_attrs (container pair, patroni, pg-auto-failover), as applications without a proxy do.",
      ),
    targetSessionAttrs,
  })
  .superRefine(sloWithinTimeout)
  .superRefine(sessionAttrsWithEveryNode)
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

export const probe = byKind("probe", [select1Probe, writesProbe, roleProbe]).describe(
  "A client operation, repeated by a worker through the drill.",
);
export type ProbeSpec = z.output<typeof probe>;
