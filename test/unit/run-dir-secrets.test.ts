/**
 * No password reaches a run directory (issue 25, item 5, first part): `pgdrill watch URL` put the
 * URL, password included, into scenario.json, which CI keeps as an artifact. A drill on the fake
 * target with a password planted in the endpoint URL, a key=value setting and a command's
 * environment must leave none of them in any file it writes.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { redactJson } from "../../harness/secrets.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

const PLANTED = ["plantedUrlPw1", "plantedEnvPw2", "plantedKvPw3"];

describe("secrets in a run directory", () => {
  it("redactJson masks URL passwords, key=value passwords and secret-named fields, and nothing else", () => {
    const masked = redactJson({
      url: "postgresql://app:s3cret@db.example.com:5432/app?sslmode=require",
      readReplicaUrl: false,
      schedule: [{ at: "1s", fault: { kind: "command", run: "PGPASSWORD=s3cret psql -c 'select 1'", timeout: "5m" } }],
      conninfo: "host=db password='a b' user=x",
      pooler: { password: "s3cret", user: "pgbouncer", port: 6432 },
      labels: ["https://example.com/x"],
    });
    expect(masked).toEqual({
      url: "postgresql://app:***@db.example.com:5432/app?sslmode=require",
      readReplicaUrl: false,
      schedule: [{ at: "1s", fault: { kind: "command", run: "PGPASSWORD=*** psql -c 'select 1'", timeout: "5m" } }],
      conninfo: "host=db password=*** user=x",
      pooler: { password: "***", user: "pgbouncer", port: 6432 },
      labels: ["https://example.com/x"],
    });
  });

  it("a drill leaves no planted password in any file of its run directory", async () => {
    const scenario = validateScenario(
      {
        name: "secret-drill",
        target: { kind: "endpoint", url: `postgresql://app:${PLANTED[0]}@127.0.0.1:1/app` },
        probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
        steadyState: { window: "1s", minAvailability: 0 },
        schedule: [{ at: "2s", fault: { kind: "command", run: `PGPASSWORD=${PLANTED[1]} true password=${PLANTED[2]}` } }],
        duration: "4s",
      },
      "secrets",
    );
    const clock = new VirtualClock();
    const started = new FakeTarget({ clock });
    const topology: Topology = { kind: "endpoint", nodes: ["primary"], initialPrimary: "primary", start: async () => started };
    const outDir = mkdtempSync(join(tmpdir(), "pgdrill-secret-drill-"));
    await clock.drive(runDrill(scenario, { source: "secrets", outDir, topology, clock }), { realMsPerJump: 2 });

    const files = readdirSync(outDir);
    expect(files).toEqual(expect.arrayContaining(["scenario.json", "history.jsonl", "result.json", "report.md", "report.html"]));
    for (const file of files) {
      const text = readFileSync(join(outDir, file), "utf8");
      for (const secret of PLANTED) expect(text.includes(secret), `${file} holds ${secret}`).toBe(false);
    }
    // What was masked is still there to read, without its secret.
    const written = JSON.parse(readFileSync(join(outDir, "scenario.json"), "utf8")) as { target: { url: string } };
    expect(written.target.url).toBe("postgresql://app:***@127.0.0.1:1/app");
  });
});
