/**
 * The registry of faults: the faults any target may offer, then those each target's plugin owns.
 * The scenario's fault union (scenario/steps.ts), its JSON Schema, the catalog the reports read,
 * validation, feasibility and the runner all read this list. Adding a fault is its module plus one
 * line here (or in its target plugin's `faults`). Whether a target can do a fault is its
 * capabilities' say, not where the fault lives.
 */
import { TARGET_PLUGINS, type OwnedBy } from "../targets/registry.ts";
import type { AnyFault } from "./define.ts";
import { commandFault } from "./kinds/command.ts";
import { corruptFileFault } from "./kinds/corrupt-file.ts";
import { dropTableFault, truncateTableFault } from "./kinds/damage-table.ts";
import { destroyDataFault } from "./kinds/destroy-data.ts";
import { killFault } from "./kinds/kill.ts";
import { netemFault } from "./kinds/netem.ts";
import { partitionFault } from "./kinds/partition.ts";
import { pauseFault } from "./kinds/pause.ts";
import { killProcessFault, pauseProcessFault } from "./kinds/process.ts";
import { stopFault } from "./kinds/stop.ts";

const CORE_FAULTS = [
  killFault,
  stopFault,
  pauseFault,
  partitionFault,
  netemFault,
  killProcessFault,
  pauseProcessFault,
  destroyDataFault,
  dropTableFault,
  truncateTableFault,
  corruptFileFault,
] as const;

export type Faults = [...typeof CORE_FAULTS, ...OwnedBy<typeof TARGET_PLUGINS, "faults">, typeof commandFault];

/**
 * Every fault, in the order "cannot do" messages list them: the core's, each target's in target
 * registry order, and the user's own command last, the way out when none fits.
 */
const OWNED_FAULTS = TARGET_PLUGINS.flatMap((plugin): readonly AnyFault[] => plugin.faults);
export const FAULTS = [...CORE_FAULTS, ...OWNED_FAULTS, commandFault] as unknown as Faults;

type SchemasOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] extends { schema: infer S } ? S : never };
/** The options schemas, in registry order, as the tuple the scenario's fault union takes. */
export const FAULT_SCHEMAS = FAULTS.map((fault) => fault.schema) as unknown as SchemasOf<Faults>;

export type FaultKind = Faults[number]["kind"];
