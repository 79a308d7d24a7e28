/** The schedule's schemas: faults, actions, and the steps that place them in time. */
import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { byKind, duration, faultFor, nodeName } from "./schema-parts.ts";

export const killFault = z.strictObject({ kind: z.literal("kill"), node: nodeName.describe("The node to SIGKILL.") }).describe("SIGKILL a node's PostgreSQL.");
export const stopFault = z
  .strictObject({
    kind: z.literal("stop"),
    node: nodeName.describe("The node to stop."),
    mode: z.enum(["smart", "fast", "immediate"]).default("fast").describe("PostgreSQL shutdown mode; fast is what `docker stop` with a sane stop signal does."),
  })
  .describe("Shut a node's PostgreSQL down.");
export const pauseFault = z.strictObject({ kind: z.literal("pause"), node: nodeName.describe("The node to freeze.") }).describe("Freeze a node (docker pause) until healed.");
export const partitionFault = z
  .strictObject({
    kind: z.literal("partition"),
    isolate: nodeName.optional().describe("Cut one node off from everything, clients included."),
    between: z.tuple([nodeName, nodeName]).optional().describe("Cut two nodes off from each other only; clients still reach both."),
    oneWay: z.boolean().default(false).describe("With `between: [a, b]`: drop only what b sends to a."),
  })
  .superRefine((value, ctx) => {
    if ((value.isolate === undefined) === (value.between === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: 'give exactly one of "isolate: <node>" or "between: [<node>, <node>]"',
      });
    }
    if (value.between && value.between[0] === value.between[1]) {
      ctx.addIssue({ code: "custom", path: ["between"], message: "must name two different nodes" });
    }
    if (value.oneWay && value.isolate !== undefined) {
      ctx.addIssue({ code: "custom", path: ["oneWay"], message: 'only applies with "between"' });
    }
  })
  // The refinement's first rule, for editors.
  .meta({ oneOf: [{ required: ["isolate"] }, { required: ["between"] }] })
  .describe("Cut nodes off the network: one from everything (isolate), or two from each other (between).");

// An HA manager's node runs two processes that fail apart: PostgreSQL, and the manager that keeps it.
const managedProcess = z
  .enum(["postgres", "ha-manager"])
  .describe('"postgres": PostgreSQL\'s postmaster (the HA manager restarts it: crash recovery, no failover); "ha-manager": the HA manager itself (Patroni), the database running on unmanaged.');
export const killProcessFault = z
  .strictObject({ kind: z.literal("kill-process"), node: nodeName.describe("The node whose process is SIGKILLed."), process: managedProcess })
  .describe("SIGKILL one process of a node, not the node: PostgreSQL alone, or the HA manager alone. Healed: a killed HA manager is started again.");
export const pauseProcessFault = z
  .strictObject({ kind: z.literal("pause-process"), node: nodeName.describe("The node whose process is frozen."), process: managedProcess })
  .describe("SIGSTOP one process of a node until healed (SIGCONT): a hung HA manager, or a hung postmaster.");
export const dcsOutageFault = z
  .strictObject({
    kind: z.literal("dcs-outage"),
    members: z.enum(["majority", "all"]).default("majority").describe("Which DCS members go down: a majority (the DCS loses quorum), or all of them."),
  })
  .describe("Kill DCS members (etcd): the HA manager loses its leader key's store. Healed: they are started again.");
export const dcsPartitionFault = z
  .strictObject({ kind: z.literal("dcs-partition"), node: nodeName.describe("The node cut off from every DCS member; clients and the other nodes still reach it.") })
  .describe("Cut a node off from the DCS only (etcd), until healed: it can no longer renew or read the leader key.");

export const deletePodFault = z
  .strictObject({
    kind: z.literal("delete-pod"),
    node: nodeName.describe('The instance whose pod is deleted, "primary", "replica" or "operator".'),
    grace: duration.optional().describe("Grace period; omitted: the pod's own (CloudNativePG's stopDelay)."),
  })
  .describe("cnpg: delete a pod the way `kubectl delete pod` does, with its own or a given grace period.");
export const nodeDownFault = z
  .strictObject({ kind: z.literal("node-down"), node: nodeName.describe('The instance whose Kubernetes node goes down, "primary" or "replica".') })
  .describe("cnpg: the Kubernetes node hosting an instance goes down at once, as a crashed machine does (its kind node container killed), with every pod on it; healed: the node is started again and rejoins. Kubernetes' node grace period, not the operator, sets the pace.");
export const fenceFault = z
  .strictObject({ kind: z.literal("fence"), node: nodeName.describe('The instance to fence, "primary" or "replica".') })
  .describe("cnpg: fence an instance (cnpg.io/fencedInstances): PostgreSQL stops, the pod stays.");

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
export const netemFault = z
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
    for (const [field, parsed] of [["delay", delayMs], ["jitter", jitterMs]] as const) {
      if (parsed.ok && parsed.ms > NETEM_LIMITS.maxDelayMs) {
        ctx.addIssue({ code: "custom", path: [field], message: `must be at most 1m, got ${JSON.stringify(value[field])}`, params: { fix: "A delay past a minute is an outage: use a partition fault for that." } });
      }
    }
    const kbit = value.rate === undefined ? undefined : rateKbit(value.rate);
    if (kbit !== undefined && kbit > NETEM_LIMITS.maxRateKbit) {
      ctx.addIssue({ code: "custom", path: ["rate"], message: `must be at most 100gbit, got ${JSON.stringify(value.rate)}`, params: { fix: 'Cap it lower, e.g. "1gbit", or drop rate.' } });
    }
    if (delayMs.ok && jitterMs.ok && jitterMs.ms > delayMs.ms) {
      ctx.addIssue({ code: "custom", path: ["jitter"], message: `must be at most the delay (${JSON.stringify(value.delay)}), got ${JSON.stringify(value.jitter)}`, params: { fix: "Lower jitter, or raise delay: a packet cannot leave before it was sent." } });
    }
    if (delayMs.ok && delayMs.ms === 0 && value.loss === 0 && value.rate === undefined) {
      ctx.addIssue({ code: "custom", message: "slows nothing down: give a delay, a loss or a rate", params: { fix: 'Add e.g. delay: "100ms", loss: 5 or rate: "1mbit".' } });
    }
  })
  .describe("Slow a node's network down: delay (with jitter), loss and a bandwidth cap on what it sends (tc netem in its network namespace), until healed.");

// Chaos Toolkit's process action. Its output goes into the History, with secrets masked.
export const commandFault = z
  .strictObject({
    kind: z.literal("command"),
    run: z.string().min(1).describe('Shell command (bash) that injects, e.g. "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover".'),
    heal: z.string().min(1).optional().describe("Shell command that undoes it, run when `for` ends or the drill ends."),
    timeout: duration.default("5m").describe("The command is killed and the step fails after this long."),
    label: z.string().min(1).optional().describe("Name in the History and reports; default: the command's first words."),
  })
  .describe("Your own command as the fault: a provider's failover CLI, a script.");

export const fault = byKind("fault", [killFault, stopFault, pauseFault, partitionFault, killProcessFault, pauseProcessFault, dcsOutageFault, dcsPartitionFault, deletePodFault, fenceFault, nodeDownFault, netemFault, commandFault])
  .describe("What goes wrong, and on which node.");

export const promoteAction = z
  .strictObject({
    kind: z.literal("promote"),
    node: nodeName.describe("The standby to promote."),
    after: duration.default(0).describe("Detection delay before promoting, as a failure detector would take."),
  })
  .describe("Promote a standby to primary (what a failover manager does); clients follow the new primary.");
export const healAction = z.strictObject({ kind: z.literal("heal") }).describe("Heal every fault still active.");
export const switchoverAction = z
  .strictObject({
    kind: z.literal("switchover"),
    to: nodeName.default("replica").describe('The instance to promote, or "replica" for any healthy replica.'),
  })
  .describe("A planned switchover through the HA system (cnpg: `kubectl cnpg promote`; patroni: `patronictl switchover`); waits until `to` is primary.");
export const failoverAction = z
  .strictObject({
    kind: z.literal("failover"),
    to: nodeName.describe("The replica to make primary."),
  })
  .describe("A manual failover through the HA manager (patroni: what `patronictl failover --candidate` does, POST /failover): unlike a switchover it needs no healthy leader; waits until `to` is primary.");
export const maintenanceAction = z
  .strictObject({
    kind: z.literal("maintenance"),
    mode: z.enum(["pause", "resume"]).describe("pause: the HA manager stops acting (no failover, whatever happens); resume: it acts again."),
  })
  .describe("Maintenance mode of the HA manager (patroni: `patronictl pause` / `resume`).");

export const action = byKind("action", [promoteAction, healAction, switchoverAction, failoverAction, maintenanceAction])
  .describe("What the operator (or pgdrill standing in for one) does.");

export const faultStep = z
  .strictObject({
    at: duration.describe("When, from the start of the drill."),
    fault,
    for: faultFor.optional().describe("Heal this fault automatically after this long; omitted: it stays until the drill ends or a heal action."),
  })
  .describe("A fault at a time.");
export const actionStep = z.strictObject({ at: duration.describe("When, from the start of the drill."), action }).describe("An action at a time.");
// A game day's step: a person does it (schedule/manual.ts shows `say`, waits for a confirmation,
// and records the confirmation as the fault's start).
export const manual = z
  .strictObject({
    say: z.string().trim().min(1, { message: 'must say what the operator is to do, e.g. "Run: kubectl delete pod db-1"' }).max(500).describe('The instruction shown to the operator, e.g. "Run: kubectl delete pod db-1".'),
    timeout: duration.default("5m").describe("How long to wait for the confirmation; past it the step is recorded as not done (no fault) and the drill goes on."),
  })
  .describe("What a person is to do at this point.");
export const manualStep = z
  .strictObject({ at: duration.describe("When, from the start of the drill, the instruction is shown."), manual })
  .describe("A manual step (game day): the drill shows `say`, waits for the operator's confirmation (Enter, or `pgdrill confirm`), and records it as a fault of kind \"manual\" injected then.");
export const step = z.union([faultStep, actionStep, manualStep], {
  error: () => 'each schedule entry needs "at" and exactly one of "fault", "action" or "manual"',
});

export type FaultSpec = z.output<typeof fault>;
export type ActionSpec = z.output<typeof action>;
export type StepSpec = z.output<typeof step>;
export type ManualSpec = z.output<typeof manual>;
