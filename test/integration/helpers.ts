/** Shared helpers for integration tests that drive real containers through a real Docker engine. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { dockerClient, LABELS } from "../../harness/targets/shared/docker.ts";

export function tempRunDir(prefix: string): string {
  return join(mkdtempSync(join(tmpdir(), `pgdrill-${prefix}-`)), "run");
}

export function readEvents(runDir: string): HistoryEvent[] {
  return readFileSync(join(runDir, "history.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as HistoryEvent);
}

/** Containers, networks and volumes (a backup repository) Docker still holds for a run id. */
export async function leftovers(runId: string): Promise<string[]> {
  const docker = await dockerClient();
  const filters = { label: [`${LABELS.run}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

export interface PgdrillProcess {
  process: ChildProcess;
  output: () => string;
  /** Resolves when stderr+stdout has printed a line matching `pattern`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node bin/pgdrill.js <args>` as a real process, reading what it prints. `node` defaults
 * to the one running the tests; `detached` gives it a process group of its own, as a shell's job
 * control would, so the whole group can be signalled.
 */
export function pgdrill(args: string[], options: { node?: string; detached?: boolean } = {}): PgdrillProcess {
  const child = spawn(options.node ?? process.execPath, ["bin/pgdrill.js", ...args], { stdio: ["ignore", "pipe", "pipe"], detached: Boolean(options.detached) });
  let output = "";
  const listeners: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const check = () => {
        if (pattern.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      listeners.push(check);
      check();
    });
  return { process: child, output: () => output, waitFor, exit };
}

/**
 * The machine's own Node when it is older than pgdrill needs (so bin/pgdrill.js hands over to the
 * provisioned one), found on PATH as a shell would without fixtures/with-node.sh; else null.
 */
export function oldSystemNode(): string | null {
  const path = (process.env.PATH ?? "").split(delimiter).filter((dir) => !dir.includes(".cache/node24") && !dir.includes("node_modules/.bin")).join(delimiter);
  const found = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8", env: { ...process.env, PATH: path } }).stdout.trim();
  if (!found) return null;
  const version = spawnSync(found, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major < 22 || (major === 22 && minor < 12) ? found : null;
}

/** A process's state letter from /proc/<pid>/stat (Z for a zombie), or null when there is none. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

/** Pids of processes still running (zombies excepted) whose command line contains `marker`. */
export function runningWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      const state = processState(Number(entry));
      if (cmdline.includes(marker) && state !== null && state !== "Z" && state !== "X") pids.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

/** Polls `check` every 100 ms until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (await check()) return true;
  }
  return check();
}
