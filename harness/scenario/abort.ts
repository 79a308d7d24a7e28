/**
 * The kill switch's conditions (`abortIf`), as a scenario writes them: stop conditions in the
 * manner of AWS FIS and Chaos Mesh. When one is breached while the drill runs, pgdrill heals every
 * fault at once, stops the schedule and ends the run aborted (run/abort.ts evaluates them live from
 * the operations as they are recorded, with checker/downtime.ts's windows).
 *
 * ```yaml
 * abortIf:
 *   downtimeLongerThan: 60s                                    # any client probe's current outage
 *   availabilityBelow: { ratio: 0.5, over: 10s, probe: writes } # share of time served, trailing window
 * ```
 */
import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { duration } from "./schema-parts.ts";

const availabilityBelow = z
  .strictObject({
    ratio: z
      .number({ error: "must be a share of time between 0 and 1, e.g. 0.5" })
      .gt(0, { message: "must be above 0 (a share of time served, 0..1): at 0 it could never be breached" })
      .max(1, { message: "must be at most 1 (a share of time served, 0..1), e.g. 0.5 for 50%" })
      .describe(
        "The floor: the drill aborts when the probe was served less than this share of the trailing window's time (0..1, as " +
          "availability.ratio).",
      ),
    over: duration.describe(
      'The trailing window the share is taken over, e.g. "10s". Judged once the probe has observed that long. Longer than 0.',
    ),
    probe: z
      .string()
      .min(1)
      .optional()
      .describe("The probe judged (its name); default the availability headline (the first select1 probe, else the writes probe)."),
  })
  .describe("Abort when a probe's share of time served over a trailing window falls below a floor.");

export const abortIf = z
  .strictObject({
    downtimeLongerThan: duration
      .optional()
      .describe(
        "Abort when any client probe (role probes excepted) has been down longer than this, as the downtime checker measures " +
          'a window (first failed invoke → last completion seen), e.g. "60s". Longer than 0.',
      ),
    availabilityBelow: availabilityBelow.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.downtimeLongerThan === undefined && value.availabilityBelow === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "names no condition",
        params: { fix: 'Give downtimeLongerThan (e.g. "60s") and/or availabilityBelow ({ ratio: 0.5, over: "10s" }), or remove abortIf.' },
      });
    }
    const positive = (path: Array<string>, written: unknown) => {
      const parsed = parseDuration(written);
      if (parsed.ok && parsed.ms <= 0) {
        ctx.addIssue({
          code: "custom",
          path,
          message: `must be longer than 0, got ${JSON.stringify(written)}`,
          params: { fix: 'Give a duration like "10s".' },
        });
      }
    };
    if (value.downtimeLongerThan !== undefined) positive(["downtimeLongerThan"], value.downtimeLongerThan);
    if (value.availabilityBelow !== undefined) positive(["availabilityBelow", "over"], value.availabilityBelow.over);
  })
  .optional()
  .describe(
    "The kill switch: stop conditions judged live while the drill runs. When one is breached, pgdrill heals every fault at " +
      "once, stops the schedule, records why and ends the run aborted (verdict errored), still writing every report. `pgdrill " +
      "stop <run-dir>` does the same by hand.",
  );

export type AbortIf = NonNullable<z.output<typeof abortIf>>;
