/**
 * The few things the benchmarks ask Docker directly: find a node of a run by pgdrill's labels, ask
 * its PostgreSQL (as the server itself sees things, over the local socket), read its log, and run
 * pgbench. Only containers labelled with a run this process started are touched.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { LABELS, runLabels } from "../harness/targets/shared/docker.ts";

const run = promisify(execFile);

/** docker CLI with a deadline; throws with stderr on a non-zero exit. */
export async function docker(args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run("docker", args, { timeout: timeoutMs, maxBuffer: 64 * 2 ** 20, encoding: "utf8", env: env ?? process.env });
  return { stdout, stderr };
}

/** The container id of `node` in run `runId`, or null once it is gone. */
export async function nodeContainer(runId: string, node: string): Promise<string | null> {
  const { stdout } = await docker(["ps", "-q", "--filter", `label=${LABELS.run}=${runId}`, "--filter", `label=${LABELS.node}=${node}`], 10_000);
  return stdout.trim().split("\n").filter(Boolean)[0] ?? null;
}

/** Runs SQL with psql inside the container (local trust auth), unaligned, tab-separated rows. */
export async function psqlRows(container: string, sql: string, timeoutMs = 15_000): Promise<string[][]> {
  const { stdout } = await docker(["exec", "-u", "postgres", container, "psql", "-X", "-qAt", "-F", "\t", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], timeoutMs);
  return stdout.split("\n").filter((line) => line.length > 0).map((line) => line.split("\t"));
}

/** The server's own log (the bootstrap runs postgres in the foreground, so it is the container log). */
export async function containerLog(container: string): Promise<string> {
  const { stdout, stderr } = await docker(["logs", container], 15_000);
  return `${stdout}\n${stderr}`;
}

export interface PgbenchOutcome {
  tps: number;
  transactions: number;
  latencyMs: number | null;
  raw: string;
}

/**
 * pgbench from the same image, in a container on the host's network, so it reaches the server
 * through the same published port as pgdrill's probes. Labelled with the run, `--rm` when done.
 */
export async function pgbench(options: {
  image: string;
  runId: string;
  port: number;
  user: string;
  password: string;
  script: string;
  clients: number;
  seconds: number;
  protocol: "simple" | "extended";
}): Promise<PgbenchOutcome> {
  const labels = Object.entries({ ...runLabels(options.runId, "bench"), [LABELS.node]: "pgbench" }).flatMap(([key, value]) => ["--label", `${key}=${value}`]);
  const command =
    `printf '%s\\n' "$PGBENCH_SCRIPT" > /tmp/bench.sql && ` +
    `exec "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench" -n -h 127.0.0.1 -p ${options.port} -U ${options.user} ` +
    `-M ${options.protocol} -c ${options.clients} -j 1 -T ${options.seconds} -f /tmp/bench.sql postgres`;
  const { stdout } = await docker(
    ["run", "--rm", "--network", "host", ...labels, "-e", "PGPASSWORD", "-e", "PGBENCH_SCRIPT", "--entrypoint", "/bin/sh", "-u", "postgres", options.image, "-c", command],
    (options.seconds + 60) * 1000,
    { ...process.env, PGPASSWORD: options.password, PGBENCH_SCRIPT: options.script },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
  const latency = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
  if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return { tps, transactions, latencyMs: latency ? Number(latency) : null, raw: stdout.trim() };
}
