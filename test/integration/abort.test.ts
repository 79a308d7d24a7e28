/**
 * The kill switch on real containers: a container pair whose primary is frozen far longer than
 * `abortIf` allows is healed at the breach, not at the schedule's heal; the run ends aborted with
 * the reason, every report is written, and nothing is left in Docker. Then `pgdrill stop` on a
 * running drill, from "another terminal".
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import type { FaultEvent } from "../../harness/history/events.ts";
import type { RunResult } from "../../harness/result.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

function capture() {
  let out = "";
  let err = "";
  return { out: (t: string) => void (out += t), err: (t: string) => void (err += t), color: false, live: { write: (t: string) => (err += t), isTTY: false }, stdout: () => out, stderr: () => err };
}

/** A pair whose primary freezes at 3 s for 30 s (the drill would last 40 s). */
function frozenPrimaryScenario(abortIf: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-abort-scenario-"));
  const file = join(dir, "pair-frozen-long.yaml");
  writeFileSync(
    file,
    `name: pair-frozen-long
target: { kind: container-pair, replication: async }
probes:
  - { kind: select1, every: 50ms, timeout: 300ms, connectTimeout: 300ms }
  - { kind: writes, every: 50ms, timeout: 300ms, connectTimeout: 300ms }
  - { kind: role }
steadyState: { window: 2s }
schedule:
  - { at: 3s, for: 30s, fault: { kind: pause, node: primary } }
duration: 40s
${abortIf}
gate:
  writes.lostAcknowledged: "== 0"
`,
  );
  return file;
}

const faults = (out: string) => readEvents(out).filter((event): event is FaultEvent => event.kind === "fault");

describe("the kill switch on a real container pair", { timeout: 180_000 }, () => {
  it("abortIf downtimeLongerThan 1s: the frozen primary is thawed at the breach, the run ends aborted with the reason, nothing is left", async () => {
    const out = tempRunDir("abortif");
    const io = capture();
    const startedAt = Date.now();
    const code = await main(["run", frozenPrimaryScenario('abortIf: { downtimeLongerThan: "1s" }'), "--out", out], io);
    const tookMs = Date.now() - startedAt;
    expect(code).toBe(2);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/^the run aborted: kill switch \(abortIf\): probe "(select1|writes)" was down 1\.\d+ s and still is \(since \d+\.\d+ s into the run\), longer than abortIf\.downtimeLongerThan 1\.00 s$/);
    const [inject, heal] = faults(out);
    expect(inject).toMatchObject({ phase: "inject", fault: "pause", ok: true });
    expect(heal).toMatchObject({ phase: "heal", fault: "pause", ok: true });
    // Healed about 1 s after the freeze (the outage past 1 s, a probe timeout to see it), not 30 s.
    const healedAfterMs = heal!.t - inject!.t;
    expect(healedAfterMs).toBeGreaterThan(1000);
    expect(healedAfterMs).toBeLessThan(4000);
    const events = readEvents(out);
    const log = events.find((event) => event.kind === "log" && event.message.startsWith("kill switch"));
    expect(log).toMatchObject({ level: "error" });
    // The schedule stopped: nothing after the heal but the end of the run.
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "aborted", error: result.reason!.replace(/^the run aborted: /, "") });
    for (const file of ["report.md", "report.html", "junit.xml", "history.jsonl", "scenario.json"]) expect(readFileSync(join(out, file), "utf8").length).toBeGreaterThan(0);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain("kill switch (abortIf)");
    expect(await leftovers(result.runId)).toEqual([]);
    // Well short of the 40 s drill (the pair's start-up and teardown included).
    expect(tookMs).toBeLessThan(40_000);
    console.log(`abortIf: healed ${healedAfterMs.toFixed(0)} ms after the freeze; run took ${(tookMs / 1000).toFixed(1)} s; ${result.reason}`);
  });

  it("`pgdrill stop <run-dir>` from another terminal heals, ends the running drill aborted with the reason, and leaves nothing", async () => {
    const out = tempRunDir("stop");
    // The drill and the stop are two `main` calls here, as two terminals would make them; they
    // share nothing but the run directory (the stop file), so this is what separate processes do.
    const drillIO = capture();
    const drill = main(["run", frozenPrimaryScenario(""), "--out", out], drillIO);
    const deadline = Date.now() + 120_000;
    while (!(existsSync(join(out, "history.jsonl")) && readEvents(out).some((event) => event.kind === "fault" && event.phase === "inject"))) {
      if (Date.now() > deadline) throw new Error(`the pause was not injected within 120 s:\n${drillIO.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const stopAt = Date.now();
    const io = capture();
    expect(await main(["stop", out, "--reason", "game day over"], io)).toBe(0);
    const stopTookMs = Date.now() - stopAt;
    expect(io.stdout()).toMatch(/^stopped: the drill in .* ended aborted: stopped by `pgdrill stop` \(pid \d+\): game day over\n$/);
    expect(await drill).toBe(2);
    const [inject, heal] = faults(out);
    expect(heal).toMatchObject({ phase: "heal", fault: "pause", ok: true });
    expect(heal!.t - inject!.t).toBeLessThan(10_000);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
    expect(result.verdict).toBe("errored");
    expect(result.reason).toMatch(/^the run aborted: stopped by `pgdrill stop` \(pid \d+\): game day over$/);
    expect(await leftovers(result.runId)).toEqual([]);
    // A run that has ended is not stopped again; by its run id it is found under the registry or ./reports.
    const again = capture();
    expect(await main(["stop", out], again)).toBe(2);
    expect(again.stderr()).toMatch(/already ended \(aborted\); nothing to stop/);
    const unknown = capture();
    expect(await main(["stop", "20990101-000000-zzzz"], unknown)).toBe(2);
    expect(unknown.stderr()).toMatch(/is neither a run directory \(with a history\.jsonl\) nor the id of a running drill/);
    console.log(`pgdrill stop: the drill ended ${(stopTookMs / 1000).toFixed(1)} s after the request; healed ${(heal!.t - inject!.t).toFixed(0)} ms after the freeze`);
  });
});
