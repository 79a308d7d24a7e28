/**
 * Who made what, so `pgdrill reap` removes a crashed run's leftovers and never a live run's.
 *
 * Containers and networks carry the owner in Docker labels (pid, host, and where the system says
 * so, the process's start time and the boot it started in). Resources that cannot be labelled — a
 * kind cluster's node containers are created by kind — get an owner record: a small file written
 * *before* the resource is made, in the system's temp directory, whose lifetime matches the
 * processes it describes (after a reboot every owner is gone, and so are the records).
 *
 * An owner is gone when its pid names no process, a zombie (it exited and nobody has reaped it:
 * where PID 1 does not reap orphans, a killed run stays one for good), or a process that started
 * at another time or in another boot than the one that wrote the label (the pid was reused).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";

export interface Owner {
  pid: number;
  host: string;
  /**
   * When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), as a
   * string of digits. Absent where there is no /proc, and in labels and records written by
   * earlier versions of pgdrill: then the pid alone decides, as it did.
   */
  start?: string;
  /** /proc/sys/kernel/random/boot_id of the boot the process started in, so a reboot cannot alias a pid. */
  boot?: string;
}

export interface OwnerRecord extends Owner {
  /** What was made, e.g. "kind cluster pgdrill-20261125-101500-ab12". */
  resource: string;
  runId: string;
  createdAt: string;
}

/** Where process states are read; tests point it elsewhere to see the fallback without /proc. */
export interface ProcSource {
  /** Default "/proc". */
  procDir?: string;
}

let self: Owner | null = null;

export function thisProcess(): Owner {
  if (!self) {
    const stat = readStat(process.pid);
    const boot = readBootId();
    self = { pid: process.pid, host: hostname(), ...(stat ? { start: stat.start } : {}), ...(stat && boot ? { boot } : {}) };
  }
  // The host name can change while we run; the pid and start time cannot.
  return { ...self, host: hostname() };
}

/**
 * The owner is a process on this host that has exited. Owners on other hosts are never judged
 * gone (we cannot see their processes); a missing or malformed pid is.
 */
export function ownerGone(owner: { pid?: unknown; host?: unknown; start?: unknown; boot?: unknown }, source: ProcSource = {}): boolean {
  if (owner.host !== hostname()) return false;
  const pid = Number(owner.pid);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  const procDir = source.procDir ?? "/proc";
  const start = typeof owner.start === "string" && /^\d+$/.test(owner.start) ? owner.start : undefined;
  const boot = typeof owner.boot === "string" && owner.boot !== "" ? owner.boot : undefined;

  if (!existsProc(procDir)) {
    // No /proc (macOS, BSD): ask the kernel whether the pid exists; a zombie still does, and a
    // reused pid cannot be told apart. Our own pid is ours.
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  }
  if (boot !== undefined) {
    const now = readBootId(procDir);
    if (now !== null && now !== boot) return true;
  }
  const stat = readStat(pid, procDir);
  if (stat === null) return true;
  // Z: exited, not yet reaped. X: being removed.
  if (stat.state === "Z" || stat.state === "X") return true;
  if (start !== undefined && stat.start !== start) return true;
  return false;
}

interface Stat {
  state: string;
  start: string;
}

/**
 * /proc/<pid>/stat's state (field 3) and start time (field 22), or null when there is no such
 * process. The command name (field 2) is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the last ")".
 */
function readStat(pid: number, procDir = "/proc"): Stat | null {
  let text: string;
  try {
    text = readFileSync(join(procDir, String(pid), "stat"), "utf8");
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const start = fields[19];
  if (!state || !start || !/^\d+$/.test(start)) return null;
  return { state, start };
}

function readBootId(procDir = "/proc"): string | null {
  try {
    return readFileSync(join(procDir, "sys/kernel/random/boot_id"), "utf8").trim() || null;
  } catch {
    return null;
  }
}

function existsProc(procDir: string): boolean {
  try {
    readFileSync(join(procDir, "self/stat"));
    return true;
  } catch {
    return false;
  }
}

function recordsDir(): string {
  return process.env.PGDRILL_STATE_DIR ?? join(tmpdir(), "pgdrill-owners");
}

function recordPath(resource: string): string {
  return join(recordsDir(), `${resource.replace(/[^A-Za-z0-9_.-]+/g, "_")}.json`);
}

/** Call before making the resource: a crash between the two must still leave a record behind. */
export function recordOwner(resource: string, runId: string): void {
  mkdirSync(recordsDir(), { recursive: true });
  const record: OwnerRecord = { resource, runId, ...thisProcess(), createdAt: new Date().toISOString() };
  writeFileSync(recordPath(resource), `${JSON.stringify(record)}\n`);
}

export function forgetOwner(resource: string): void {
  rmSync(recordPath(resource), { force: true });
}

/** The record for a resource, or null when there is none (its owner and its temp dir are gone). */
export function ownerOf(resource: string): OwnerRecord | null {
  try {
    return JSON.parse(readFileSync(recordPath(resource), "utf8")) as OwnerRecord;
  } catch {
    return null;
  }
}

/** A resource with pgdrill's name is left over when no record says who owns it, or its owner exited. */
export function isLeftOver(resource: string): boolean {
  const owner = ownerOf(resource);
  return owner === null || ownerGone(owner);
}
