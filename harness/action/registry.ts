/**
 * The registry of actions: those any target may offer, then those each target's plugin owns. The
 * scenario's action union, its JSON Schema, validation, feasibility and the runner read this list.
 * Whether a target can do an action is its capabilities' say, not where the action lives.
 */
import { TARGET_PLUGINS, type OwnedBy } from "../targets/registry.ts";
import type { AnyAction } from "./define.ts";
import { backupAction } from "./kinds/backup.ts";
import { healAction } from "./kinds/heal.ts";
import { restoreAction } from "./kinds/restore.ts";
import { switchoverAction } from "./kinds/switchover.ts";

const CORE_ACTIONS = [switchoverAction, backupAction, restoreAction] as const;

export type Actions = [...typeof CORE_ACTIONS, ...OwnedBy<typeof TARGET_PLUGINS, "actions">, typeof healAction];

/** Every action, in the order "cannot do" messages list them: heal last, after what the target itself can do. */
const OWNED_ACTIONS = TARGET_PLUGINS.flatMap((plugin): readonly AnyAction[] => plugin.actions);
export const ACTIONS = [...CORE_ACTIONS, ...OWNED_ACTIONS, healAction] as unknown as Actions;

type SchemasOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] extends { schema: infer S } ? S : never };
/** The options schemas, in registry order, as the tuple the scenario's action union takes. */
export const ACTION_SCHEMAS = ACTIONS.map((action) => action.schema) as unknown as SchemasOf<Actions>;

/** The action of a validated spec. */
export function actionOf(spec: { kind: string }): AnyAction {
  const action = (ACTIONS as readonly AnyAction[]).find((candidate) => candidate.kind === spec.kind);
  if (action === undefined) throw new Error(`no action of kind "${spec.kind}" is registered (action/registry.ts)`);
  return action;
}
