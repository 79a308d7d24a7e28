/**
 * Tracked writes: INSERTs of unique increasing ids through the `rw` endpoint. Every acknowledged
 * id is in the History; after the drill the final primary is read back and acknowledged ids that
 * are missing are lost writes. A write whose outcome is unknown (timed out, connection cut after
 * the statement was sent, a FATAL mid-commit) is `info`: it may or may not have committed, so it is
 * never counted as lost or as safe.
 */
import pg from "pg";
import { toRanges } from "../history/events.ts";
import type { ProbeSpec } from "../scenario/schema.ts";
import { roundMs } from "../clock.ts";
import type { StartedTopology } from "../targets/types.ts";
import { poolSettings } from "../connection/app-pool.ts";
import { connectionsFor, hostsOf, skippedOf } from "./connections.ts";
import { probeEndpoint } from "./every-node.ts";
import { everyInterval, probeSettings, recordOperation, type Probe, type ProbeContext } from "./probe.ts";
import { DeadlineError, describeError, errorFields, isServerError } from "../connection/errors.ts";
import { Session, type SessionOptions } from "../connection/session.ts";
import { SERVER_SQL, serverOf } from "./server.ts";

/** One tracked write, returning which server took it; the throughput bench runs it too. */
export function insertSql(table: string): string {
  return `INSERT INTO ${table} (probe, id) VALUES ($1, $2) RETURNING ${SERVER_SQL} AS server`;
}

type WritesSpec = Extract<ProbeSpec, { kind: "writes" }>;

/** The writes table on targets pgdrill made itself; an endpoint gives a schema of its own per run. */
export const WRITES_TABLE = "pgdrill.writes";

export function writesTable(topology: StartedTopology): string {
  return topology.drillSchema ? `${pg.escapeIdentifier(topology.drillSchema)}.writes` : WRITES_TABLE;
}

/** How long the final read keeps trying to reach the final primary. */
const FINAL_READ_WINDOW_MS = 15_000;

export function writesProbe(spec: WritesSpec): Probe {
  const { name, everyMs, timeoutMs, connectTimeoutMs } = probeSettings(spec);
  // Read now, before the drill starts: a malformed DATABASE_POOL_* is bad input, not a broken run.
  const pool = spec.connection === "pool" ? poolSettings(spec.pool) : undefined;
  const sessionOptions = { connectTimeoutMs, applicationName: `pgdrill-${name}` };
  return {
    name,
    type: "write",
    prepare: (topology) => createWritesTable(topology, sessionOptions),
    async run(context: ProbeContext) {
      const table = writesTable(context.topology);
      const connections = connectionsFor(spec.connection, probeEndpoint(context.topology, spec), sessionOptions, pool);
      await connections.start();
      await everyInterval({ everyMs, clock: context.clock, until: context.until, signal: context.signal }, async (op) => {
        const id = op + 1;
        await recordOperation(context, { probe: name, type: "write", worker: 0, op, node: connections.nextNode(), value: id }, async () => {
          let session: Session;
          try {
            session = await connections.acquire();
          } catch (error) {
            // Never reached the server: definitely not written.
            return { outcome: "fail", ...errorFields(error), ...skippedOf(error) };
          }
          try {
            // No server-side statement_timeout: cancelling a synchronous-replication wait still
            // commits locally and reports success, which would turn a timeout into a false ack.
            const result = await session.query<{ server: string }>(insertSql(table), [name, id], timeoutMs);
            const warning = session.notices.find((notice) => /synchronous replication/i.test(notice.message));
            await connections.finish(session, false);
            const server = serverOf(result.rows[0]);
            return {
              outcome: "ok",
              node: session.endpoint.node,
              ...(server ? { server } : {}),
              ...(warning ? { error: `WARNING ${warning.message}` } : {}),
              ...hostsOf(session),
            };
          } catch (error) {
            await connections.finish(session, true);
            return { outcome: writeOutcome(error), node: session.endpoint.node, ...errorFields(error), ...hostsOf(session) };
          }
        });
      });
      await connections.close();
    },
    finalRead: (context) => finalReadOf(name, context, sessionOptions),
  };
}

/** Before the drill, on the primary: the writes table every writes probe (any driver) inserts into, by probe name. */
export async function createWritesTable(topology: StartedTopology, sessionOptions: SessionOptions): Promise<void> {
  const session = await Session.connect(topology.endpoint("rw"), { ...sessionOptions, connectTimeoutMs: 5000 });
  try {
    // The endpoint target made (and owns) its schema; on targets pgdrill made, the schema is ours.
    if (!topology.drillSchema) await session.query("CREATE SCHEMA IF NOT EXISTS pgdrill", [], 10_000);
    // written_at is the server's own record of when each write committed (for precision benchmarks).
    await session.query(
      `CREATE TABLE IF NOT EXISTS ${writesTable(topology)} (
         probe text NOT NULL, id bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
         PRIMARY KEY (probe, id))`,
      [],
      10_000,
    );
  } finally {
    await session.close();
  }
}

/**
 * After the heal: the ids probe `name` finds on the final primary, as a final-read event. Lost-write
 * accounting (checker/writes.ts) compares them with the acknowledged writes, whichever driver wrote them.
 */
export async function finalReadOf(name: string, context: Omit<ProbeContext, "until">, sessionOptions: SessionOptions): Promise<void> {
  const { topology, history, clock } = context;
  const deadline = clock.now() + FINAL_READ_WINDOW_MS;
  let lastError = "not attempted";
  let node = topology.rwNode;
  while (clock.now() < deadline) {
    const endpoint = topology.endpoint("rw");
    node = endpoint.node;
    try {
      const session = await Session.connect(endpoint, { ...sessionOptions, connectTimeoutMs: 2000 });
      try {
        const result = await session.query<{ id: string }>(
          `SELECT id FROM ${writesTable(topology)} WHERE probe = $1 ORDER BY id`,
          [name],
          10_000,
        );
        const ids = result.rows.map((row) => Number(row.id));
        history.append({
          kind: "final-read",
          t: roundMs(clock.now()),
          probe: name,
          node,
          ok: true,
          ranges: toRanges(ids),
          count: ids.length,
        });
        return;
      } finally {
        await session.close();
      }
    } catch (error) {
      lastError = describeError(error);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  history.append({ kind: "final-read", t: roundMs(clock.now()), probe: name, node, ok: false, ranges: [], count: 0, error: lastError });
}

/**
 * PgBouncer's refusals before it hands the query to any server: the write cannot have run. (Its
 * "server conn crashed?" can follow a sent query, so it stays unknown.)
 */
const POOLER_REFUSALS =
  /server login has been failing|pgbouncer cannot connect to server|no more connections allowed|query_wait_timeout|client_login_timeout/;

/**
 * An ERROR from the server means the statement was refused and its transaction rolled back: fail.
 * FATAL/PANIC (the backend died, possibly after committing) and anything after the statement was
 * sent without an answer (deadline, reset) are unknown: info.
 */
export function writeOutcome(error: unknown): "fail" | "info" {
  if (isServerError(error) && POOLER_REFUSALS.test(error.message)) return "fail";
  if (isServerError(error)) return error.severity === "ERROR" ? "fail" : "info";
  if (error instanceof DeadlineError) return error.afterSend ? "info" : "fail";
  return "info";
}
