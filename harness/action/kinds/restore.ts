/**
 * restore: bring the data back from the backup repository into fresh nodes, as the target's own
 * documented path does it (the pair: pgBackRest restore and a promotion, the seed guide's manual
 * path; Patroni: its custom bootstrap from the backup), then let clients back in. Done when the
 * restored primary accepts writes.
 */
import { z } from "zod";
import { withTimeout } from "../../deadline.ts";
import { toMs } from "../../duration.ts";
import { duration } from "../../scenario/schema-parts.ts";
import type { RestoreTo } from "../../targets/controls.ts";
import { defineAction } from "../define.ts";

// A pattern, not a JSON Schema "format": editors' validators (Ajv) refuse formats they were not given.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

const restoreTo = z
  .union([
    z.literal("latest").describe("Replay every archived WAL segment: what was not archived before the disaster is lost."),
    z
      .literal("before-disaster")
      .describe("Stop just before the disaster's transaction (a DROP or TRUNCATE, exclusive); data destroyed outright: latest."),
    z
      .strictObject({
        time: z
          .string()
          .regex(ISO_TIME, {
            message: 'must be an ISO 8601 time with its offset, e.g. "2026-12-07T22:15:00Z" or "2026-12-07T23:15:00+01:00"',
          })
          .describe("An ISO 8601 time with its offset, e.g. 2026-12-07T22:15:00Z."),
      })
      .describe("Stop at this time (recovery_target_time)."),
    z
      .strictObject({ beforeDisaster: duration.describe('How long before the disaster, e.g. "5s".') })
      .describe("Stop this long before the disaster (a time target): what was written in between is lost by choice."),
  ])
  .default("before-disaster");

export const restoreSchema = z
  .strictObject({
    kind: z.literal("restore"),
    to: restoreTo.describe('Where recovery stops: "latest", "before-disaster" (default), { time }, or { beforeDisaster }.'),
    replicas: z
      .boolean()
      .default(true)
      .describe("Rebuild the standbys from the restored primary as well (recorded as the restore's `replica` phase)."),
    timeout: duration.default("10m").describe("The longest the restore may take, to a primary that accepts writes."),
  })
  .describe(
    "Restore the cluster from the latest backup into fresh nodes, to a recovery target, and let clients back in. Needs target.backup.",
  );

export const restoreAction = defineAction({
  schema: restoreSchema,
  label: (spec) => `restore to ${describeTo(spec.to)}`,
  requires: "backup",
  async run(spec, use) {
    const to: RestoreTo =
      typeof spec.to === "object" && "beforeDisaster" in spec.to ? { beforeDisasterMs: toMs(spec.to.beforeDisaster) } : spec.to;
    return await withTimeout(use.control.restore({ to, replicas: spec.replicas }), "the restore", toMs(spec.timeout));
  },
});

function describeTo(to: z.output<typeof restoreTo>): string {
  if (typeof to === "string") return to === "latest" ? "latest" : "just before the disaster";
  return "time" in to ? to.time : `${String(to.beforeDisaster)} before the disaster`;
}

/** The public builder: `restore()`, `restore({ to: "latest" })`. */
export const restore = (options: Omit<z.input<typeof restoreSchema>, "kind"> = {}) => ({ kind: "restore" as const, ...options });
