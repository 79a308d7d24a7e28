/**
 * A driver agent is built once per machine and per version of its sources: `harness/drivers/<driver>/build.sh
 * OUTDIR` into `$PGDRILL_CACHE_DIR/drivers/<driver>-<hash of its folder's files>` (default ~/.cache/pgdrill).
 * A lock (an atomic mkdir) keeps two runs from building the same agent at once; the build writes into a
 * temporary folder renamed into place only when it succeeded, so a half-built agent is never run.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { HarnessError } from "../../errors.ts";
import type { Driver } from "../../scenario/probes.ts";

/** harness/drivers/ beside harness/probe/ (dist/harness/drivers/ in the installed package). */
export const DRIVERS_DIR = fileURLToPath(new URL("../../drivers/", import.meta.url));

/** A build that takes longer is broken (pgjdbc and psycopg fetch their driver: minutes at most). */
const BUILD_TIMEOUT_MS = 10 * 60_000;
/** A lock older than a build may take was left by a run that died. */
const STALE_LOCK_MS = BUILD_TIMEOUT_MS + 60_000;

export function cacheRoot(): string {
  return process.env.PGDRILL_CACHE_DIR || join(homedir(), ".cache", "pgdrill");
}

/** The hash of the agent's sources: every file of its folder, by relative path and content. */
export function sourcesHash(driver: Driver): string {
  const dir = join(DRIVERS_DIR, driver);
  if (!existsSync(join(dir, "build.sh"))) throw new HarnessError(`no ${driver} driver agent in this pgdrill (${dir}/build.sh is missing)`);
  const hash = createHash("sha256");
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const path = join(relative, name);
      if (statSync(join(dir, path)).isDirectory()) walk(path);
      else
        hash
          .update(`${path}\0`)
          .update(readFileSync(join(dir, path)))
          .update("\0");
    }
  };
  walk("");
  return hash.digest("hex").slice(0, 16);
}

/** The built agent's folder (its `run`), building it first when this version is not in the cache. */
export async function agentDir(driver: Driver, signal?: AbortSignal): Promise<string> {
  const out = join(cacheRoot(), "drivers", `${driver}-${sourcesHash(driver)}`);
  if (existsSync(join(out, "run"))) return out;
  mkdirSync(join(cacheRoot(), "drivers"), { recursive: true });
  const lock = `${out}.lock`;
  await takeLock(lock, driver, signal);
  try {
    // Another run may have built it while this one waited for the lock.
    if (existsSync(join(out, "run"))) return out;
    const building = `${out}.building-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    const log = join(cacheRoot(), "drivers", `${driver}-build.log`);
    await runBuild(driver, building, log, signal);
    if (!existsSync(join(building, "run"))) throw new HarnessError(`building the ${driver} agent left no run script (log: ${log})`);
    renameSync(building, out);
    return out;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function takeLock(lock: string, driver: Driver, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
    if (since === undefined) continue;
    if (Date.now() - since > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    else if (Date.now() > deadline || signal?.aborted)
      throw new HarnessError(`another run has been building the ${driver} agent too long (${lock})`);
    else await sleep(500);
  }
}

/** Runs build.sh with its output in `log`; a failure names the step (build.sh's last line) and the log. */
function runBuild(driver: Driver, out: string, log: string, signal?: AbortSignal): Promise<void> {
  const fd = openSync(log, "w");
  const child = spawn("bash", [join(DRIVERS_DIR, driver, "build.sh"), out], {
    stdio: ["ignore", fd, fd],
    signal,
    timeout: BUILD_TIMEOUT_MS,
  });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    child.on("error", (error) => reject(new HarnessError(`building the ${driver} agent failed to start: ${error.message}`)));
    child.on("exit", (code, killedBy) => {
      if (code === 0) return resolve();
      const lines = readFileSync(log, "utf8").trim().split("\n");
      const last = lines[lines.length - 1] ?? "";
      const how = killedBy ? `was killed (${killedBy})` : `exited ${code}`;
      reject(new HarnessError(`building the ${driver} agent ${how}: ${last.slice(0, 300)} (full log: ${log})`));
    });
  });
}
