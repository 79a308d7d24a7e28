/**
 * Starting one named container of a target: a failure says what the container printed (a refused
 * image, a bad configuration), found by the node label every target's containers carry.
 */
import type { GenericContainer, StartedTestContainer } from "testcontainers";
import { HarnessError, errorMessage } from "../../errors.ts";
import { LABELS, type Docker } from "./docker.ts";

/** Starts a container; a failure says what the container printed (a refused image, a bad config). */
export async function startNamed(docker: Docker, container: GenericContainer, name: string): Promise<StartedTestContainer> {
  try {
    return await container.start();
  } catch (error) {
    const found = (await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${name}`] } }).catch(() => []))[0];
    let output = "";
    if (found) {
      const logs = await docker
        .getContainer(found.Id)
        .logs({ stdout: true, stderr: true, tail: 20 })
        .catch(() => null);
      output = logs ? demux(Buffer.from(logs as unknown as Buffer)).trim() : "";
    }
    throw new HarnessError(`${name} did not start: ${errorMessage(error)}${output ? `\n${name} printed:\n${output}` : ""}`, {
      cause: error,
    });
  }
}

/**
 * The last lines each container of a run printed, by node, for an error that says why a start-up
 * failed after every container was running (a node whose own set-up failed exits with its reason).
 */
export async function printedByRun(docker: Docker, runId: string, tail = 12): Promise<string> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.run}=${runId}`] } }).catch(() => []);
  const parts = await Promise.all(
    containers.map(async (found) => {
      const logs = await docker
        .getContainer(found.Id)
        .logs({ stdout: true, stderr: true, tail })
        .catch(() => null);
      const output = logs ? demux(Buffer.from(logs as unknown as Buffer)).trim() : "";
      const name = found.Labels[LABELS.node] ?? found.Names[0] ?? found.Id.slice(0, 12);
      return output ? `${name} (${found.State}) printed:\n${output}` : "";
    }),
  );
  return parts.filter((part) => part !== "").join("\n");
}

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
export function demux(buffer: Buffer): string {
  let text = "";
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    text += buffer.subarray(offset + 8, offset + 8 + size).toString("utf8");
    offset += 8 + size;
  }
  return offset === 0 ? buffer.toString("utf8") : text;
}
