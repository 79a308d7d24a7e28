/**
 * destroy-data: every node's data gone at once (a lost volume, a deleted cluster, ransomware): each
 * node's container is killed and removed with its volumes. Nothing to heal: only a restore from
 * the backup repository (which lives apart, on the run's own volume) brings the data back.
 */
import { z } from "zod";
import { defineFault } from "../define.ts";

export const destroyDataSchema = z
  .strictObject({ kind: z.literal("destroy-data") })
  .describe("Every node's data destroyed: each PostgreSQL container killed and removed with its volumes. Needs target.backup.");

export const destroyDataFault = defineFault({
  schema: destroyDataSchema,
  label: () => "destroy every node's data",
  color: "#8c564b",
  requires: "disaster",
  nodes: [],
  inject: (_spec, { control }) => control.destroyData(),
});

/** The public builder: `destroyData()`. */
export const destroyData = () => ({ kind: "destroy-data" as const });
