/**
 * pgdrill's own bootstrap on an image without the local image's ready-made cluster, as on the
 * official postgres images: the primary runs initdb, the standby clones it, and they stream.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../harness/connection/session.ts";
import { containerPair } from "../../harness/targets/container-pair/pair.ts";
import { chooseImage } from "../../harness/targets/shared/image.ts";
import { dockerClient } from "../../harness/targets/shared/docker.ts";
import { leftovers } from "./helpers.ts";

const BARE = "pgdrill/postgres:test-no-template";

describe("bootstrap without a ready-made cluster in the image", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const { image } = await chooseImage(await dockerClient(), {});
    const builder = `pgdrill-test-no-template-${process.pid}`;
    execFileSync("docker", ["run", "--name", builder, image, "rm", "-rf", "/var/lib/postgresql/template"]);
    execFileSync("docker", ["commit", builder, BARE]);
    execFileSync("docker", ["rm", builder]);
  });

  afterAll(() => {
    execFileSync("docker", ["rmi", "-f", BARE]);
  });

  it("runs initdb on the primary, and the standby streams from it", async () => {
    const runId = `notemplate${Date.now().toString(36)}`;
    const logs: string[] = [];
    const pair = await containerPair({ kind: "container-pair", replication: "async", startupTimeout: "60s", image: BARE }).start({ runId, scenario: "bootstrap-test", log: (line) => logs.push(line) });
    try {
      expect(logs.join("\n")).toContain(`image ${BARE}`);
      const session = await Session.connect(pair.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "pgdrill-test" });
      try {
        const result = await session.query<{ state: string }>("SELECT state FROM pg_stat_replication", [], 5000);
        expect(result.rows.map((row) => row.state)).toEqual(["streaming"]);
      } finally {
        await session.close();
      }
    } finally {
      await pair.teardown();
    }
    expect(await leftovers(runId)).toEqual([]);
  });
});
