/**
 * `pgdrill confirm --step` and `--not-done`: a confirmation names the manual step it means, and one
 * that names a step that is not waiting is refused (never applied to the step that is), with one
 * line saying which step waits; a step can be reported not done, from the command or with `n` at
 * the prompt, and is recorded as a timeout is, with why. The request file is validated strictly.
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeHistory } from "../../harness/analyze.ts";
import { main } from "../../harness/cli/main.ts";
import { Keyboard } from "../../harness/cli/keys.ts";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { reportContextOf } from "../../harness/report/index.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { parseStepOption } from "../../harness/cli/operator-client.ts";
import { OperatorDesk, type OperatorInput } from "../../harness/operator/desk.ts";
import { OPERATOR_FILE, parseRequest, watchOperatorRequests } from "../../harness/operator/requests.ts";
import { manualSteps } from "../../harness/schedule/manual.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";
import { reportModel } from "../../harness/report/model.ts";

const STEPS = [
  { id: "m1", say: "Run: kubectl delete pod db-1" },
  { id: "m2", say: "Promote db-2 by hand" },
];

function desk(mode: "ask" | "command" | "auto" = "ask") {
  const marks: string[] = [];
  const warnings: string[] = [];
  let now = 0;
  const d = new OperatorDesk({ mode, record: (mark) => marks.push(mark.note), now: () => now, log: () => undefined, warn: (message) => warnings.push(message), steps: STEPS });
  return { d, marks, warnings, at: (t: number) => (now = t) };
}

const request = (fields: Record<string, unknown>) => ({ pid: 1, at: "", ...fields }) as never;

describe("the step a confirmation names", () => {
  it("--step is the id the drill shows (m2) or the step's number among the schedule's manual steps (2), as the plan numbers them", () => {
    expect(parseStepOption("m2")).toBe("m2");
    expect(parseStepOption("M2")).toBe("m2");
    expect(parseStepOption("2")).toBe("m2");
    expect(() => parseStepOption("f1")).toThrow(/^--step: "f1" is not a manual step\. Give its id as the drill shows it/);
    expect(() => parseStepOption("0")).toThrow(/--step: "0" is not a manual step/);
    // m1, m2 in the order written, not in time order: what the History's events carry.
    const scenario = validateScenario(
      { name: "s", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "10m", schedule: [{ at: "5s", manual: { say: "later" } }, { at: "3s", fault: { kind: "kill", node: "primary" } }, { at: "2s", manual: { say: "sooner" } }] },
      "s",
    );
    expect(manualSteps(scenario.schedule)).toEqual([{ index: 0, id: "m1", say: "later" }, { index: 2, id: "m2", say: "sooner" }]);
  });

  it("a late confirmation for a step that timed out is refused while the next waits: it says which waits and how to fix the command, and m2 still waits", async () => {
    const { d, marks, warnings, at } = desk();
    const first = new AbortController();
    const m1 = d.ask({ id: "m1", say: STEPS[0]!.say, timeoutMs: 1000 }, first.signal);
    at(4000);
    first.abort(); // m1's timeout
    await expect(m1).resolves.toBeNull();
    at(5000);
    const m2 = d.ask({ id: "m2", say: STEPS[1]!.say, timeoutMs: 60_000 }, new AbortController().signal);
    at(6500);
    const refused = d.take(request({ type: "confirm", note: "pod deleted", step: "m1" }));
    expect(refused.ok).toBe(false);
    expect(refused.message).toBe(
      'm1 is not waiting: it ended without an answer (timed out, or the drill ended) at 4.0 s into the run; m2 ("Promote db-2 by hand") is waiting. If you meant m2, send it again with --step m2; if it was for m1, record what happened as a mark (pgdrill mark <run> "note").',
    );
    expect(refused.message).not.toContain("\n");
    expect(d.pending).toMatchObject({ id: "m2" });
    // Refused means nothing taken: no mark from its note, but a warning for the History.
    expect(marks).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^`pgdrill confirm --step m1` refused: m1 is not waiting/)]);
    const confirmed = d.take(request({ type: "confirm", note: "", step: "m2" }));
    expect(confirmed).toEqual({ ok: true, message: 'confirmed m2 ("Promote db-2 by hand")' });
    await expect(m2).resolves.toEqual({ by: "command" });
  });

  it("names a step that is not due yet, one the run does not have, or says that none waits", () => {
    const { d } = desk();
    void d.ask({ id: "m1", say: STEPS[0]!.say, timeoutMs: 1000 }, new AbortController().signal);
    expect(d.take(request({ type: "confirm", note: "", step: "m2" })).message).toMatch(/^m2 is not waiting: it has not been shown yet; m1 \("Run: kubectl delete pod db-1"\) is waiting\. If you meant m1, send it again with --step m1/);
    expect(d.take(request({ type: "confirm", note: "", step: "m7" })).message).toBe('this run has no manual step m7 (its manual steps: m1, m2); m1 ("Run: kubectl delete pod db-1") is waiting. Name the one waiting: --step m1.');
    const idle = desk();
    expect(idle.d.take(request({ type: "confirm", note: "", step: "m1" }))).toMatchObject({ ok: false, message: expect.stringMatching(/^m1 is not waiting: it has not been shown yet; no manual step is waiting\. Nothing is waiting; record what happened as a mark/) });
    expect(idle.d.take(request({ type: "not-done", reason: "no access" }))).toMatchObject({ ok: false, message: expect.stringMatching(/^no manual step is waiting\. Nothing to record as not done now/) });
  });

  it("without --step, today's behaviour: the waiting step is confirmed, and with none waiting it is recorded as a mark", async () => {
    const { d, marks } = desk();
    expect(d.take(request({ type: "confirm", note: "" }))).toEqual({ ok: true, message: "no manual step is waiting: recorded as a mark" });
    expect(marks).toEqual(["confirm (no manual step was waiting)"]);
    const waiting = d.ask({ id: "m2", say: STEPS[1]!.say, timeoutMs: 1000 }, new AbortController().signal);
    expect(d.take(request({ type: "confirm", note: "done it" }))).toMatchObject({ ok: true, message: 'confirmed m2 ("Promote db-2 by hand")' });
    await expect(waiting).resolves.toEqual({ by: "command", note: "done it" });
    expect(marks.at(-1)).toBe("done it");
  });

  it("--not-done ends the waiting step with why; auto mode takes no answers", async () => {
    const { d } = desk("command");
    const waiting = d.ask({ id: "m1", say: STEPS[0]!.say, timeoutMs: 1000 }, new AbortController().signal);
    expect(d.answer({ by: "keyboard", done: false, reason: "x" })).toMatchObject({ problem: expect.stringContaining("answered with `pgdrill confirm`") });
    expect(d.take(request({ type: "not-done", reason: "no access to the\tconsole", step: "m1" }))).toEqual({ ok: true, message: 'recorded m1 ("Run: kubectl delete pod db-1") as not done: no access to the console' });
    await expect(waiting).resolves.toEqual({ by: "command", notDone: "no access to the console" });
    expect(desk("auto").d.take(request({ type: "not-done", reason: "x", step: "m1" }))).toMatchObject({ ok: false, message: expect.stringContaining("--confirm-manual auto") });
  });
});

describe("operator-requests.jsonl is validated strictly", () => {
  it("each problem names the line and the field and says how to send one", () => {
    const problem = (line: string) => {
      const parsed = parseRequest(line, 3);
      return "problem" in parsed ? parsed.problem : "accepted";
    };
    expect(problem('{"type":"confirm","note":"","pid":1,"at":"t","step":"m2"}')).toBe("accepted");
    expect(problem('{"type":"not-done","reason":"x","pid":1,"at":"t"}')).toBe("accepted");
    expect(problem("{oops")).toBe(`${OPERATOR_FILE} line 3: is not JSON. Send requests with \`pgdrill mark\` and \`pgdrill confirm\`, which write them as the drill reads them.`);
    expect(problem('{"type":"confirm","note":"","pid":1,"at":"t","step":"2"}')).toMatch(/^operator-requests\.jsonl line 3: "step": must be a manual step id like "m2", got "2"\./);
    expect(problem('{"type":"confirm","note":"","pid":1,"at":"t","stpe":"m2"}')).toMatch(/"stpe": is not a key of a confirm request \(its keys: type, note, step, pid, at, id\)/);
    expect(problem('{"type":"not-done","reason":"  ","pid":1,"at":"t"}')).toMatch(/"reason": must say why the step could not be done/);
    expect(problem('{"type":"mark","note":"x","step":"m1","pid":1,"at":"t"}')).toMatch(/"step": is not a key of a mark request/);
    expect(problem('{"type":"skip","pid":1,"at":"t"}')).toMatch(/"type": must be one of mark, confirm, not-done, got "skip"/);
    expect(problem('{"type":"confirm","note":"","pid":"1","at":"t"}')).toMatch(/"pid": must be the sender's process id/);
    // A bad line with a readable id is still answered (refused), so its sender hears why.
    expect(parseRequest('{"type":"confirm","pid":1,"at":"t","id":"9-ab"}', 1)).toMatchObject({ id: "9-ab", problem: expect.stringContaining('"note": must be a string') });
  });
});

/** A run directory with a drill "running" in this process: its request file tailed into a desk. */
function runningDrill(scenarioSchedule: unknown[] = [{ at: "1s", manual: { say: STEPS[0]!.say } }, { at: "2s", manual: { say: STEPS[1]!.say } }]) {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-confirm-"));
  writeFileSync(join(dir, "history.jsonl"), `${JSON.stringify({ kind: "run-start", t: 0 })}\n`);
  writeFileSync(join(dir, "scenario.json"), JSON.stringify({ schedule: scenarioSchedule }));
  const { d, warnings } = desk();
  const invalid: string[] = [];
  const stop = watchOperatorRequests(dir, (r) => d.take(r), (problem) => invalid.push(problem));
  return { dir, d, warnings, invalid, stop };
}

function cli() {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => (out += t), err: (t: string) => (err += t), color: false, live: { write: () => true } }, out: () => out, err: () => err };
}

describe("pgdrill confirm --step / --not-done against a running drill (the request and reply files)", () => {
  it("prints the drill's answer: the step confirmed (exit 0), or the refusal in one line (exit 2)", async () => {
    const drill = runningDrill();
    try {
      const m2 = drill.d.ask({ id: "m2", say: STEPS[1]!.say, timeoutMs: 60_000 }, new AbortController().signal);
      const wrong = cli();
      expect(await main(["confirm", drill.dir, "--step", "1"], wrong.io)).toBe(2);
      expect(wrong.err()).toMatch(/^pgdrill: m1 is not waiting: it has not been shown yet; m2 \("Promote db-2 by hand"\) is waiting\. If you meant m2, send it again with --step m2; .*\n$/);
      expect(wrong.err().trim().split("\n")).toHaveLength(1);
      expect(drill.d.pending).toMatchObject({ id: "m2" });
      const right = cli();
      expect(await main(["confirm", drill.dir, "--step", "m2", "promoted"], right.io)).toBe(0);
      expect(right.out()).toBe(`confirmed m2 ("Promote db-2 by hand"): ${drill.dir}\n`);
      await expect(m2).resolves.toEqual({ by: "command", note: "promoted" });
    } finally {
      drill.stop();
    }
  });

  it("--not-done records the step as not done with the reason; an empty reason, a step the schedule lacks and a note beside --not-done are refused before anything is sent", async () => {
    const drill = runningDrill();
    try {
      const m1 = drill.d.ask({ id: "m1", say: STEPS[0]!.say, timeoutMs: 60_000 }, new AbortController().signal);
      const said = cli();
      expect(await main(["confirm", drill.dir, "--not-done", "no access to the console"], said.io)).toBe(0);
      expect(said.out()).toContain('recorded m1 ("Run: kubectl delete pod db-1") as not done: no access to the console');
      await expect(m1).resolves.toEqual({ by: "command", notDone: "no access to the console" });
      for (const [args, expected] of [
        [["--not-done", "  "], /^pgdrill: --not-done: is empty\. Say why the step could not be done/],
        [["--step", "m3"], /^pgdrill: --step: this run has no manual step m3 \(its manual steps: m1, m2\)\. Name one of those/],
        [["--step", "x"], /^pgdrill: --step: "x" is not a manual step\./],
        [["a note", "--not-done", "why"], /^pgdrill: note: goes with a confirmation; --not-done takes the reason itself/],
      ] as const) {
        const refused = cli();
        expect(await main(["confirm", drill.dir, ...args], refused.io)).toBe(2);
        expect(refused.err()).toMatch(expected);
      }
      // None of the refused ones reached the drill: only the one request was written.
      expect(readFileSync(join(drill.dir, OPERATOR_FILE), "utf8").trim().split("\n")).toHaveLength(1);
    } finally {
      drill.stop();
    }
  });

  it("a request line the drill cannot read is reported (and answered when it has an id), not silently dropped", async () => {
    const drill = runningDrill();
    writeFileSync(join(drill.dir, OPERATOR_FILE), '{"type":"confirm","pid":1,"at":"t","id":"1-x","step":"m9x"}\n', { flag: "a" });
    drill.stop();
    expect(drill.invalid).toEqual([expect.stringMatching(/^operator-requests\.jsonl line 1: "step": must be a manual step id like "m2", got "m9x"/)]);
    expect(readFileSync(join(drill.dir, "operator-replies.jsonl"), "utf8")).toContain('"id":"1-x","ok":false');
  });
});

describe("n at the prompt: the waiting step could not be done", () => {
  function keyboard() {
    const { d } = desk();
    const logs: string[] = [];
    const prompts: Array<string | null> = [];
    const stdin = Object.assign(new EventEmitter(), { isRaw: false, setRawMode() {}, setEncoding() {}, resume() {}, pause() {} }) as unknown as NodeJS.ReadStream;
    const k = new Keyboard({ stdin, view: { log: (line) => logs.push(line), setPrompt: (text) => prompts.push(text) }, interrupt: () => undefined });
    k.attach(d);
    return { d, k, logs, prompts };
  }

  it("n, a reason and Enter record it; an empty reason keeps asking; Esc cancels and the step still waits; with none waiting n says so", async () => {
    const { d, k, logs, prompts } = keyboard();
    k.onData("n");
    expect(logs.at(-1)).toMatch(/no manual step is waiting/);
    const waiting = d.ask({ id: "m1", say: STEPS[0]!.say, timeoutMs: 60_000 }, new AbortController().signal);
    expect(prompts.at(-1)).toContain("press Enter when done, n if it cannot be done");
    k.onData("nnever mind\u001b");
    expect(logs.at(-1)).toBe("not done: cancelled, the step still waits");
    expect(d.pending).toMatchObject({ id: "m1" });
    k.onData("n\r");
    expect(logs.at(-1)).toBe("say why m1 could not be done, then Enter (Esc cancels)");
    k.onData("the console is down");
    expect(prompts.at(-1)).toBe("m1 not done, because> the console is down\u2588  (Enter records it, Esc cancels)");
    k.onData("\r");
    await expect(waiting).resolves.toEqual({ by: "keyboard", notDone: "the console is down" });
  });

  it("a reason finished after its step timed out is not applied to the next step", async () => {
    const { d, k, logs } = keyboard();
    const first = new AbortController();
    void d.ask({ id: "m1", say: STEPS[0]!.say, timeoutMs: 1000 }, first.signal);
    k.onData("nslow typing");
    first.abort();
    const m2 = d.ask({ id: "m2", say: STEPS[1]!.say, timeoutMs: 60_000 }, new AbortController().signal);
    k.onData("\r");
    expect(logs.at(-1)).toMatch(/^not recorded: m1 is not waiting: it ended without an answer .*; m2 \("Promote db-2 by hand"\) is waiting \(press m to mark it instead\)$/);
    expect(d.pending).toMatchObject({ id: "m2" });
    d.confirm("keyboard");
    await expect(m2).resolves.toEqual({ by: "keyboard" });
  });
});

describe("a drill with two manual steps: a late confirmation for m1 is refused, m2 is reported not done (fake target, virtual clock)", { timeout: 30_000 }, () => {
  it("is recorded in the History as a timeout is (no fault), with who said so and why, and report.md says so", async () => {
    const scenario = validateScenario(
      {
        name: "game-day",
        target: { kind: "container-pair" },
        probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
        steadyState: { window: "1s", minAvailability: 0 },
        duration: "20s",
        schedule: [
          { at: "2s", manual: { say: "Run: kubectl delete pod db-1", timeout: "2s" } },
          { at: "5s", manual: { say: "Promote db-2 by hand", timeout: "5s" } },
        ],
      },
      "s",
    );
    const clock = new VirtualClock();
    const started = new FakeTarget({ clock });
    const topology: Topology = { kind: "container-pair", nodes: ["primary", "standby"], initialPrimary: "primary", start: async () => started };
    const outDir = mkdtempSync(join(tmpdir(), "pgdrill-confirm-drill-"));
    const replies: Array<{ ok: boolean; message: string }> = [];
    const input: OperatorInput = {
      attach(d) {
        return d.onPrompt((prompt) => {
          // What the drill does with `pgdrill confirm` lines (the file is exercised above): m1's confirmation arrives while m2 waits.
          if (prompt?.id !== "m2") return;
          replies.push(d.take({ type: "confirm", note: "pod deleted", step: "m1", pid: 1, at: "" }));
          void clock.sleepUntil(clock.now() + 1000).then(() => replies.push(d.take({ type: "not-done", reason: "db-2 was unreachable", step: "m2", pid: 1, at: "" })));
        });
      },
    };
    const outcome = await clock.drive(runDrill(scenario, { source: "s", outDir, topology, clock, operator: { confirm: "ask", input } }), { realMsPerJump: 2 });
    const events = readFileSync(join(outDir, "history.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as HistoryEvent);
    expect(replies.map((reply) => reply.ok)).toEqual([false, true]);
    expect(replies[0]!.message).toMatch(/^m1 is not waiting: it ended without an answer .* at \d+\.\d s into the run; m2 \("Promote db-2 by hand"\) is waiting\./);
    const ends = events.filter((e) => e.kind === "action" && e.phase === "end").map((e) => e.kind === "action" && [e.id, e.ok, e.error]);
    expect(ends).toEqual([["m1", false, "not confirmed within 2.00 s"], ["m2", false, "reported not done by command: db-2 was unreachable"]]);
    expect(events.filter((e) => e.kind === "fault")).toEqual([]);
    expect(events.filter((e) => e.kind === "mark")).toEqual([]);
    const warnings = events.flatMap((e) => (e.kind === "log" && e.level === "warn" ? [e.message] : []));
    expect(warnings).toEqual([
      'manual step m1 ("Run: kubectl delete pod db-1"): not confirmed within 2.00 s; recorded as not done (no fault)',
      expect.stringMatching(/^`pgdrill confirm --step m1` refused: m1 is not waiting/),
      'manual step m2 ("Promote db-2 by hand"): reported not done by command: db-2 was unreachable (1.00 s after it was shown); recorded as not done (no fault)',
    ]);
    expect(events.at(-1)).toMatchObject({ kind: "run-end", status: "completed" });
    expect(outcome.result.verdict).toBe("pass");
    const md = renderMarkdown(reportModel(analyzeHistory(events, { gate: {} }), reportContextOf(events)));
    expect(md).toMatch(/\| manual not done \| m2 reported not done by command: db-2 was unreachable: Promote db-2 by hand \| command \|/);
  });
});
