/**
 * Owner records: how `pgdrill reap` tells a killed run's kind cluster from a live run's. Real
 * processes stand in for owners: this one (alive) and a child that has exited (gone).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forgetOwner, isLeftOver, ownerGone, ownerOf, recordOwner } from "../../harness/run/owners.ts";

let previous: string | undefined;
let dir: string;
beforeEach(() => {
  previous = process.env.PGDRILL_STATE_DIR;
  dir = mkdtempSync(join(tmpdir(), "pgdrill-owners-"));
  process.env.PGDRILL_STATE_DIR = dir;
});
afterEach(() => {
  if (previous === undefined) delete process.env.PGDRILL_STATE_DIR;
  else process.env.PGDRILL_STATE_DIR = previous;
});

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("owner records", () => {
  it("a resource recorded by a live process is not left over; once forgotten, or never recorded, it is", () => {
    recordOwner("kind cluster pgdrill-a", "run-a");
    expect(ownerOf("kind cluster pgdrill-a")).toMatchObject({ runId: "run-a", pid: process.pid, host: hostname() });
    expect(isLeftOver("kind cluster pgdrill-a")).toBe(false);
    forgetOwner("kind cluster pgdrill-a");
    expect(ownerOf("kind cluster pgdrill-a")).toBeNull();
    expect(isLeftOver("kind cluster pgdrill-a")).toBe(true);
    expect(isLeftOver("kind cluster pgdrill-never-recorded")).toBe(true);
  });

  it("a resource whose owner exited is left over; one owned from another host never is", () => {
    const pid = deadPid();
    expect(ownerGone({ pid, host: hostname() })).toBe(true);
    expect(ownerGone({ pid, host: "some-other-host" })).toBe(false);
    expect(ownerGone({ pid: "not a pid", host: hostname() })).toBe(true);
    writeFileSync(join(dir, "kind_cluster_pgdrill-b.json"), JSON.stringify({ resource: "kind cluster pgdrill-b", runId: "b", pid, host: hostname(), createdAt: "" }));
    expect(ownerOf("kind cluster pgdrill-b")?.pid).toBe(pid);
    expect(isLeftOver("kind cluster pgdrill-b")).toBe(true);
  });
});
