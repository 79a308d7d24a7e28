/** The restore in every report: the Markdown and HTML sections, the RTO and RPO key metrics, JUnit test cases, the timeline's marks. */
import { convert } from "xmlbuilder2";
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { renderHtml } from "../../harness/report/html-page.ts";
import { reportContextOf } from "../../harness/report/index.ts";
import { renderJunit } from "../../harness/report/junit.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { reportModel } from "../../harness/report/model.ts";
import { restoreMarkers } from "../../harness/report/restore-timeline.ts";
import { deviatedResult } from "../fixtures/histories/results.ts";
import { idAt, restoreDrill, type RestoreDrill } from "../fixtures/histories/restore.ts";

type Json = Record<string, unknown>;
const beforeDrop = { type: "xid", xid: "1234", exclusive: true } as const;

function run(drill: RestoreDrill) {
  const b = restoreDrill(drill);
  const result = analyzeHistory(b.events, { gate: { "restore.rtoMs": "< 60000" } });
  return { result, model: reportModel(result, reportContextOf(b.events)), events: b.events };
}

/** A TRUNCATE, restored to a time 498 ms before it; two writes sent after that time came back. */
const leaky = () =>
  run({
    disaster: "truncate-table",
    target: { type: "time", time: "2025-01-01T00:00:04.502Z", at: 4502 },
    writesAfterDisaster: true,
    keptBefore: (id) => id <= idAt(4700),
  });

function junitCases(model: ReturnType<typeof run>["model"]): Json[] {
  const suites = convert(renderJunit(model), { format: "object" }) as Json;
  return ((suites.testsuites as Json).testsuite as Json).testcase as Json[];
}

describe("the restore in the reports", { timeout: 30_000 }, () => {
  it("says in report.md what the restore did, with its RTO and RPO among the key metrics", () => {
    const markdown = renderMarkdown(run({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true }).model);
    expect(markdown).toContain(
      "### Restore\n\nrestored to just before the DROP (xid 1234): all 40 acknowledged writes before it present, none after; RTO 9.80 s = " +
        "2.00 s wait + 3.10 s restore + 4.20 s replay + 500.0 ms clients\n",
    );
    expect(markdown).toContain("| disaster | the writes table dropped at 5.00 s (xid 1234) on primary |");
    expect(markdown).toContain(
      "| restore | primary ready at 14.30 s, from backup 20261207-221500F, 31.0 MB copied, to just before the DROP (xid 1234) |",
    );
    expect(markdown).toContain(
      "| backup | 20261207-221500F: full, 31.0 MB, 4.0 MB in the repository, took 500.0 ms, 4.00 s old at the disaster |",
    );
    expect(markdown).toContain(
      "| WAL archive at the disaster | 3.0 MB not archived yet; last segment archived 2.00 s before (000000010000000000000004) |",
    );
    expect(markdown).toContain(
      "| restore RTO | **9.80 s** = 2.00 s wait + 3.10 s restore + 4.20 s replay + 500.0 ms clients (disaster → first write) |",
    );
    expect(markdown).toContain("| restore RPO | **0.00 ms**: no acknowledged write lost |");
    // A point-in-time restore ran with a writes probe: nothing after its target may come back, unless the gate says otherwise.
    expect(markdown).toContain("| ✅ | `restore.presentAfterTarget` | == 0 | 0 |");
  });

  it("sets off what went wrong: writes after the target back, a failed restore", async () => {
    const markdown = renderMarkdown(leaky().model);
    expect(markdown).toMatch(/### Restore\n\n❌ restored to 498\.0 ms before the TRUNCATE \(2025-01-01T00:00:04\.502Z\): all 35/);
    expect(markdown).toContain(
      "| writes around the target | 35 acknowledged before it, 0 of them missing; **2 sent after it present**; 1 on either side of it " +
        "(not counted) |",
    );
    expect(markdown).toContain("| ❌ | `restore.presentAfterTarget` | == 0 | 2 |");
    const failed = run({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true, failed: true });
    const failedMarkdown = renderMarkdown(failed.model);
    expect(failedMarkdown).toContain(
      "| restore | **failed: pgbackrest restore: unable to find backup** (primary, to just before the DROP (xid 1234)) |",
    );
    expect(failedMarkdown).toContain("| restore RTO | never writable: the restore failed |");
    // Neither gate has anything to read, the implied one included: the restore failed, and their notes say so.
    expect(failedMarkdown).toContain(
      "| ❌ | `restore.rtoMs` | < 60000 | not measured (the restore failed: pgbackrest restore: unable to find backup) |",
    );
    expect(failedMarkdown).toContain("| ❌ | `restore.presentAfterTarget` | == 0 | not measured (the restore failed: pgbackrest");
    expect(failedMarkdown).toContain("| restore RPO | n/a (the restore failed) |");
    expect(await renderHtml(failed.model)).toContain('<td>restore</td><td><strong class="bad">failed: pgbackrest restore');
  });

  it("writes a JUnit test case per thing a restore must do; a latest restore's unarchived writes are said, not failed", () => {
    const cases = junitCases(leaky().model).filter((tc) => String(tc["@name"]).startsWith("restore: "));
    expect(cases.map((tc) => tc["@name"])).toEqual([
      "restore: pgbackrest check and verify passed before the disaster",
      "restore: the restored primary takes writes",
      "restore: acknowledged writes before the target are back",
      "restore: no write sent after the target is back",
    ]);
    expect(cases.slice(0, 3).map((tc) => tc.failure)).toEqual([undefined, undefined, undefined]);
    expect((cases[3]!.failure as Json)["@message"]).toBe(`2 present: ids ${idAt(4600)}, ${idAt(4700)}`);
    expect((cases[3]!.failure as Json)["@type"]).toBe("restore");

    const latest = run({ disaster: "destroy-data", target: { type: "latest" }, keptBefore: (id) => id <= 30 });
    const kept = junitCases(latest.model).find((tc) => tc["@name"] === "restore: acknowledged writes before the target are back")!;
    expect((kept.skipped as Json)["@message"]).toBe(
      "latest: 10 acknowledged writes of the last 995.0 ms were not archived (gate restore.lostAcknowledged or restore.rpoMs to judge it)",
    );
    expect(junitCases(latest.model).map((tc) => tc["@name"])).not.toContain("restore: no write sent after the target is back");
  });

  it("shows the section in report.html and marks the disaster and each phase on the timeline", async () => {
    const { model, events } = run({ disaster: "drop-table", target: beforeDrop, keptBefore: () => true });
    const html = await renderHtml(model);
    expect(html).toContain("<h2>Restore</h2><p>restored to just before the DROP (xid 1234): all 40 acknowledged writes");
    expect(html).toContain("<td>WAL archive at the disaster</td><td>3.0 MB not archived yet;");
    expect(restoreMarkers(events).map((marker) => marker.text)).toEqual([
      "disaster: drop-table",
      "restore started (primary)",
      "restore restored (primary)",
      "restore ready (primary)",
      "restore replica (standby)",
    ]);
    expect(html).toContain("restore ready (primary)</text>");
    expect(html).toContain("restore ready</span>");
  });

  it("has no Restore section, and no RTO or RPO rows, without backups", () => {
    const model = reportModel(deviatedResult());
    expect(model.restore).toBeNull();
    expect(renderMarkdown(model)).not.toContain("### Restore");
    expect(model.keyMetrics.rows.map((row) => row.label)).not.toContain("restore RTO");
  });
});
