/**
 * What validation says of restore drills before anything starts: backups, restores and disasters
 * need the target's `backup`, said at the step with the fix; a restore's target must be a time
 * with its offset; the option's own fields are checked where they are.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import {
  archiveSettings,
  archivedUpTo,
  formatLsn,
  lsnBytes,
  parseInfo,
  recoveryTime,
  restoreArguments,
} from "../../harness/targets/shared/pgbackrest.ts";
import { backupOptions } from "../../harness/scenario/backup.ts";
import { backupWarnings } from "../../harness/targets/shared/backup-keeper.ts";
import { backup, containerPair, defineScenario, destroyData, restore, trackedWrites } from "../../harness/index.ts";

const base = {
  name: "s",
  target: { kind: "container-pair", backup: {} },
  probes: [{ kind: "writes" }],
  schedule: [
    { at: "2s", action: { kind: "backup" } },
    { at: "5s", fault: { kind: "drop-table" } },
    { at: "7s", action: { kind: "restore", to: "before-disaster" } },
  ],
  duration: "20s",
};

function problems(input: unknown): string[] {
  try {
    validateScenario(input, "s");
  } catch (error) {
    if (error instanceof InputError) return error.message.split("\n");
    throw error;
  }
  return [];
}

describe("restore drills in a scenario", () => {
  it("accepts a backup, a disaster and a restore on a pair with backups", () => {
    const scenario = validateScenario(base, "s");
    expect(scenario.target).toMatchObject({
      backup: { tool: "pgbackrest", retention: { full: 2 }, archiveTimeout: "10s", compress: "lz4" },
    });
  });

  it("is written with the public builders too", () => {
    const scenario = defineScenario({
      name: "restore-from-code",
      target: containerPair({ backup: { archiveTimeout: "5s", seed: "100MB" } }),
      probes: [trackedWrites({ every: "50ms" })],
      schedule: [
        { at: "2s", action: backup({ type: "full" }) },
        { at: "10s", fault: destroyData() },
        { at: "12s", action: restore({ to: { beforeDisaster: "3s" } }) },
      ],
      duration: "40s",
    });
    expect(validateScenario(scenario, "code").schedule[2]).toMatchObject({
      action: { kind: "restore", to: { beforeDisaster: "3s" }, replicas: true },
    });
  });

  it("refuses each step that needs backups on a target without them, at the step, with the fix", () => {
    const said = problems({ ...base, target: { kind: "container-pair" } });
    for (const path of ["schedule[0].action.kind", "schedule[1].fault.kind", "schedule[2].action.kind"]) {
      expect(said.find((line) => line.includes(path))).toMatch(
        /backups, restores and disasters need the target's backups on\. Add "backup: \{\}" to the target/,
      );
    }
  });

  it("refuses a restore time without an offset, and a retention of 0, naming the field", () => {
    const said = problems({
      ...base,
      target: { kind: "container-pair", backup: { retention: { full: 0 } } },
      schedule: [{ at: "7s", action: { kind: "restore", to: { time: "2026-12-07 22:15" } } }],
    });
    expect(said.some((line) => line.includes("target.backup.retention.full"))).toBe(true);
    expect(said.some((line) => line.includes("schedule[0].action.to"))).toBe(true);
  });

  it("refuses the faults on a target that cannot back up (the endpoint)", () => {
    const said = problems({ ...base, target: { kind: "endpoint", url: "postgres://u@db.example:5432/app" } });
    expect(said.find((line) => line.includes("schedule[1].fault.kind"))).toMatch(/cannot do "drop-table"/);
  });
});

describe("pgBackRest's settings and answers", () => {
  it("archives through archive-push with archive_timeout in whole seconds", () => {
    const options = backupOptions.parse({ archiveTimeout: "1500ms" });
    expect(archiveSettings(options)).toEqual({
      archive_mode: "on",
      archive_command: "pgbackrest --stanza=pgdrill archive-push %p",
      archive_timeout: "2",
    });
    expect(archiveSettings(backupOptions.parse({ archiveTimeout: 0 })).archive_timeout).toBe("0");
  });

  it("stops recovery where the target says, promoting there", () => {
    expect(restoreArguments({ type: "latest" })).toEqual(["--type=default"]);
    expect(restoreArguments({ type: "xid", xid: "1028", exclusive: true })).toEqual([
      "--type=xid",
      "--target=1028",
      "--target-exclusive",
      "--target-action=promote",
    ]);
    const time = recoveryTime(Date.UTC(2026, 11, 7, 22, 15, 0, 123));
    expect(time).toBe("2026-12-07 22:15:00.123+00");
    expect(restoreArguments({ type: "time", time, at: 5000 })).toEqual(["--type=time", `--target=${time}`, "--target-action=promote"]);
  });

  it("reads how far the archive reaches from the last archived file's name", () => {
    expect(formatLsn(lsnBytes("16/B374D848"))).toBe("16/B374D848");
    // Segment 9 of log 0 ends where segment 10 starts.
    expect(formatLsn(archivedUpTo("000000020000000000000009")!)).toBe("0/A000000");
    // A backup history file is archived after its own segment (the backup's first) was.
    expect(formatLsn(archivedUpTo("000000010000000000000006.00000028.backup")!)).toBe("0/7000000");
    expect(archivedUpTo("00000002.history")).toBeNull();
  });

  it("keeps pgBackRest's warnings about a backup, each once, without the process prefix", () => {
    const output = [
      "P00   WARN: invalid page checksums found in file /var/lib/postgresql/pgdrill/base/5/16390 at page 0",
      "P00   WARN: invalid page checksums found in file /var/lib/postgresql/pgdrill/base/5/16390 at page 0",
      "P00   INFO: backup stop archive = 000000010000000000000009",
      "",
    ].join("\n");
    expect(backupWarnings(output)).toEqual(["invalid page checksums found in file /var/lib/postgresql/pgdrill/base/5/16390 at page 0"]);
    expect(backupWarnings("")).toEqual([]);
  });

  it("parses pgbackrest info, and says plainly when it is not what it should be", () => {
    const info = parseInfo(
      JSON.stringify([
        {
          name: "pgdrill",
          status: { code: 0, message: "ok" },
          backup: [
            {
              label: "20261207-230213F",
              type: "full",
              timestamp: { start: 1, stop: 2 },
              archive: { start: "000000010000000000000006", stop: "000000010000000000000006" },
              info: { size: 23058287, delta: 23058287, repository: { size: 4540399, delta: 4540399 } },
            },
          ],
          archive: [{ min: "000000010000000000000001", max: "000000010000000000000007" }],
        },
      ]),
    );
    expect(info.backup[0]).toMatchObject({ label: "20261207-230213F", info: { size: 23058287, repository: { size: 4540399 } } });
    expect(() => parseInfo("ERROR: [055]")).toThrow(/did not print JSON/);
    expect(() => parseInfo("[]")).toThrow(/knows no stanza "pgdrill"/);
  });
});
