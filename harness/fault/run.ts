/**
 * Runs faults against a started target: aims them at what their node names mean now, injects and
 * heals them through the one control each requires, with the drill's shell for faults that run
 * commands. Heals are idempotent and run again in the runner's `finally`, so a crashed drill cannot
 * leave a node frozen or cut off. The faults themselves are pure modules (define.ts).
 */
import { faultOf } from "./catalog.ts";
import { resolveNodes, type AnySpec, type FaultStep, type FaultUse } from "./define.ts";
import { runShell } from "./shell.ts";
import { control, type StartedTopology } from "../targets/types.ts";
import { redactSecrets } from "../secrets.ts";

/** The same fault aimed at what its names mean now (on cnpg, "primary" becomes an instance). */
export function resolveFault<S extends AnySpec>(topology: StartedTopology, spec: S): Promise<S> {
  return resolveNodes(faultOf(spec), spec, (node) => topology.resolve(node));
}

/** Injects `spec` through the control its fault requires; resolves with output worth keeping, if any. */
export function injectFault(topology: StartedTopology, spec: AnySpec, step: FaultStep): Promise<void | string> {
  return faultOf(spec).inject(spec, faultUse(topology, spec, step));
}

/** Heals `spec` (a fault without a heal has nothing to undo). */
export async function healFault(topology: StartedTopology, spec: AnySpec, step: FaultStep): Promise<void | string> {
  return faultOf(spec).heal?.(spec, faultUse(topology, spec, step));
}

function faultUse(topology: StartedTopology, spec: AnySpec, step: FaultStep): FaultUse<unknown> {
  const requires = faultOf(spec).requires;
  // The target's own secrets, and any the user's command printed (a URL, PGPASSWORD=…).
  const redact = (text: string) => redactSecrets(topology.redact(text));
  return {
    control: requires === null ? null : control(topology, requires, spec.kind),
    step,
    redact,
    shell: (command, options) => runShell(command, { ...options, redact }),
  };
}
