/**
 * A container target's `backup` option: pgBackRest with a repository of the run's own, WAL
 * archiving on from the start. Shared by the targets that can back up (the pair, Patroni), so the
 * option reads the same on each; pure, as target options are.
 */
import { z } from "zod";
import { duration } from "./schema-parts.ts";

const SIZE = /^(\d+(?:\.\d+)?)\s*(kB|MB|GB)$/;
const UNIT_BYTES = { kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;

/** "100MB" as bytes; PostgreSQL's own units (kB, MB, GB, powers of 1024). */
export function sizeBytes(text: string): number {
  const match = SIZE.exec(text.trim());
  if (!match) throw new Error(`not a size: ${JSON.stringify(text)}`);
  return Math.round(Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES]);
}

const dataSize = z.string().refine((text) => SIZE.test(text.trim()) && sizeBytes(text) <= 64 * 1024 ** 3, {
  message: 'must be a size in kB, MB or GB up to 64GB, e.g. "100MB" or "1GB"',
});

export const backupOptions = z
  .strictObject({
    tool: z.literal("pgbackrest").default("pgbackrest").describe("The backup tool: pgBackRest (Debian's 2.45, in pgdrill's image)."),
    retention: z
      .strictObject({
        full: z
          .number()
          .int()
          .min(1)
          .max(99)
          .default(2)
          .describe("Full backups pgBackRest keeps (repo1-retention-full); older ones and the WAL only they need are expired."),
      })
      .default({ full: 2 })
      .describe("How many backups the repository keeps."),
    archiveTimeout: duration
      .default("10s")
      .describe(
        "PostgreSQL's archive_timeout: a WAL segment is archived at least this often while there are writes. It bounds what a " +
          "restore to latest can lose when every node's data is gone; 0 turns it off (a segment is archived only when full, 16 MB).",
      ),
    compress: z
      .enum(["lz4", "zst", "gz", "none"])
      .default("lz4")
      .describe("How the repository compresses backups and WAL (compress-type); lz4 is pgBackRest's fastest."),
    processMax: z.number().int().min(1).max(8).default(1).describe("Parallel processes for backup and restore (process-max)."),
    seed: dataSize
      .optional()
      .describe(
        'Data written to the primary before the drill (table pgdrill.seed, rows of random text), e.g. "100MB" or "1GB": a restore ' +
          "of a drill's few MB says little about one of a real database's size. Absent: none.",
      ),
  })
  .describe(
    "Backups with pgBackRest on a Docker volume of the run's own, WAL archived from the start: what the backup and restore " +
      "actions and the disaster faults work with. Absent: no archiving, and those steps are refused.",
  );

export type BackupOptions = z.output<typeof backupOptions>;

/** The capabilities only a target with backups has: a plugin's `unavailable` says so when `backup` is absent. */
export const BACKUP_CAPABILITIES: readonly string[] = ["backup", "disaster"];

export function backupsOff(backup: BackupOptions | undefined, capability: string): { problem: string; fix: string } | null {
  if (backup !== undefined || !BACKUP_CAPABILITIES.includes(capability)) return null;
  return {
    problem: "backups, restores and disasters need the target's backups on",
    fix: 'Add "backup: {}" to the target (pgBackRest, WAL archived from the start).',
  };
}
