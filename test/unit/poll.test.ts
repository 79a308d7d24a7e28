/** The one wait-until-ready loop the targets share (targets/shared/poll.ts). */
import { describe, expect, it } from "vitest";
import { done, notYet, pollUntil } from "../../harness/targets/shared/poll.ts";

const gaveUp = (last: string) => new Error(`gave up: ${last}`);

describe("pollUntil", () => {
  it("returns the first try that is done, after trying again every so often", async () => {
    let tries = 0;
    const value = await pollUntil(async () => (++tries < 3 ? notYet(`try ${tries}`) : done("ready")), { deadline: Date.now() + 10_000, everyMs: 5, gaveUp });
    expect(value).toBe("ready");
    expect(tries).toBe(3);
  });

  it("gives up at the deadline with the last reason a try gave", async () => {
    let tries = 0;
    await expect(pollUntil(async () => notYet(`no walsender yet (${++tries})`), { deadline: Date.now() + 60, everyMs: 10, gaveUp })).rejects.toThrow(
      new RegExp(`^gave up: no walsender yet \\(\\d+\\)$`),
    );
    expect(tries).toBeGreaterThanOrEqual(2);
  });

  it("says what it was told when no try ran", async () => {
    await expect(pollUntil(async () => done(1), { deadline: Date.now() - 1, everyMs: 10, gaveUp, before: "no walsender yet" })).rejects.toThrow("gave up: no walsender yet");
  });

  it("stops at once when aborted, even mid-pause, with the abort's own error where one is given", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const waiting = pollUntil(async () => notYet("operator starting"), { deadline: Date.now() + 60_000, everyMs: 30_000, signal: abort.signal, gaveUp, aborted: (last) => new Error(`interrupted (${last})`) });
    setTimeout(() => abort.abort(), 20);
    await expect(waiting).rejects.toThrow("interrupted (operator starting)");
    expect(Date.now() - started).toBeLessThan(10_000);
    // Without an abort error, an abort gives up as the deadline would.
    await expect(pollUntil(async () => done(1), { deadline: Date.now() + 1000, everyMs: 5, signal: AbortSignal.abort(), gaveUp })).rejects.toThrow("gave up: not tried");
  });

  it("a try that throws ends the wait with its error: a real failure is not retried", async () => {
    let tries = 0;
    await expect(
      pollUntil(
        async () => {
          tries += 1;
          throw new Error("403 Forbidden");
        },
        { deadline: Date.now() + 10_000, everyMs: 5, gaveUp },
      ),
    ).rejects.toThrow("403 Forbidden");
    expect(tries).toBe(1);
  });
});
