/** backup: take a backup now with the target's backup tool (pgBackRest), after checking that archiving works. */
import { z } from "zod";
import { defineAction } from "../define.ts";

export const backupSchema = z
  .strictObject({
    kind: z.literal("backup"),
    type: z
      .enum(["full", "diff", "incr"])
      .default("full")
      .describe("full: every file; diff: what changed since the last full; incr: since the last backup of any type."),
    verify: z
      .boolean()
      .default(true)
      .describe("Run `pgbackrest verify` after the backup: the repository's files and WAL are read back and checked."),
  })
  .describe(
    "Take a backup with pgBackRest on the primary: `pgbackrest check` first (a WAL segment is switched and must reach the " +
      "repository), then the backup, then `verify`; each outcome is recorded. Needs target.backup.",
  );

export const backupAction = defineAction({
  schema: backupSchema,
  label: (spec) => `${spec.type} backup`,
  requires: "backup",
  run: (spec, use) => use.control.backup(spec.type, spec.verify),
});

/** The public builder: `backup()`, `backup({ type: "incr" })`. */
export const backup = (options: Omit<z.input<typeof backupSchema>, "kind"> = {}) => ({ kind: "backup" as const, ...options });
