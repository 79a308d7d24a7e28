/** netem: slow a node's outbound network (delay ± jitter, loss, a rate cap) until healed. */
import { z } from "zod";
import { parseDuration, toMs } from "../../duration.ts";
import { duration, nodeName } from "../../scenario/schema-parts.ts";
import type { Shaping } from "../../targets/controls.ts";
import { defineFault } from "../define.ts";

/**
 * What a netem may ask for. A delay past a minute is an outage (use a partition), and no link
 * pgdrill drills is faster than 100 gbit/s; the shaping code holds to the same bounds.
 */
export const NETEM_LIMITS = { maxDelayMs: 60_000, maxRateKbit: 100_000_000 } as const;
const RATE_UNITS_KBIT = { kbit: 1, mbit: 1000, gbit: 1_000_000 } as const;
const RATE = /^([1-9]\d*)(kbit|mbit|gbit)$/;

/** "10mbit" → 10000 (kbit/s); undefined for text that is not a bandwidth. */
export function rateKbit(rate: string): number | undefined {
  const match = RATE.exec(rate);
  return match ? Number(match[1]) * RATE_UNITS_KBIT[match[2] as keyof typeof RATE_UNITS_KBIT] : undefined;
}

// tc's netem, as Pumba and Chaos Mesh offer it: the network a node sends on gets slower or lossy.
export const netemSchema = z
  .strictObject({
    kind: z.literal("netem"),
    node: nodeName.describe("The node whose outbound traffic is delayed, dropped or throttled (to clients and peers alike)."),
    delay: duration.default(0).describe('Added to every packet the node sends, e.g. "100ms".'),
    jitter: duration.default(0).describe("Each packet's delay varies by up to this much either way (uniform); at most `delay`."),
    loss: z
      .number({ message: "must be a percentage from 0 to 100, e.g. 5" })
      .min(0, { message: "must be a percentage from 0 to 100, e.g. 5" })
      .max(100, { message: "must be a percentage from 0 to 100, e.g. 5 (100 drops everything: a partition does that more plainly)" })
      .default(0)
      .describe("Percent of the node's outbound packets dropped, 0 to 100."),
    rate: z
      .string()
      .regex(RATE, { message: 'must be a bandwidth like "500kbit", "10mbit" or "1gbit"' })
      .optional()
      .describe('A cap on the node\'s outbound bandwidth, e.g. "10mbit".'),
  })
  .superRefine((value, ctx) => {
    const delayMs = parseDuration(value.delay);
    const jitterMs = parseDuration(value.jitter);
    for (const [field, parsed] of [
      ["delay", delayMs],
      ["jitter", jitterMs],
    ] as const) {
      if (parsed.ok && parsed.ms > NETEM_LIMITS.maxDelayMs) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `must be at most 1m, got ${JSON.stringify(value[field])}`,
          params: { fix: "A delay past a minute is an outage: use a partition fault for that." },
        });
      }
    }
    const kbit = value.rate === undefined ? undefined : rateKbit(value.rate);
    if (kbit !== undefined && kbit > NETEM_LIMITS.maxRateKbit) {
      ctx.addIssue({
        code: "custom",
        path: ["rate"],
        message: `must be at most 100gbit, got ${JSON.stringify(value.rate)}`,
        params: { fix: 'Cap it lower, e.g. "1gbit", or drop rate.' },
      });
    }
    if (delayMs.ok && jitterMs.ok && jitterMs.ms > delayMs.ms) {
      ctx.addIssue({
        code: "custom",
        path: ["jitter"],
        message: `must be at most the delay (${JSON.stringify(value.delay)}), got ${JSON.stringify(value.jitter)}`,
        params: { fix: "Lower jitter, or raise delay: a packet cannot leave before it was sent." },
      });
    }
    if (delayMs.ok && delayMs.ms === 0 && value.loss === 0 && value.rate === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "slows nothing down: give a delay, a loss or a rate",
        params: { fix: 'Add e.g. delay: "100ms", loss: 5 or rate: "1mbit".' },
      });
    }
  })
  .describe(
    "Slow a node's network down: delay (with jitter), loss and a bandwidth cap on what it sends (tc netem in its network " +
      "namespace), until healed.",
  );

export const netemFault = defineFault({
  schema: netemSchema,
  label: (spec) => `netem ${spec.node} (${netemParts(spec)})`,
  color: "#17becf",
  requires: "shaping",
  nodes: ["node"],
  feasibility: { holds: { kind: "shaping" }, verb: "slow down" },
  // Resolves with how it was done (netem, or pgdrill's delayer where the kernel has none), for the History.
  inject: (spec, { control }) => control.shape(spec.node, shapingOf(spec)),
  heal: (spec, { control }) => control.unshape(spec.node),
});

export type NetemSpec = z.output<typeof netemSchema>;

/** The scenario's netem fault as the numbers a target's shaping takes. */
export function shapingOf(spec: NetemSpec): Shaping {
  const rate = spec.rate === undefined ? undefined : rateKbit(spec.rate);
  return { delayMs: toMs(spec.delay), jitterMs: toMs(spec.jitter), lossPercent: spec.loss, rateKbit: rate };
}

/** "delay 100 ms ± 10 ms, loss 5%, rate 1mbit": only what the fault sets. */
function netemParts(spec: NetemSpec): string {
  const delay = toMs(spec.delay);
  const jitter = toMs(spec.jitter);
  const parts = [
    ...(delay > 0 ? [`delay ${delay} ms${jitter > 0 ? ` ± ${jitter} ms` : ""}`] : []),
    ...(spec.loss > 0 ? [`loss ${spec.loss}%`] : []),
    ...(spec.rate !== undefined ? [`rate ${spec.rate}`] : []),
  ];
  return parts.join(", ");
}

/** The public builder: slow a node's outbound network: delay (± jitter), loss in percent, a bandwidth cap; healed by `for` or a heal. */
export const netem = (node: string, options: Omit<z.input<typeof netemSchema>, "kind" | "node">) => ({
  kind: "netem" as const,
  node,
  ...options,
});
