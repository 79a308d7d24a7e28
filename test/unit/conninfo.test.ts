/**
 * libpq connection strings as pgdrill reads them (harness/connection/conninfo.ts): the examples of
 * the libpq documentation (34.1.1, 34.1.2), multi-host lists, malformed strings refused naming the
 * part, no password in any error, and the real libpq (Debian's, through psql) reading the same
 * strings the same way.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseConnInfo, type ConnInfo } from "../../harness/connection/conninfo.ts";
import { libpqEndpoint } from "../../harness/connection/libpq-endpoint.ts";
import { InputError } from "../../harness/errors.ts";

const NO_ENV = {};
const parse = (text: string, env: NodeJS.ProcessEnv = NO_ENV): ConnInfo => parseConnInfo(text, "DATABASE_URL", env);
const hosts = (text: string, env: NodeJS.ProcessEnv = NO_ENV) => parse(text, env).hosts.map(({ host, port }) => `${host}:${port}`);

describe("libpq's documented connection strings", () => {
  it("reads the keyword/value example", () => {
    const info = parse("host=localhost port=5432 dbname=mydb connect_timeout=10");
    expect(info).toMatchObject({ hosts: [{ host: "localhost", port: 5432 }], database: "mydb", user: "postgres", connectTimeoutMs: 10_000 });
  });

  it("reads the URI examples", () => {
    expect(parse("postgresql://", { PGHOST: "db" }).hosts).toEqual([{ host: "db", port: 5432 }]);
    expect(hosts("postgresql://localhost")).toEqual(["localhost:5432"]);
    expect(hosts("postgresql://localhost:5433")).toEqual(["localhost:5433"]);
    expect(parse("postgresql://localhost/mydb").database).toBe("mydb");
    expect(parse("postgresql://user@localhost")).toMatchObject({ user: "user", database: "user", password: "" });
    expect(parse("postgresql://user:secret@localhost")).toMatchObject({ user: "user", password: "secret" });
    expect(parse("postgresql://other@localhost/otherdb?connect_timeout=10&application_name=myapp")).toMatchObject({
      user: "other",
      database: "otherdb",
      connectTimeoutMs: 10_000,
      applicationName: "myapp",
    });
    expect(parse("postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp")).toMatchObject({
      hosts: [
        { host: "host1", port: 123 },
        { host: "host2", port: 456 },
      ],
      database: "somedb",
      targetSessionAttrs: "any",
    });
    expect(hosts("postgresql:///mydb?host=localhost&port=5433")).toEqual(["localhost:5433"]);
    expect(hosts("postgresql://[2001:db8::1234]/database")).toEqual(["2001:db8::1234:5432"]);
    expect(hosts("postgresql:///dbname?host=/var/lib/postgresql")).toEqual(["/var/lib/postgresql:5432"]);
    expect(hosts("postgresql://%2Fvar%2Flib%2Fpostgresql/dbname")).toEqual(["/var/lib/postgresql:5432"]);
  });

  it("reads a multi-host URI as the keyword/value string it equals", () => {
    const uri = parse("postgresql://host1:5001,host2:5002,host3:5003/");
    const pairs = parse("host=host1,host2,host3 port=5001,5002,5003");
    expect(uri.hosts).toEqual(pairs.hosts);
    expect(hosts("postgres://127.0.0.1:6002,127.0.0.1:6001/postgres?target_session_attrs=read-write")).toEqual([
      "127.0.0.1:6002",
      "127.0.0.1:6001",
    ]);
  });
});

describe("host and port lists", () => {
  it("applies one port to every host, pairs equal lists, and defaults empty ports", () => {
    expect(hosts("host=a,b,c port=6000")).toEqual(["a:6000", "b:6000", "c:6000"]);
    expect(hosts("host=a,b port=6000,")).toEqual(["a:6000", "b:5432"]);
    expect(hosts("postgresql://a,b:6001,[::1]:6002/db")).toEqual(["a:5432", "b:6001", "::1:6002"]);
    expect(hosts("host=a,b", { PGPORT: "6543" })).toEqual(["a:6543", "b:6543"]);
  });

  it("dials hostaddr when given, one per host", () => {
    expect(hosts("host=db.example,db2.example hostaddr=10.0.0.1,10.0.0.2")).toEqual(["10.0.0.1:5432", "10.0.0.2:5432"]);
    expect(() => parse("host=a,b hostaddr=10.0.0.1")).toThrow(/the hostaddr list has 1 entries for 2 hosts/);
  });

  it("refuses a port list that matches neither one nor every host", () => {
    expect(() => parse("postgresql://a:1,b:2/db?port=1,2,3")).toThrow(/DATABASE_URL: the port list has 3 entries for 2 hosts/);
    expect(() => parse("host=a,,c")).toThrow(/host 2 of 3 is empty/);
  });
});

describe("keyword/value quoting", () => {
  it("reads single quotes, backslash escapes and spaces around =", () => {
    const info = parse(`host = db  dbname='my db' password='it\\'s \\\\ here' user=a\\ b application_name=''`);
    expect(info).toMatchObject({ database: "my db", password: "it's \\ here", user: "a b" });
    expect(info.applicationName).toBeUndefined();
  });

  it("percent-decodes URI parts and query parameters", () => {
    expect(parse("postgresql://us%40er:p%40ss%2Fw@db/my%20db?application_name=a%26b")).toMatchObject({
      user: "us@er",
      password: "p@ss/w",
      database: "my db",
      applicationName: "a&b",
    });
    expect(parse("postgresql://db/app?ssl=true").sslmode).toBe("require");
  });
});

describe("session attributes and defaults", () => {
  it("reads target_session_attrs and load_balance_hosts, and libpq's environment", () => {
    expect(parse("host=a,b target_session_attrs=prefer-standby load_balance_hosts=random")).toMatchObject({
      targetSessionAttrs: "prefer-standby",
      loadBalanceHosts: "random",
    });
    const env = { PGHOST: "envhost", PGUSER: "app", PGPASSWORD: "pw", PGDATABASE: "appdb", PGTARGETSESSIONATTRS: "read-only" };
    expect(parse("postgresql://", env)).toMatchObject({ user: "app", password: "pw", database: "appdb", targetSessionAttrs: "read-only" });
    expect(parse("user=own", env).user).toBe("own");
  });

  it("raises connect_timeout=1 to 2 s and reads 0 as no limit, as libpq does", () => {
    expect(parse("host=a connect_timeout=1").connectTimeoutMs).toBe(2000);
    expect(parse("host=a connect_timeout=0").connectTimeoutMs).toBeUndefined();
  });

  it("makes a one-host string with target_session_attrs an Endpoint that keeps it", () => {
    const endpoint = libpqEndpoint(parse("postgresql://db/app?target_session_attrs=read-write"), "primary", "DATABASE_URL");
    expect(endpoint).toMatchObject({ host: "db", port: 5432, targetSessionAttrs: "read-write" });
    expect(endpoint.hosts).toBeUndefined();
    const multi = libpqEndpoint(parse("host=a,b port=1,2 sslmode=require connect_timeout=3"), "primary", "DATABASE_URL");
    expect(multi).toMatchObject({ host: "a", port: 1, hosts: [{ host: "a", port: 1 }, { host: "b", port: 2 }], connectTimeoutMs: 3000 });
    expect(multi.ssl).toEqual({ rejectUnauthorized: false });
  });

  it("maps sslmode as libpq means it: require encrypts unchecked, verify-full checks; no TLS without one", () => {
    const ssl = (text: string) => libpqEndpoint(parse(text), "primary", "DATABASE_URL").ssl;
    expect(ssl("host=a")).toBeUndefined();
    expect(ssl("host=a sslmode=disable")).toBeUndefined();
    expect(ssl("host=a sslmode=allow")).toBeUndefined();
    expect(ssl("host=a sslmode=prefer")).toEqual({ rejectUnauthorized: false });
    expect(ssl("host=a sslmode=require")).toEqual({ rejectUnauthorized: false });
    expect(ssl("host=a sslmode=no-verify")).toEqual({ rejectUnauthorized: false });
    expect(ssl("host=a sslmode=verify-full")).toEqual({});
    expect(ssl("host=a sslmode=verify-full sslrootcert=system")).toEqual({});
    expect(() => ssl("host=a sslmode=verify-ca sslrootcert=/nonexistent/root.crt")).toThrow(/sslrootcert: cannot read "\/nonexistent\/root.crt"/);
  });

  it("lists libpq keywords that change nothing here, and refuses those node-postgres cannot honour", () => {
    expect(parse("host=a keepalives=1 client_encoding=UTF8").ignored).toEqual(["keepalives", "client_encoding"]);
    expect(() => parse("service=prod")).toThrow(/service: libpq knows it, but pgdrill's node-postgres client cannot honour it/);
  });
});

/** Malformed strings, each with a password that must not appear in the error. */
const MALFORMED: Array<[string, RegExp]> = [
  ["postgresql://u:hunter2@db/app?target_session_attrs=rw", /target_session_attrs=rw: must be one of any, read-write, read-only/],
  ["host=db password=hunter2 target_session_attrs=rw", /target_session_attrs=rw: must be one of/],
  ["postgresql://u:hunter2@db/app?load_balance_hosts=yes", /load_balance_hosts=yes: must be one of disable, random/],
  ["postgresql://u:hunter2@db/app?sslmode=on", /sslmode=on: must be one of disable, allow, prefer/],
  ["postgresql://u:hunter2@a:1,b:2/app?port=1,2,3", /the port list has 3 entries for 2 hosts/],
  ["postgresql://u:hunter2@db/app?foo=1", /invalid URI query parameter "foo"/],
  ["host=db password=hunter2 foo=1", /invalid connection option "foo"/],
  ["host=db password='hunter2", /password: unterminated quoted string/],
  ["host=db hunter2", /missing "=" after word 2/],
  ["host=db password=x hunter2 user=y", /word 3 is not a keyword|missing "="/],
  ["postgresql://u:hunter2/app", /the port of host 1 is not a number from 1 to 65535/],
  ["postgresql://u:hunter2@db:99999/app", /the port of host 1 \(99999\) is not a number/],
  ["postgresql://u:hunter2@[::1/app", /missing "\]" in an IPv6 host address/],
  ["postgresql://u:hunter2@db/app?connect_timeout=soon", /connect_timeout=soon: not a whole number/],
  ["postgresql://u:hunter2@db/app?application_name", /query parameter "application_name": no "="/],
  ["postgresql://u:hunt%zzer2@db/app", /the password has an invalid percent-encoding/],
  ["postgresql://u:hunter2@/app", /names no host/],
  ["mysql://root:hunter2@db:3306/app", /is not a PostgreSQL connection URL: it starts with mysql:\/\//],
  ["postgresql://u:hunter2@db/app?ssl=false", /ssl=false: only ssl=true is understood/],
];

describe("malformed strings", () => {
  it.each(MALFORMED)("refuses %s naming the part, never the password", (text, expected) => {
    let caught: unknown;
    try {
      parse(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    const message = (caught as InputError).message;
    expect(message).toMatch(/^DATABASE_URL: /);
    expect(message).toMatch(expected);
    expect(message).not.toMatch(/hunter2|hunt%zzer2/);
  });
});

// The real libpq, through psql, reads the same strings: the hosts it tries (every one refuses, so
// each is named in its error) are the hosts parsed here, and it refuses what is refused here.
const psql = spawnSync("psql", ["--version"], { encoding: "utf8" }).status === 0;

function libpq(conninfo: string): { tried: string[]; refused: boolean; stderr: string } {
  const run = spawnSync("psql", ["-w", "-X", "-c", "SELECT 1", conninfo], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin", PGCONNECT_TIMEOUT: "2", HOME: "/nonexistent" },
    timeout: 20_000,
  });
  const tried = [...run.stderr.matchAll(/connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d+) failed/g)].map((m) => `${m[1]}:${m[2]}`);
  return { tried, refused: run.status !== 0 && tried.length === 0, stderr: run.stderr };
}

describe.skipIf(!psql)("against the real libpq (psql)", () => {
  // Ports below 1024 that nothing on this machine listens on: libpq names each host it tried.
  const SAME_HOSTS = [
    "postgresql://u:pw@127.0.0.1:1,127.0.0.1:2,[::1]:3/db?target_session_attrs=read-write",
    "postgres://127.0.0.1:6,127.0.0.1:5/postgres",
    "host=127.0.0.1,127.0.0.1 port=7,8 dbname=x",
    "host = '127.0.0.1' port= 9 user=x dbname=y",
    "host=127.0.0.1,127.0.0.1,127.0.0.1 port=10",
    "postgresql:///db?host=127.0.0.1,127.0.0.1&port=11,12",
    "host=localhost,127.0.0.1 hostaddr=127.0.0.1,127.0.0.1 port=13,14",
  ];
  it.each(SAME_HOSTS)("tries the same hosts in the same order: %s", (text) => {
    const real = libpq(text);
    expect(real.tried.length, real.stderr).toBeGreaterThan(0);
    expect(hosts(text)).toEqual(real.tried);
  });

  const BOTH_REFUSE = [
    "host=a,b port=1,2,3",
    "host=a target_session_attrs=rw",
    "postgresql://127.0.0.1:4/db?foo=1",
    "host=a foo=1",
    "host=a password='x",
    "host=a load_balance_hosts=yes",
    "host=a sslmode=on",
    "postgresql://u:secret/db",
    "host=a,b hostaddr=127.0.0.1",
    "postgresql://[::1/db",
  ];
  it.each(BOTH_REFUSE)("refuses what libpq refuses: %s", (text) => {
    const real = libpq(text);
    expect(real.refused, real.stderr).toBe(true);
    expect(() => parse(text)).toThrow(InputError);
  });
});
