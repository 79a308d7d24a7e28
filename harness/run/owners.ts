/**
 * Who made what, so `pgdrill reap` removes a crashed run's leftovers and never a live run's.
 *
 * Containers and networks carry the owner in Docker labels (pid and host). Resources that cannot
 * be labelled — a kind cluster's node containers are created by kind — get an owner record: a small
 * file written *before* the resource is made, in the system's temp directory, whose lifetime
 * matches the processes it describes (after a reboot every owner is gone, and so are the records).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";

export interface Owner {
  pid: number;
  host: string;
}

export interface OwnerRecord extends Owner {
  /** What was made, e.g. "kind cluster pgdrill-20261125-101500-ab12". */
  resource: string;
  runId: string;
  createdAt: string;
}

export function thisProcess(): Owner {
  return { pid: process.pid, host: hostname() };
}

/**
 * The owner is a process on this host that has exited. Owners on other hosts are never judged
 * gone (we cannot see their processes); a missing or malformed pid is.
 */
export function ownerGone(owner: { pid?: unknown; host?: unknown }): boolean {
  if (owner.host !== hostname()) return false;
  const pid = Number(owner.pid);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
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
