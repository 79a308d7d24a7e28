/** Shared helpers for integration tests that drive real containers through a real Docker engine. */
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HistoryEvent } from "../../harness/history/events.ts";
import { dockerClient, LABELS } from "../../harness/target/docker.ts";

export function tempRunDir(prefix: string): string {
  return join(mkdtempSync(join(tmpdir(), `pgdrill-${prefix}-`)), "run");
}

export function readEvents(runDir: string): HistoryEvent[] {
  return readFileSync(join(runDir, "history.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as HistoryEvent);
}

/** Containers and networks Docker still holds for a run id. */
export async function leftovers(runId: string): Promise<string[]> {
  const docker = await dockerClient();
  const filters = { label: [`${LABELS.run}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`)];
}
