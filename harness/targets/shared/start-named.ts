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

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
function demux(buffer: Buffer): string {
  let text = "";
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    text += buffer.subarray(offset + 8, offset + 8 + size).toString("utf8");
    offset += 8 + size;
  }
  return offset === 0 ? buffer.toString("utf8") : text;
}
