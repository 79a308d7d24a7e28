/**
 * Who is primary: every node is asked directly, on its own schedule, whether it is in recovery and
 * on which timeline. The History then shows role changes, and two nodes answering as writable
 * primaries at once (split brain).
 */
import type { ProbeSpec } from "../scenario/schema.ts";
import { everyInterval, probeSettings, recordOperation, type Probe, type ProbeContext } from "./probe.ts";
import { Session, describeError } from "./session.ts";

type RoleSpec = Extract<ProbeSpec, { kind: "role" }>;

const ROLE_QUERY = "SELECT pg_is_in_recovery() AS recovery, (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline";

export function roleProbe(spec: RoleSpec): Probe {
  const { name, everyMs, timeoutMs, connectTimeoutMs } = probeSettings(spec);
  return {
    name,
    type: "role",
    async run(context: ProbeContext) {
      const loop = { everyMs, clock: context.clock, until: context.until, signal: context.signal };
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
                const result = await session.query<{ recovery: boolean; timeline: number }>(ROLE_QUERY, [], timeoutMs);
                const row = result.rows[0];
                return { outcome: "ok", value: { primary: row?.recovery === false, timeline: Number(row?.timeline ?? 0) } };
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
