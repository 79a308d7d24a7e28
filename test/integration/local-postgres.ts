/**
 * A throwaway PostgreSQL 15 on loopback for tests that need a real server and no Docker: Debian's
 * postgresql-15, initdb as the postgres user into a temporary folder, scram-sha-256 with a password,
 * a free port. `stop`/`start` stop and restart it; `pids` are its processes (to freeze it as a hung
 * network would); `remove` stops it at once and deletes its folder.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface LocalPostgres {
  dir: string;
  port: number;
  password: string;
  /** postgresql://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  psql: (sql: string) => string;
  start: () => void;
  stop: (mode: "fast" | "immediate") => void;
  pids: () => number[];
  remove: () => void;
}

export function sh(command: string, args: string[], asPostgres = false): string {
  const run = asPostgres
    ? spawnSync("runuser", ["-u", "postgres", "--", command, ...args], { encoding: "utf8" })
    : spawnSync(command, args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${run.status}:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function startLocalPostgres(password: string): Promise<LocalPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-local-pg-"));
  const uid = Number(sh("id", ["-u", "postgres"]).trim());
  chmodSync(dir, 0o755);
  chownSync(dir, uid, Number(sh("id", ["-g", "postgres"]).trim()));
  writeFileSync(join(dir, "pw"), password);
  chownSync(join(dir, "pw"), uid, 0);
  sh(`${PG_BIN}/initdb`, ["-D", join(dir, "data"), "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(dir, "pw")}`], true);
  const port = await freePort();
  const pgCtl = (...args: string[]) => sh(`${PG_BIN}/pg_ctl`, ["-D", join(dir, "data"), ...args], true);
  const start = () => pgCtl("-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "-l", join(dir, "log"), "-w", "start");
  start();
  return {
    dir,
    port,
    password,
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    psql: (sql) =>
      spawnSync("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-Atc", sql], {
        encoding: "utf8",
        env: { ...process.env, PGPASSWORD: password },
      }).stdout,
    start: () => void start(),
    stop: (mode) => void pgCtl("-m", mode, "stop"),
    pids: () => {
      const postmaster = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
      const children = readdirSync("/proc")
        .filter((name) => /^\d+$/.test(name))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === String(postmaster);
          } catch {
            return false;
          }
        });
      return [postmaster, ...children.map(Number)];
    },
    remove: () => {
      spawnSync("runuser", ["-u", "postgres", "--", `${PG_BIN}/pg_ctl`, "-D", join(dir, "data"), "-m", "immediate", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
