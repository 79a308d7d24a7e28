/**
 * What each fault kind looks like, apart from what it does: its label, its chart colour, and
 * whether it has a heal (a fault without one, like kill, is an instant: drawn as a rule, not an
 * interval). Pure data and string functions with no runtime imports beyond durations, so the
 * reports draw faults without loading the fault runtime (faults.ts, and zx through it). faults.ts
 * builds each package from its entry here, and its types make the heal agree with `heals`.
 */
import { toMs } from "../duration.ts";
import type { FaultSpec } from "../scenario/steps.ts";
import type { Capability } from "../targets/plugin.ts";
import { targetPlugin } from "../targets/registry.ts";

export type FaultKind = FaultSpec["kind"];
export type FaultSpecOf<K extends FaultKind> = Extract<FaultSpec, { kind: K }>;

export interface FaultDisplay<S extends FaultSpec> {
  /** `target` is the target kind: the same fault is done differently on each (SIGKILL vs pod delete). */
  label(spec: S, target?: string): string;
  /** For charts and reports. */
  color: string;
  /** false: nothing to undo (a killed node stays down until something restarts it). */
  heals: boolean;
  /** What the target must be able to do; null: nothing of the target's (a command fault). Validation refuses the rest. */
  requires: Capability | null;
}

/** The colour of a fault kind pgdrill does not know (a History from elsewhere). */
export const UNKNOWN_FAULT_COLOR = "#7f7f7f";

// In this order, what a target can do is listed in its "cannot do" messages.
export const FAULT_CATALOG = {
  kill: {
    label: (spec, target) => `kill ${spec.node} (${(target === undefined ? undefined : targetPlugin(target)?.killedBy) ?? "SIGKILL"})`,
    color: "#d62728",
    heals: false,
    requires: "kill",
  },
  "delete-pod": {
    label: (spec) => `delete pod ${spec.node}${spec.grace === undefined ? "" : ` (grace ${toMs(spec.grace) / 1000} s)`}`,
    color: "#e377c2",
    heals: false,
    requires: "pods",
  },
  stop: {
    label: (spec) => `stop ${spec.node} (${spec.mode} shutdown)`,
    color: "#ff7f0e",
    heals: false,
    requires: "stop",
  },
  pause: {
    label: (spec) => `pause ${spec.node}`,
    color: "#9467bd",
    heals: true,
    requires: "freeze",
  },
  partition: {
    label: (spec) =>
      spec.isolate !== undefined
        ? `isolate ${spec.isolate}`
        : `partition ${spec.between![0]} ${spec.oneWay ? "←" : "↔"} ${spec.between![1]}${spec.oneWay ? " (one-way)" : ""}`,
    color: "#1f77b4",
    heals: true,
    requires: "network",
  },
  "kill-process": {
    label: (spec) => `kill ${spec.process === "postgres" ? "PostgreSQL" : "the HA manager"} on ${spec.node} (SIGKILL)`,
    color: "#bcbd22",
    // A killed HA manager is started again; a killed PostgreSQL is its manager's to restart.
    heals: true,
    requires: "processes",
  },
  "pause-process": {
    label: (spec) => `freeze ${spec.process === "postgres" ? "PostgreSQL" : "the HA manager"} on ${spec.node} (SIGSTOP)`,
    color: "#aec7e8",
    heals: true,
    requires: "processes",
  },
  "dcs-outage": {
    label: (spec) => `DCS down (${spec.members === "all" ? "every member" : "a majority of members"} killed)`,
    color: "#393b79",
    heals: true,
    requires: "dcs",
  },
  "dcs-partition": {
    label: (spec) => `cut ${spec.node} from the DCS`,
    color: "#6b6ecf",
    heals: true,
    requires: "dcs",
  },
  fence: {
    label: (spec) => `fence ${spec.node}`,
    color: "#8c564b",
    heals: true,
    requires: "fencing",
  },
  "node-down": {
    label: (spec) => `node of ${spec.node} down`,
    color: "#5b3a29",
    heals: true,
    requires: "hosts",
  },
  netem: {
    label: (spec) => `netem ${spec.node} (${netemParts(spec)})`,
    color: "#17becf",
    heals: true,
    requires: "shaping",
  },
  command: {
    label: (spec) => spec.label ?? commandLabel(spec.run),
    color: UNKNOWN_FAULT_COLOR,
    // Its heal runs the scenario's `heal` command, when it has one.
    heals: true,
    requires: null,
  },
} as const satisfies { [K in FaultKind]: FaultDisplay<FaultSpecOf<K>> };

export type FaultCatalog = typeof FAULT_CATALOG;

/** The catalog entry of a fault kind as the History names it, or undefined for a kind pgdrill does not know. */
export function faultDisplay(kind: string): FaultDisplay<FaultSpec> | undefined {
  return Object.hasOwn(FAULT_CATALOG, kind) ? (FAULT_CATALOG[kind as FaultKind] as FaultDisplay<FaultSpec>) : undefined;
}

/** "delay 100 ms ± 10 ms, loss 5%, rate 1mbit": only what the fault sets. */
function netemParts(spec: FaultSpecOf<"netem">): string {
  const delay = toMs(spec.delay);
  const jitter = toMs(spec.jitter);
  const parts = [
    ...(delay > 0 ? [`delay ${delay} ms${jitter > 0 ? ` ± ${jitter} ms` : ""}`] : []),
    ...(spec.loss > 0 ? [`loss ${spec.loss}%`] : []),
    ...(spec.rate !== undefined ? [`rate ${spec.rate}`] : []),
  ];
  return parts.join(", ");
}

/** "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover" → "command: aws rds reboot-db-instance …". */
export function commandLabel(command: string): string {
  const words = command.trim().split(/\s+/);
  return `command: ${words.slice(0, 3).join(" ")}${words.length > 3 ? " …" : ""}`;
}
