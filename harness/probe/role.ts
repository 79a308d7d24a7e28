/**
 * Who is primary: every node is asked directly, on its own schedule, whether it is in recovery,
 * whether it accepts writes, and on which timeline. The History then shows role changes, and two
 * nodes answering as writable primaries at once (split brain). Out of recovery is not writable yet:
 * pg_auto_failover keeps a promoted node `default_transaction_read_only = on` for up to its demote
 * timeout, so the probe reads `transaction_read_only` too (a fresh session takes the default).
 */
import type { ProbeSpec } from "../scenario/schema.ts";
import { everyInterval, probeSettings, recordOperation, type Probe, type ProbeContext } from "./probe.ts";
import { describeError, isServerError } from "../connection/errors.ts";
import { Session } from "../connection/session.ts";
import { SERVER_SQL } from "./server.ts";

type RoleSpec = Extract<ProbeSpec, { kind: "role" }>;

const SERVER = `${SERVER_SQL} AS server`;
/** Any user may read these; `in_hot_standby` exists from PostgreSQL 14 (NULL before, with missing_ok). */
const WRITABILITY = `current_setting('transaction_read_only') AS read_only, current_setting('in_hot_standby', true) AS hot_standby`;
/** Timeline and system identifier need pg_control_*() rights, which a managed service's user may lack. */
const FULL_QUERY =
  `SELECT pg_is_in_recovery() AS recovery, ${WRITABILITY}, ${SERVER}, (SELECT timeline_id FROM pg_control_checkpoint()) AS ` +
  `timeline, (SELECT system_identifier::text FROM pg_control_system()) AS system_id`;
const BASIC_QUERY = `SELECT pg_is_in_recovery() AS recovery, ${WRITABILITY}, ${SERVER}, NULL::int AS timeline, NULL::text AS system_id`;
const INSUFFICIENT_PRIVILEGE = "42501";

interface RoleRow {
  recovery: boolean;
  /** "on" or "off". */
  read_only: string;
  /** "on" or "off"; null before PostgreSQL 14. */
  hot_standby: string | null;
  server: string;
  timeline: number | null;
  system_id: string | null;
}

export function roleProbe(spec: RoleSpec): Probe {
  const { name, everyMs, timeoutMs, connectTimeoutMs } = probeSettings(spec);
  return {
    name,
    type: "role",
    async run(context: ProbeContext) {
      const loop = { everyMs, clock: context.clock, until: context.until, signal: context.signal };
      // Once a node refuses pg_control_*(), ask it only what any user may.
      const basic = new Set<string>();
      await Promise.all(
        context.topology.nodes.map((node, worker) =>
          everyInterval(loop, (op) =>
            recordOperation(context, { probe: name, type: "role", worker, op, node }, async () => {
              let session: Session | null = null;
              try {
                session = await Session.connect(context.topology.endpoint(node), {
                  connectTimeoutMs,
                  applicationName: `pgdrill-${name}`,
                  statementTimeoutMs: timeoutMs,
                });
                let row: RoleRow | undefined;
                try {
                  row = (await session.query<RoleRow>(basic.has(node) ? BASIC_QUERY : FULL_QUERY, [], timeoutMs)).rows[0];
                } catch (error) {
                  if (!(isServerError(error) && error.code === INSUFFICIENT_PRIVILEGE)) throw error;
                  basic.add(node);
                  row = (await session.query<RoleRow>(BASIC_QUERY, [], timeoutMs)).rows[0];
                }
                if (!row) return { outcome: "fail", error: "the role query returned no row" };
                return {
                  outcome: "ok",
                  value: {
                    primary: row.recovery === false,
                    writable: row.recovery === false && row.read_only === "off" && row.hot_standby !== "on",
                    timeline: row.timeline === null ? null : Number(row.timeline),
                    server: row.server,
                    ...(row.system_id ? { systemId: row.system_id } : {}),
                  },
                };
              } catch (error) {
                return { outcome: "fail", error: describeError(error) };
              } finally {
                await session?.close();
              }
            }),
          ),
        ),
      );
    },
  };
}
