/** Where the endpoint target's URLs come from: the scenario first, then the environment, unless the scenario says there is no replica. */
import { afterEach, describe, expect, it } from "vitest";
import { resolveEndpointUrls, toEndpoint } from "../../harness/targets/endpoint/endpoint.ts";
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

describe("the endpoint target's connection strings", () => {
  const spec = endpointTarget.parse({ kind: "endpoint" });

  it("takes a multi-host URL, as pg_auto_failover hands it out, with target_session_attrs", () => {
    const endpoint = toEndpoint("primary", "postgres://127.0.0.1:6002,127.0.0.1:6001/postgres?target_session_attrs=read-write", "DATABASE_URL", spec);
    expect(endpoint).toMatchObject({
      host: "127.0.0.1",
      port: 6002,
      database: "postgres",
      hosts: [
        { host: "127.0.0.1", port: 6002 },
        { host: "127.0.0.1", port: 6001 },
      ],
      targetSessionAttrs: "read-write",
    });
  });

  it("takes keyword/value strings, and honours target_session_attrs on one host", () => {
    expect(toEndpoint("primary", "host=db port=6543 dbname=app user=app password='a b'", "target.url", spec)).toMatchObject({
      host: "db",
      port: 6543,
      database: "app",
      user: "app",
      password: "a b",
    });
    expect(toEndpoint("primary", "postgresql://app@db/app?target_session_attrs=primary", "target.url", spec).targetSessionAttrs).toBe("primary");
  });

  it("refuses a malformed string at resolve time, naming the variable and the part, never the password", () => {
    process.env.DATABASE_URL = "postgresql://app:hunter2@a:1,b:2/app?port=1,2,3";
    expect(() => resolveEndpointUrls(spec)).toThrow(/^DATABASE_URL: the port list has 3 entries for 2 hosts/);
    process.env.DATABASE_URL = "host=db password=hunter2 target_session_attrs=rw";
    expect(() => resolveEndpointUrls(spec)).toThrow(/^DATABASE_URL: target_session_attrs=rw: must be one of/);
    try {
      resolveEndpointUrls(spec);
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
  });
});
