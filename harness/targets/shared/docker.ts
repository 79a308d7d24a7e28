/**
 * Everything pgdrill starts in Docker carries its labels, so it can always find and remove its own
 * things (and only those): on every path of a run, and later with `pgdrill reap` after a crash.
 * testcontainers' reaper (Ryuk) does this job where its image can be had; pgdrill does not depend
 * on it.
 */
import { errorMessage, HarnessError } from "../../errors.ts";
import { ownerGone, thisProcess } from "./owners.ts";
// Which engine, and the one-line refusal when none answers, are docker-engine.ts's concern.
import { dockerClient, type Docker } from "./docker-engine.ts";
export { dockerClient, DockerUnavailableError, type Docker } from "./docker-engine.ts";

export const LABELS = {
  managed: "pgdrill.managed",
  run: "pgdrill.run",
  scenario: "pgdrill.scenario",
  node: "pgdrill.node",
  pid: "pgdrill.pid",
  host: "pgdrill.host",
  /** The owner's start time and boot (shared/owners.ts): a reused pid is not taken for a live owner. */
  start: "pgdrill.start",
  boot: "pgdrill.boot",
} as const;

export function runLabels(runId: string, scenario: string): Record<string, string> {
  const owner = thisProcess();
  return {
    [LABELS.managed]: "true",
    [LABELS.run]: runId,
    [LABELS.scenario]: scenario,
    // The owner, so `reap` can tell a killed run's containers from a live one's (shared/owners.ts).
    [LABELS.pid]: String(owner.pid),
    [LABELS.host]: owner.host,
    ...(owner.start ? { [LABELS.start]: owner.start } : {}),
    ...(owner.boot ? { [LABELS.boot]: owner.boot } : {}),
  };
}

let ryukDecision: string | null = null;

/**
 * Decides whether testcontainers may start Ryuk, before its first use. Ryuk's image cannot be
 * pulled where no registry answers, and testcontainers would fail trying; so unless the user chose
 * (TESTCONTAINERS_RYUK_DISABLED set either way), Ryuk is used only when its image is already here.
 * Returns a sentence for the log.
 */
export async function configureReaper(docker: Docker): Promise<string> {
  if (ryukDecision) return ryukDecision;
  const chosen = process.env.TESTCONTAINERS_RYUK_DISABLED;
  if (chosen !== undefined) {
    ryukDecision =
      chosen === "true"
        ? "Ryuk (testcontainers' reaper) is off (TESTCONTAINERS_RYUK_DISABLED=true): pgdrill removes what it starts by its labels."
        : "Ryuk (testcontainers' reaper) is on, as TESTCONTAINERS_RYUK_DISABLED says.";
    return ryukDecision;
  }
  const images = await docker.listImages({ filters: { reference: ["testcontainers/ryuk"] } });
  if (images.length > 0) {
    ryukDecision = "Ryuk (testcontainers' reaper) is on: its image is present.";
  } else {
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    ryukDecision =
      "Ryuk (testcontainers' reaper) is off: its image testcontainers/ryuk is not on this machine and pgdrill does not pull it " +
      "(no container registry may answer). pgdrill labels everything it starts (pgdrill.run=<run id>) and removes it itself " +
      "on success, failure and Ctrl-C; `pgdrill reap` removes what a killed run left.";
  }
  return ryukDecision;
}

/** Removes the containers and networks of one run (or, with no runId, every pgdrill one). */
export async function removeLabelled(docker: Docker, filter: { runId?: string; onlyOrphans?: boolean }): Promise<string[]> {
  const label = filter.runId ? [`${LABELS.run}=${filter.runId}`] : [`${LABELS.managed}=true`];
  const removed: string[] = [];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  // Side by side: each removal is a SIGKILL and a wait for the engine, and a drill's teardown waits on all of them.
  const results = await Promise.allSettled(
    containers
      .filter((info) => !filter.onlyOrphans || isOrphan(info.Labels))
      .map(async (info) => {
        try {
          await docker.getContainer(info.Id).remove({ force: true, v: true });
          return `container ${info.Names[0]?.replace(/^\//, "") ?? info.Id.slice(0, 12)}`;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          return null;
        }
      }),
  );
  for (const result of results) {
    if (result.status === "rejected") throw result.reason;
    if (result.value) removed.push(result.value);
  }
  // A run's volumes (a backup repository) go with its containers, which had to be removed first.
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  for (const info of volumes) {
    if (filter.onlyOrphans && !isOrphan(info.Labels ?? {})) continue;
    try {
      await docker.getVolume(info.Name).remove();
      removed.push(`volume ${info.Name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  const networks = await docker.listNetworks({ filters: { label } });
  for (const info of networks) {
    if (filter.onlyOrphans && !isOrphan(info.Labels ?? {})) continue;
    try {
      await docker.getNetwork(info.Id).remove();
      removed.push(`network ${info.Name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}

/** Left by a pgdrill process on this host that is no longer running. */
function isOrphan(labels: Record<string, string>): boolean {
  return ownerGone({ pid: labels[LABELS.pid], host: labels[LABELS.host], start: labels[LABELS.start], boot: labels[LABELS.boot] });
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "statusCode" in error && error.statusCode === 404;
}

/**
 * The engine, ready for a run to start containers: the reaper decision logged, and what killed
 * earlier runs left (their pgdrill process is gone) removed first, so names and ports are free.
 */
export async function dockerForRun(log: (line: string) => void): Promise<Docker> {
  const docker = await dockerClient();
  log(await configureReaper(docker));
  const orphans = await removeLabelled(docker, { onlyOrphans: true });
  if (orphans.length > 0) log(`removed leftovers of killed runs: ${orphans.join(", ")}`);
  return docker;
}

/**
 * Removes a container by name with its volumes (whichever container holds the name now), and
 * resolves once the name is free for the one that replaces it: a large container's removal takes
 * the engine a while, during which a second removal only says it is "in progress".
 */
export async function removeAndWait(docker: Docker, name: string, timeoutMs = 120_000): Promise<void> {
  const container = docker.getContainer(name);
  const gone = (error: unknown) => /no such container|404/i.test(errorMessage(error));
  await container.remove({ force: true, v: true }).catch((error: unknown) => {
    if (!gone(error) && !/already in progress/i.test(errorMessage(error))) throw error;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await container.inspect().then(
      () => "still there",
      (error: unknown) => (gone(error) ? null : errorMessage(error)),
    );
    if (state === null) return;
    if (Date.now() > deadline) throw new HarnessError(`the container ${name} was not removed within ${timeoutMs / 1000} s (${state})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
