/**
 * The rough edges of `pgdrill watch` a real run hit (issue 25, part 6): its errors name what the user
 * typed (the URL argument, DATABASE_URL, --read-replica), never `target.url`; a watch that errored
 * before measuring anything says so instead of "downtime 0.00 ms".
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import { watchCommand, watchScenario, watchTopology, watchWords } from "../../harness/cli/watch.ts";
import { HarnessError, InputError } from "../../harness/errors.ts";
import type { Topology } from "../../harness/targets/types.ts";

function capture() {
  let out = "";
  let err = "";
  return {
    io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t), color: false, live: { write: (t: string) => void (err += t) } },
    out: () => out,
    err: () => err,
  };
}

const savedUrl = process.env.DATABASE_URL;
afterEach(() => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
});

describe("pgdrill watch: its own words", () => {
  it("a bad URL argument is blamed as the URL argument, a bad DATABASE_URL as DATABASE_URL, a bad --read-replica as itself", async () => {
    const bad = (url: string | undefined, readReplica?: string) => {
      try {
        const { scenario } = watchScenario(url, { every: "100ms", ...(readReplica ? { readReplica } : {}) });
        return watchTopology(scenario, url).then(
          () => null,
          (error: unknown) => error,
        );
      } catch (error) {
        return Promise.resolve(error);
      }
    };
    const fromArgument = await bad("mysql://u:p@h/db");
    expect(fromArgument).toBeInstanceOf(InputError);
    expect((fromArgument as InputError).field).toBe("the URL argument");
    expect((fromArgument as InputError).message).not.toContain("target.");
    process.env.DATABASE_URL = "postgresql://u:p@[nohost/db";
    const fromEnv = (await bad(undefined)) as InputError;
    expect(fromEnv.message).toMatch(/^DATABASE_URL: missing "]"/);
    const replica = (await bad("postgresql://u:p@db/app", "http://x")) as InputError;
    expect(replica.message).toMatch(/^--read-replica: /);
    expect(watchWords("endpoint primary (target.url): app@db", "x")).toBe("endpoint primary (the URL argument): app@db");
  });

  it("through the CLI: one line naming the URL argument", async () => {
    const cli = capture();
    expect(await main(["watch", "postgres://u:p@[x/db", "--for", "1s"], cli.io)).toBe(2);
    expect(cli.err()).toMatch(/^pgdrill: the URL argument: missing "]".*\n$/);
  });

  it("a watch that errored before any operation says it measured nothing, and why, not 'downtime 0.00 ms'", async () => {
    const topology: Topology = {
      kind: "endpoint",
      nodes: ["primary"],
      initialPrimary: "primary",
      start: async () => {
        throw new HarnessError("the endpoint 127.0.0.1:9 did not answer before the start-up timeout (connect ECONNREFUSED 127.0.0.1:9)");
      },
    };
    const cli = capture();
    const out = join(mkdtempSync(join(tmpdir(), "pgdrill-watch-errored-")), "run");
    const outcome = await watchCommand("postgresql://u:p@127.0.0.1:9/db", { every: "100ms", for: "1s", gate: [], out }, cli.io, topology);
    expect(outcome.exitCode).toBe(2);
    expect(cli.out()).toContain("did not answer before the start-up timeout");
    expect(cli.out()).toContain("measured nothing: no probe operation completed before the run errored");
    expect(cli.out()).not.toMatch(/downtime|availability n\/a/);
  });
});
