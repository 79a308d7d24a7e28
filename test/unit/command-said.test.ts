/**
 * A command fault's rough edges (issue 25, part 6): a one-shot command is not "for 1.5 min"; a
 * user's label keeps its case; a command can say when its fault really happened and what the HA
 * system did (`pgdrill-event:` lines, harness/fault/said.ts), which the History records on the
 * fault event. The commands run for real (bash), on the fake target and a virtual clock.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSaid, stampSaidLine } from "../../harness/fault/said.ts";
import type { FaultEvent, HistoryEvent } from "../../harness/history/events.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

const wall = (iso: string) => Date.parse(iso);

describe("pgdrill-event lines", () => {
  // The History's t = 0 was at 12:00:00.000Z, and the output was read at t = 30 000.
  const toT = (ms: number) => ms - wall("2026-12-07T12:00:00.000Z");
  const window = { fromT: 0, toT: 31_000, readT: 30_000 };

  it("reads a time, 'now', no time, and what the HA system did", () => {
    const output = [
      "starting failover",
      "pgdrill-event: happened 2026-12-07T12:00:12.500Z",
      "pgdrill-event: 2026-12-07T13:00:20+01:00 pg_autoctl: node 2 promoted",
      "pgdrill-event: now primary is node 2",
      "done",
    ].join("\n");
    expect(parseSaid(output, toT, window)).toEqual({
      happenedT: 12_500,
      said: [
        { t: 20_000, text: "pg_autoctl: node 2 promoted" },
        { t: 30_000, text: "primary is node 2" },
      ],
      problems: [],
    });
  });

  it("refuses what cannot be right, line by line, and keeps the rest", () => {
    const output = [
      "pgdrill-event: happened 2026-12-07T11:59:00Z",
      "pgdrill-event: happened 2026-12-07T12:00:05Z",
      "pgdrill-event: happened 2026-12-07T12:00:06Z",
      "pgdrill-event: happened soon, I think",
      "pgdrill-event:",
      "pgdrill-event: 2026-13-45T12:00:05Z nonsense month",
    ].join("\n");
    const { happenedT, said, problems } = parseSaid(output, toT, window);
    expect(happenedT).toBe(5000);
    expect(said).toEqual([]);
    expect(problems).toEqual([
      expect.stringMatching(/11:59:00Z": its time lies outside the run/),
      expect.stringMatching(/12:00:06Z": a second "happened"; the first is kept/),
      expect.stringMatching(/"happened" takes only a time/),
      expect.stringMatching(/says nothing/),
      expect.stringMatching(/2026-13-45T12:00:05Z is not a date-time/),
    ]);
  });

  it("stamps a line with no time of its own with when it was read", () => {
    const at = new Date("2026-12-07T12:00:03.000Z");
    expect(stampSaidLine("pgdrill-event: happened", at)).toBe("pgdrill-event: happened 2026-12-07T12:00:03.000Z");
    expect(stampSaidLine("pgdrill-event: leader lost", at)).toBe("pgdrill-event: 2026-12-07T12:00:03.000Z leader lost");
    expect(stampSaidLine("pgdrill-event: now leader lost", at)).toBe("pgdrill-event: now leader lost");
    expect(stampSaidLine("other output", at)).toBe("other output");
  });
});

describe("command faults in a drill", () => {
  it("a one-shot is an instant (no heal, no 'for'), a user's label keeps its case, and its pgdrill-event lines reach the History", async () => {
    const scenario = validateScenario(
      {
        name: "command-said",
        target: { kind: "endpoint", url: "postgresql://app:pw@127.0.0.1:1/app" },
        probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
        steadyState: { window: "1s", minAvailability: 0 },
        schedule: [
          {
            at: "2s",
            fault: {
              kind: "command",
              label: "pg_autoctl perform switchover",
              run: "echo working; echo 'pgdrill-event: happened'; sleep 0.2; echo 'pgdrill-event: node 2 promoted'; echo 'pgdrill-event: happened soon'",
            },
          },
        ],
        duration: "5s",
      },
      "said",
    );
    const clock = new VirtualClock();
    const started = new FakeTarget({ clock });
    const topology: Topology = { kind: "endpoint", nodes: ["primary"], initialPrimary: "primary", start: async () => started };
    const outDir = mkdtempSync(join(tmpdir(), "pgdrill-command-said-"));
    const logged: string[] = [];
    await clock.drive(runDrill(scenario, { source: "said", outDir, topology, clock, log: (line) => logged.push(line) }), { realMsPerJump: 2 });

    const events = readFileSync(join(outDir, "history.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as HistoryEvent);
    const faults = events.filter((event): event is FaultEvent => event.kind === "fault");
    expect(faults.map((fault) => fault.phase)).toEqual(["inject"]);
    const inject = faults[0]!;
    expect(inject).toMatchObject({ label: "pg_autoctl perform switchover", instant: true, ok: true });
    // On the History's clock (virtual here, so only the order and the real 0.2 s between the lines hold).
    expect(inject.happenedT).toBeGreaterThanOrEqual(inject.t);
    expect(inject.happenedT).toBeLessThanOrEqual(5000);
    expect(inject.said).toEqual([{ t: expect.any(Number), text: "node 2 promoted" }]);
    expect(inject.said![0]!.t - inject.happenedT!).toBeGreaterThanOrEqual(150);
    expect(inject.said![0]!.t - inject.happenedT!).toBeLessThan(1500);
    expect(inject.output).toMatch(/^working\npgdrill-event: happened 20\d\d-.*Z\npgdrill-event: 20\d\d-.*Z node 2 promoted/);
    expect(logged.join("\n")).toMatch(/pgdrill-event line ignored: .*"happened" takes only a time/);

    const report = readFileSync(join(outDir, "report.md"), "utf8");
    expect(report).toContain("pg_autoctl perform switchover: ");
    expect(report).not.toMatch(/Pg_autoctl|pg_autoctl perform switchover for /);
  });
});
