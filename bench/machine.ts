/** What the numbers were taken on: they mean nothing without the machine and its load. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  docker: string;
  postgresImage: string;
}

export function describeMachine(image: string): Machine {
  const cpuinfo = safely(() => readFileSync("/proc/cpuinfo", "utf8"), "");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  const osRelease = safely(() => readFileSync("/etc/os-release", "utf8"), "");
  return {
    cores: cpus().length,
    cpuModel: model.trim(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? process.platform,
    node: process.version,
    docker: safely(() => execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8", timeout: 10_000 }).trim(), "unknown"),
    postgresImage: image,
  };
}

/** 1, 5 and 15-minute load averages: the machine is shared, so every result says how busy it was. */
export function load(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
