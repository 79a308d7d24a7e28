/**
 * corrupt-file: the first page of pgdrill's writes table overwritten on one node's disk, behind
 * PostgreSQL's back (a failing disk, a bad controller). No WAL record describes it, so a standby
 * keeps its good copy and a restore to latest repairs it; with data checksums on, PostgreSQL refuses
 * the page when it next reads it from disk.
 */
import { z } from "zod";
import { nodeName } from "../../scenario/schema-parts.ts";
import { defineFault } from "../define.ts";

export const corruptFileSchema = z
  .strictObject({
    kind: z.literal("corrupt-file"),
    node: nodeName.default("primary").describe("The node whose copy of the writes table is corrupted."),
  })
  .describe("Overwrite the first page of pgdrill's writes table on a node's disk with random bytes. Needs target.backup.");

export const corruptFileFault = defineFault({
  schema: corruptFileSchema,
  label: (spec) => `corrupt pgdrill.writes on ${spec.node}`,
  color: "#bcbd22",
  requires: "disaster",
  nodes: ["node"],
  inject: (spec, { control }) => control.corruptFile(spec.node),
});

/** The public builder: `corruptFile("primary")`. */
export const corruptFile = (node = "primary") => ({ kind: "corrupt-file" as const, node });
