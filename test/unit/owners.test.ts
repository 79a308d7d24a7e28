/**
 * Owners: how `pgdrill reap` tells a killed run's leftovers from a live run's. Real processes stand
 * in for owners: this one (alive), a child that has exited (gone), a zombie (gone), and a live
 * process whose pid is right but whose start time is not (the pid was reused: gone).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forgetOwner, isLeftOver, ownerGone, ownerOf, recordOwner, thisProcess } from "../../harness/targets/shared/owners.ts";

let previous: string | undefined;
let dir: string;
const started: ChildProcess[] = [];
beforeEach(() => {
  previous = process.env.PGDRILL_STATE_DIR;
  dir = mkdtempSync(join(tmpdir(), "pgdrill-owners-"));
  process.env.PGDRILL_STATE_DIR = dir;
});
afterEach(() => {
  if (previous === undefined) delete process.env.PGDRILL_STATE_DIR;
  else process.env.PGDRILL_STATE_DIR = previous;
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) if (check()) return true;
  return check();
}

/**
 * A zombie, made deterministically: a shell starts `sleep 0.1` in the background and then becomes
 * `sleep 30` (exec), which never waits for children; the short sleep exits and stays a zombie
 * for as long as its parent lives, whoever PID 1 is.
 */
async function zombie(): Promise<number> {
  const parent = spawn("sh", ["-c", "sleep 0.1 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
  started.push(parent);
  const pid = await new Promise<number>((resolve) => parent.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  expect(await until(() => stateOf(pid) === "Z", 5_000)).toBe(true);
  return pid;
}

/** A live process of our own, and its start time as /proc gives it. */
async function liveProcess(): Promise<{ pid: number; start: string }> {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  started.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
  return { pid: child.pid!, start: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]! };
}

const linux = process.platform === "linux";

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

describe("ownerGone", () => {
  it("this process is not gone, by its record or by its bare pid (labels of earlier versions)", () => {
    expect(ownerGone(thisProcess())).toBe(false);
    expect(ownerGone({ pid: process.pid, host: hostname() })).toBe(false);
  });

  it.runIf(linux)("records the owner's start time and boot, and writes them into the owner record", () => {
    const owner = thisProcess();
    expect(owner.start).toMatch(/^\d+$/);
    expect(owner.boot).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    recordOwner("kind cluster pgdrill-c", "run-c");
    expect(ownerOf("kind cluster pgdrill-c")).toMatchObject({ pid: process.pid, start: owner.start, boot: owner.boot });
  });

  it.runIf(linux)("a zombie (exited, never reaped) is gone, with or without a start time", async () => {
    const pid = await zombie();
    // The kernel still has the pid: asking it alone, as pgdrill did, says the owner is alive.
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(ownerGone({ pid, host: hostname() })).toBe(true);
    expect(ownerGone({ pid: String(pid), host: hostname(), start: "1", boot: thisProcess().boot })).toBe(true);
  });

  it.runIf(linux)("a pid now held by a process with another start time, or from another boot, is gone (the pid was reused)", async () => {
    const { pid, start } = await liveProcess();
    const boot = thisProcess().boot;
    expect(ownerGone({ pid, host: hostname(), start, boot })).toBe(false);
    expect(ownerGone({ pid, host: hostname(), start: String(Number(start) + 1), boot })).toBe(true);
    expect(ownerGone({ pid, host: hostname(), start, boot: "00000000-0000-0000-0000-000000000000" })).toBe(true);
    // Our own pid, written by a process that started at another time (before a reboot, say).
    expect(ownerGone({ ...thisProcess(), start: "1" })).toBe(true);
    // Labels without a start time are judged by the pid, as before.
    expect(ownerGone({ pid, host: hostname() })).toBe(false);
    // Labels are strings: a start time that is not a number is ignored, not taken for a mismatch.
    expect(ownerGone({ pid, host: hostname(), start: "" })).toBe(false);
  });

  it("owners on another host are never gone, whatever their pid", async () => {
    expect(ownerGone({ pid: deadPid(), host: "some-other-host" })).toBe(false);
    expect(ownerGone({ pid: deadPid(), host: "some-other-host", start: "1", boot: "x" })).toBe(false);
  });

  it("without /proc, falls back to asking the kernel whether the pid exists", async () => {
    const noProc = { procDir: "/nonexistent-proc" };
    const { pid } = await liveProcess();
    expect(ownerGone({ pid, host: hostname(), start: "1" }, noProc)).toBe(false);
    expect(ownerGone({ pid: deadPid(), host: hostname() }, noProc)).toBe(true);
    expect(ownerGone({ pid: process.pid, host: hostname() }, noProc)).toBe(false);
  });
});
