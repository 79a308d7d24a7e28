/**
 * The seed guide's availability loop, `SELECT 1` against the `rw` endpoint, at millisecond
 * resolution. `fresh` connects for every operation as the guide does; `held` keeps one
 * connection and reconnects after an error; `pool` borrows from an application-style pool.
 */
import type { ProbeSpec } from "../scenario/schema.ts";
import { everyInterval, probeSettings, recordOperation, type Probe, type ProbeContext } from "./probe.ts";
import { poolSettings } from "../connection/app-pool.ts";
import { connectionsFor, hostsOf, skippedOf } from "./connections.ts";
import { probeEndpoint } from "./every-node.ts";
import { errorFields } from "../connection/errors.ts";
import type { Session } from "../connection/session.ts";
import { SERVER_SQL, serverOf } from "./server.ts";

/** SELECT 1, and which server answered it (one round trip, as before); the throughput bench runs it too. */
export const SELECT_1_SQL = `SELECT 1 AS one, ${SERVER_SQL} AS server`;

type Select1Spec = Extract<ProbeSpec, { kind: "select1" }>;

export function select1Probe(spec: Select1Spec): Probe {
  const { name, everyMs, timeoutMs, connectTimeoutMs } = probeSettings(spec);
  // Read now, before the drill starts: a malformed DATABASE_POOL_* is bad input, not a broken run.
  const pool = spec.connection === "pool" ? poolSettings(spec.pool) : undefined;
  return {
    name,
    type: "select1",
    async run(context: ProbeContext) {
      const options = { connectTimeoutMs, applicationName: `pgdrill-${name}`, statementTimeoutMs: timeoutMs };
      const connections = connectionsFor(spec.connection, probeEndpoint(context.topology, spec), options, pool);
      await connections.start();
      await everyInterval({ everyMs, clock: context.clock, until: context.until, signal: context.signal }, async (op) => {
        await recordOperation(context, { probe: name, type: "select1", worker: 0, op, node: connections.nextNode() }, async () => {
          let session: Session;
          try {
            session = await connections.acquire();
          } catch (error) {
            return { outcome: "fail", ...errorFields(error), ...skippedOf(error) };
          }
          try {
            const result = await session.query<{ server: string }>(SELECT_1_SQL, [], timeoutMs);
            await connections.finish(session, false);
            const server = serverOf(result.rows[0]);
            return { outcome: "ok", node: session.endpoint.node, ...(server ? { server } : {}), ...hostsOf(session) };
          } catch (error) {
            await connections.finish(session, true);
            return { outcome: "fail", node: session.endpoint.node, ...errorFields(error), ...hostsOf(session) };
          }
        });
      });
      await connections.close();
    },
  };
}
