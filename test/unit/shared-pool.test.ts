/**
 * A series of drills sharing what is slow to make (--share-cluster): the pool makes a resource
 * once per key, hands the same one to every later drill, and removes it after the last, newest
 * first; the series runs every scenario's checks before the first drill and exits with the worst.
 */
import { describe, expect, it } from "vitest";
import { runSeries } from "../../harness/cli/series.ts";
import { SharedPool } from "../../harness/targets/shared/pool.ts";

describe("SharedPool", () => {
  it("makes a resource once per key, even when two drills ask at once, and removes each after the series, newest first", async () => {
    const pool = new SharedPool();
    const made: string[] = [];
    const removed: string[] = [];
    const make = (name: string) => async () => {
      made.push(name);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { value: name, describe: `cluster ${name}`, remove: async () => void removed.push(name) };
    };
    const [a, b] = await Promise.all([pool.use("kind", make("one")), pool.use("kind", make("two"))]);
    expect([a, b]).toEqual(["one", "one"]);
    expect(await pool.use("other", make("three"))).toBe("three");
    expect(made).toEqual(["one", "three"]);
    expect(pool.describe()).toEqual(["cluster one", "cluster three"]);
    expect(await pool.release()).toEqual({ removed: ["cluster three", "cluster one"], failed: [] });
    expect(removed).toEqual(["three", "one"]);
    expect(pool.describe()).toEqual([]);
  });

  it("keeps no failed make (the next drill tries again) and reports a removal that failed", async () => {
    const pool = new SharedPool();
    await expect(pool.use("kind", async () => Promise.reject(new Error("kind create failed")))).rejects.toThrow("kind create failed");
    expect(await pool.use("kind", async () => ({ value: 1, describe: "cluster x", remove: async () => Promise.reject(new Error("docker is gone")) }))).toBe(1);
    expect(await pool.release()).toEqual({ removed: [], failed: ["cluster x: docker is gone"] });
  });
});

describe("pgdrill run a b c (a series)", () => {
  const io = () => {
    const lines: string[] = [];
    return { lines, out: (text: string) => void lines.push(text), err: (text: string) => void lines.push(`err: ${text}`) };
  };

  it("checks every scenario before the first drill: a typo in the last costs no drill", async () => {
    const ran: string[] = [];
    const run = runSeries(["pair-kill-primary", "pair-kill-primry"], { shareCluster: false }, io(), async (arg) => (ran.push(arg), 0));
    await expect(run).rejects.toThrow(/pair-kill-primry/);
    expect(ran).toEqual([]);
  });

  it("runs each into <out>/<scenario>, shares one pool with --share-cluster, releases it after the last and exits with the worst code", async () => {
    const calls: Array<{ arg: string; out: string | undefined; shared: boolean }> = [];
    const pools = new Set<unknown>();
    const codes: Record<string, number> = { "pair-kill-primary": 1, "pair-pause-primary": 0 };
    const seen = io();
    const code = await runSeries(["pair-kill-primary", "pair-pause-primary"], { shareCluster: true, out: "/tmp/series" }, seen, async (arg, out, shared) => {
      calls.push({ arg, out, shared: shared !== undefined });
      pools.add(shared);
      await shared?.use("cluster", async () => ({ value: "k", describe: "kind cluster pgdrill-x", remove: async () => undefined }));
      return codes[arg]!;
    });
    expect(calls).toEqual([
      { arg: "pair-kill-primary", out: "/tmp/series/pair-kill-primary", shared: true },
      { arg: "pair-pause-primary", out: "/tmp/series/pair-pause-primary", shared: true },
    ]);
    expect(pools.size).toBe(1);
    expect(code).toBe(1);
    expect(seen.lines.at(-1)).toBe("removed what the series shared: kind cluster pgdrill-x\n");
  });

  it("stops the series at an interrupted drill, and still releases what it shared", async () => {
    const ran: string[] = [];
    const seen = io();
    const code = await runSeries(["pair-kill-primary", "pair-pause-primary"], { shareCluster: true }, seen, async (arg, _out, shared) => {
      ran.push(arg);
      await shared?.use("cluster", async () => ({ value: "k", describe: "kind cluster pgdrill-y", remove: async () => undefined }));
      return 130;
    });
    expect(ran).toEqual(["pair-kill-primary"]);
    expect(code).toBe(130);
    expect(seen.lines).toContain("removed what the series shared: kind cluster pgdrill-y\n");
  });

  it("a single scenario without --share-cluster runs as before: its --out as given, no pool", async () => {
    const calls: Array<[string, string | undefined, unknown]> = [];
    expect(await runSeries(["pair-kill-primary"], { shareCluster: false, out: "/tmp/one" }, io(), async (arg, out, shared) => (calls.push([arg, out, shared]), 2))).toBe(2);
    expect(calls).toEqual([["pair-kill-primary", "/tmp/one", undefined]]);
  });
});
