/** Where the endpoint target's URLs come from: the scenario first, then the environment, unless the scenario says there is no replica. */
import { afterEach, describe, expect, it } from "vitest";
import { resolveEndpointUrls } from "../../harness/targets/endpoint/endpoint.ts";
import { endpointTarget } from "../../harness/targets/endpoint/plugin.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("the endpoint target's URLs", () => {
  it("falls back to DATABASE_URL and DATABASE_READ_REPLICA_URL, naming where each came from", () => {
    process.env.DATABASE_URL = "postgresql://app@db.example.com/app";
    process.env.DATABASE_READ_REPLICA_URL = "postgresql://app@ro.example.com/app";
    const urls = resolveEndpointUrls(endpointTarget.parse({ kind: "endpoint" }));
    expect(urls.primary.from).toBe("DATABASE_URL");
    expect(urls.replica).toEqual({ url: "postgresql://app@ro.example.com/app", from: "DATABASE_READ_REPLICA_URL" });
  });

  it("reads no replica from the environment when readReplicaUrl is false", () => {
    process.env.DATABASE_READ_REPLICA_URL = "postgresql://app@ro.example.com/app";
    const urls = resolveEndpointUrls(endpointTarget.parse({ kind: "endpoint", url: "postgresql://app@db.example.com/app", readReplicaUrl: false }));
    expect(urls.replica).toBeNull();
  });
});
