/**
 * The faults by kind, as the History names them: label, colour, whether each heals and what it
 * requires, read by the reports, validation and the runner. Derived from the registry's pure fault
 * modules, so drawing a fault loads no fault runtime (run.ts, and zx through shell.ts).
 */
import type { AnyFault, AnySpec } from "./define.ts";
import { FAULTS, type Faults } from "./registry.ts";

/** The colour of a fault kind pgdrill does not know (a History from elsewhere). */
export const UNKNOWN_FAULT_COLOR = "#7f7f7f";

export const FAULT_CATALOG = Object.fromEntries(FAULTS.map((fault) => [fault.kind, fault])) as { [F in Faults[number] as F["kind"]]: F };

/** The fault of a kind as the History names it, or undefined for a kind pgdrill does not know. */
export function faultDisplay(kind: string): AnyFault | undefined {
  return Object.hasOwn(FAULT_CATALOG, kind) ? (FAULT_CATALOG[kind as keyof typeof FAULT_CATALOG] as AnyFault) : undefined;
}

/** The fault of a validated spec. */
export function faultOf(spec: AnySpec): AnyFault {
  const fault = faultDisplay(spec.kind);
  if (fault === undefined) throw new Error(`no fault of kind "${spec.kind}" is registered (fault/registry.ts)`);
  return fault;
}
