/**
 * drop-table and truncate-table: a human error on the primary. pgdrill's writes table is dropped or
 * emptied in one transaction, which replicates like any other, so failover does not help: only a
 * restore to just before that transaction does. The transaction's id is recorded for it.
 */
import { z } from "zod";
import { defineFault } from "../define.ts";

export const dropTableSchema = z
  .strictObject({ kind: z.literal("drop-table") })
  .describe("DROP TABLE of pgdrill's writes table on the primary (a human error); its xid is recorded. Needs target.backup.");

export const truncateTableSchema = z
  .strictObject({ kind: z.literal("truncate-table") })
  .describe("TRUNCATE of pgdrill's writes table on the primary (a human error); its xid is recorded. Needs target.backup.");

export const dropTableFault = defineFault({
  schema: dropTableSchema,
  label: () => "DROP TABLE pgdrill.writes",
  color: "#e377c2",
  requires: "disaster",
  nodes: [],
  inject: (_spec, { control }) => control.damageTable("drop"),
});

export const truncateTableFault = defineFault({
  schema: truncateTableSchema,
  label: () => "TRUNCATE pgdrill.writes",
  color: "#f7b6d2",
  requires: "disaster",
  nodes: [],
  inject: (_spec, { control }) => control.damageTable("truncate"),
});

/** The public builders: `dropTable()`, `truncateTable()`. */
export const dropTable = () => ({ kind: "drop-table" as const });
export const truncateTable = () => ({ kind: "truncate-table" as const });
