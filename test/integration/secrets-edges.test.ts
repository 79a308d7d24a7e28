/**
 * Issue 25, parts 5 and 6, for real: `pgdrill watch` and `pgdrill run` against a real container
 * pair, with passwords in a watch URL argument, DATABASE_URL, PGPASSWORD and an env var a command
 * echoes; none may reach the console, the run directory or the job summary. Beside it, watching
 * the standby (read-only, not refused) and a schema an ended run could not drop (not "killed").
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoint } from "../../harness/connection/endpoint.ts";
import { Session } from "../../harness/connection/session.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { buildTopology, type StartedTopology } from "../../harness/targets/index.ts";
import { leftovers, readEvents, tempRunDir } from "./helpers.ts";

const runId = `secrets-${Date.now().toString(36)}`;
const PGPASSWORD = "plantedPgpasswordReal";
const TOKEN = "plantedTokenReal";
let pair: StartedTopology;
let primaryUrl: string;
let standbyUrl: string;
let password: string;

const urlOf = (e: Endpoint) => `postgresql://${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}@${e.host}:${e.port}/${e.database}`;

function pgdrill(args: string[], env: Record<string, string> = {}) {
  const started = Date.now();
  const child = spawnSync(process.execPath, ["bin/pgdrill.js", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return { code: child.status, output: `${child.stdout}${child.stderr}`, ms: Date.now() - started };
}

function everyByte(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"))
    .join("\n");
}

function expectClean(where: string, text: string): void {
  for (const secret of [password, PGPASSWORD, TOKEN]) expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
}

async function sql(text: string): Promise<void> {
  const session = await Session.connect(pair.endpoint("primary"), { connectTimeoutMs: 5000, applicationName: "test" });
  try {
    await session.query(text, [], 10_000);
  } finally {
    await session.close();
  }
}

describe("no secret in any output, and the endpoint's edges, on a real container pair", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    const target = validateScenario({ name: "secrets", target: { kind: "container-pair" }, probes: [{ kind: "select1" }], duration: "10s" }, "test").target;
    pair = await buildTopology(target).start({ runId, scenario: "secrets-test", log: () => undefined });
    primaryUrl = urlOf(pair.endpoint("primary"));
    standbyUrl = urlOf(pair.endpoint("standby"));
    password = pair.endpoint("primary").password;
    expect(password.length).toBeGreaterThanOrEqual(8);
  }, 120_000);
  afterAll(async () => {
    await pair?.teardown();
    expect(await leftovers(runId)).toEqual([]);
  });

  it("watch URL: the password is in no byte of the console or the run directory", () => {
    const out = tempRunDir("secret-watch");
    const watch = pgdrill(["watch", primaryUrl, "--every", "50ms", "--for", "2s", "--out", out]);
    console.log(`watch with a password in its URL: exit ${watch.code} in ${watch.ms} ms`);
    expect(watch.code).toBe(0);
    expect(watch.output).toContain("PASS watch");
    expectClean("watch's console", watch.output);
    expectClean("watch's run directory", everyByte(out));
    expect(readFileSync(join(out, "scenario.json"), "utf8")).toContain(":***@");
  });

  it("watch a standby: observed read-only, not refused", () => {
    const out = tempRunDir("watch-standby");
    const watch = pgdrill(["watch", standbyUrl, "--every", "100ms", "--for", "2s", "--out", out]);
    expect(watch.code, watch.output).toBe(0);
    expect(watch.output).toMatch(/is a standby: observing it read-only/);
    expectClean("standby watch's console", watch.output);
    const refused = pgdrill(["watch", standbyUrl, "--writes", "--for", "2s", "--out", tempRunDir("watch-standby-writes")]);
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/the URL argument reaches a server in recovery \(a standby\), and tracked writes need the primary/);
  });

  it("run with DATABASE_URL, PGPASSWORD and a command that echoes its env: nothing in the console, run directory or job summary; an ended run's schema is not called killed", async () => {
    // A schema whose run ended (its teardown could not drop it: noted on this host) and whose owner has exited.
    const stateDir = mkdtempSync(join(tmpdir(), "pgdrill-state-"));
    const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    await sql(`CREATE SCHEMA pgdrill_ended_run; COMMENT ON SCHEMA pgdrill_ended_run IS '${JSON.stringify({ tool: "pgdrill", runId: "ended", pid: dead, host: hostname() })}'`);
    writeFileSync(join(stateDir, "endpoint-undropped-pgdrill_ended_run.json"), `${JSON.stringify({ resource: "endpoint-undropped-pgdrill_ended_run", runId: "ended", pid: dead, host: hostname(), createdAt: new Date().toISOString() })}\n`);

    const dir = mkdtempSync(join(tmpdir(), "pgdrill-secret-run-"));
    const scenarioFile = join(dir, "endpoint-secrets.json");
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        name: "endpoint-secrets",
        target: { kind: "endpoint", allowWrites: true },
        probes: [
          { kind: "select1", every: "100ms" },
          { kind: "writes", every: "100ms" },
        ],
        steadyState: { window: "1s" },
        schedule: [{ at: "2s", fault: { kind: "command", label: "Echo Everything", run: "env | sort | grep -E '^(DATABASE_URL|PGPASSWORD|PGDRILL_X_TOKEN)='; echo \"$PGPASSWORD $PGDRILL_X_TOKEN\"; echo 'pgdrill-event: happened'" } }],
        duration: "4s",
      }),
    );
    const summary = join(dir, "step-summary.md");
    writeFileSync(summary, "");
    const out = join(dir, "run");
    const run = pgdrill(["run", scenarioFile, "--out", out], {
      DATABASE_URL: primaryUrl,
      PGPASSWORD,
      PGDRILL_X_TOKEN: TOKEN,
      GITHUB_STEP_SUMMARY: summary,
      PGDRILL_STATE_DIR: stateDir,
    });
    console.log(`endpoint run with DATABASE_URL, PGPASSWORD and an echoing command: exit ${run.code} in ${run.ms} ms`);
    expect(run.code, run.output).toBe(0);
    expectClean("run's console", run.output);
    expectClean("run's directory", everyByte(out));
    expectClean("the job summary", readFileSync(summary, "utf8"));
    expect(readFileSync(summary, "utf8")).toContain("endpoint-secrets");
    // The command did print them (masked), and said when it happened; the label kept its case.
    const fault = readEvents(out).find((event) => event.kind === "fault");
    expect(fault).toMatchObject({ label: "Echo Everything", instant: true, happenedT: expect.any(Number) });
    expect(fault?.kind === "fault" && fault.output).toMatch(/DATABASE_URL=postgresql:\/\/[^:]+:\*\*\*@/);
    expect(run.output).toContain("dropped schema pgdrill_ended_run, left by run ended, which ended but could not drop it then");
    expect(run.output).not.toContain("left by killed run");
  });
});
