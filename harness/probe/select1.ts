/**
 * The seed guide's availability loop, `SELECT 1` against the `rw` endpoint, at millisecond
 * resolution. `fresh` connects for every operation as the guide does; `held` keeps one
 * connection and reconnects after an error, as a pooled application would.
 */
import type { ProbeSpec } from "../scenario/schema.ts";
import { everyInterval, probeSettings, recordOperation, type Probe, type ProbeContext } from "./probe.ts";
import { Session, describeError } from "./session.ts";

type Select1Spec = Extract<ProbeSpec, { kind: "select1" }>;

export function select1Probe(spec: Select1Spec): Probe {
  const { name, everyMs, timeoutMs, connectTimeoutMs } = probeSettings(spec);
  return {
    name,
    type: "select1",
    async run(context: ProbeContext) {
      // The held connection outlives single operations; an object so closures can update it.
      const conn: { held: Session | null } = { held: null };
      await everyInterval({ everyMs, clock: context.clock, until: context.until, signal: context.signal }, async (op) => {
        const endpoint = context.topology.endpoint(spec.endpoint);
        const node = conn.held?.usable ? conn.held.endpoint.node : endpoint.node;
        await recordOperation(context, { probe: name, type: "select1", worker: 0, op, node }, async () => {
          let session = conn.held?.usable ? conn.held : null;
          try {
            session ??= await Session.connect(endpoint, {
              connectTimeoutMs,
              applicationName: `pgdrill-${name}`,
              statementTimeoutMs: timeoutMs,
            });
            await session.query("SELECT 1", [], timeoutMs);
            return { outcome: "ok", node: session.endpoint.node };
          } catch (error) {
            await session?.close();
            session = null;
            return { outcome: "fail", error: describeError(error) };
          } finally {
            if (spec.connection === "held") conn.held = session;
            else await session?.close();
          }
        });
      });
      await conn.held?.close();
    },
  };
}
