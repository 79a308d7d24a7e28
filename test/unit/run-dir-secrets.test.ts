/**
 * No secret in any output (issue 25, item 5): `pgdrill watch URL` put the URL, password included,
 * into scenario.json, which CI keeps as an artifact. A distinct password is planted in each input a
 * secret can come from (a URL argument, DATABASE_URL, DATABASE_READ_REPLICA_URL, target.url, a
 * key=value `password=…`, PGPASSWORD, a command fault's command line, its output, an env var a
 * command uses, a failing command's last line), and every output byte is searched for each: every
 * file of the run directory, the console of run/watch/validate/report, and the job summary.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../harness/cli/main.ts";
import { redactingIO } from "../../harness/cli/io.ts";
import { watchScenario } from "../../harness/cli/watch.ts";
import { formatSummary } from "../../harness/report/summary.ts";
import { runDrill } from "../../harness/run/drill.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { environmentSecrets, redactJson, redactSecrets } from "../../harness/secrets.ts";
import type { Topology } from "../../harness/targets/types.ts";
import { FakeTarget } from "../fakes/fake-target.ts";
import { VirtualClock } from "../fakes/virtual-clock.ts";

/** One password per input, each distinct, so a leak names its source. */
const P = {
  targetUrl: "plantedTargetUrlPw",
  kvInCommand: "plantedKvPw",
  commandLine: "plantedCmdLinePw",
  commandOutput: "plantedCmdOutputPw",
  pgpassword: "plantedPgpasswordPw",
  databaseUrl: "plantedDatabaseUrlPw",
  replicaUrl: "plantedReplicaUrlPw",
  envUsed: "plantedEnvTokenPw",
  failing: "plantedFailingPw",
  watchArg: "plantedWatchArgPw",
  validateUrl: "plantedValidatePw",
};
const ENV = {
  PGPASSWORD: P.pgpassword,
  DATABASE_URL: `postgresql://app:${P.databaseUrl}@127.0.0.1:9/app`,
  DATABASE_READ_REPLICA_URL: `postgresql://app:${P.replicaUrl}@127.0.0.1:9/app`,
  PGDRILL_TEST_API_TOKEN: P.envUsed,
};
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [name, value] of Object.entries(ENV)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Every file under dir (recursively), as text. */
function filesIn(dir: string): Array<[string, string]> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return [path, readFileSync(path, "utf8")];
    });
}

function expectNoSecret(where: string, text: string): void {
  for (const [input, secret] of Object.entries(P)) expect(text.includes(secret), `${where} holds the password planted in ${input}`).toBe(false);
}

function capture() {
  let text = "";
  const write = (chunk: string) => void (text += chunk);
  return { io: { out: write, err: write, color: false, live: { write } }, text: () => text };
}

describe("secrets in a run directory, the console and the job summary", () => {
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

  it("the environment's secrets are masked by value, and only secret-named variables and passwords inside values count", () => {
    const found = environmentSecrets({ PWD: "/home/me", TOKEN_ENABLED: "true", MY_DB_PASS: "hunter22", DATABASE_URL: "postgres://a:b%40cd@h/d" });
    expect(found.sort()).toEqual(["b%40cd", "b@cd", "hunter22"].sort());
    expect(redactSecrets(`cwd ${process.cwd()}`)).toBe(`cwd ${process.cwd()}`);
    expect(redactSecrets(`token is ${P.envUsed}.`)).toBe("token is ***.");
  });

  it("a drill leaves no planted password in any file of its run directory, its console or the job summary", async () => {
    const scenario = validateScenario(
      {
        name: "secret-drill",
        target: { kind: "endpoint", url: `postgresql://app:${P.targetUrl}@127.0.0.1:1/app` },
        probes: [{ kind: "select1", every: "500ms", connectTimeout: "200ms", timeout: "200ms" }],
        steadyState: { window: "1s", minAvailability: 0 },
        schedule: [
          {
            at: "2s",
            fault: {
              kind: "command",
              // Its command line holds two, and it prints every secret it can reach, bare.
              run:
                `PGPASSWORD=${P.commandLine} echo password=${P.kvInCommand} "$PGPASSWORD" ${P.commandLine}; ` +
                `echo "$PGDRILL_TEST_API_TOKEN $DATABASE_URL $DATABASE_READ_REPLICA_URL"; echo "secret: ${P.commandOutput}"; ` +
                `echo ${P.targetUrl}`,
            },
          },
          // A failing command: its last line (with a password) becomes the step's error.
          { at: "3s", fault: { kind: "command", run: `echo "token=${P.failing} and $PGPASSWORD"; exit 3` } },
        ],
        duration: "5s",
      },
      "secrets",
    );
    const clock = new VirtualClock();
    const started = new FakeTarget({ clock });
    const topology: Topology = { kind: "endpoint", nodes: ["primary"], initialPrimary: "primary", start: async () => started };
    const outDir = mkdtempSync(join(tmpdir(), "pgdrill-secret-drill-"));
    const console = capture();
    const io = redactingIO(console.io);
    const outcome = await clock.drive(
      runDrill(scenario, { source: "secrets", outDir, topology, clock, log: (line) => io.err(`${line}\n`) }),
      { realMsPerJump: 2 },
    );
    io.out(`${formatSummary(outcome.result, { color: false })}\n`);

    const files = filesIn(outDir);
    expect(files.map(([path]) => path.slice(outDir.length + 1))).toEqual(
      expect.arrayContaining(["scenario.json", "history.jsonl", "result.json", "report.md", "report.html", "junit.xml"]),
    );
    for (const [path, text] of files) expectNoSecret(path, text);
    // The command did print them, and the History kept its output, masked.
    const history = readFileSync(join(outDir, "history.jsonl"), "utf8");
    expect(history).toContain("password=***");
    expect(history).toMatch(/the command exited with 3: token=\*\*\* and \*\*\*/);
    expect(console.text()).toMatch(/exited with 3/);
    expectNoSecret("the console", console.text());
    // What was masked is still there to read, without its secret.
    const written = JSON.parse(readFileSync(join(outDir, "scenario.json"), "utf8")) as { target: { url: string } };
    expect(written.target.url).toBe("postgresql://app:***@127.0.0.1:1/app");

    // `pgdrill report` re-renders every file and prints the summary, and appends report.md to the job summary.
    const summaryFile = join(mkdtempSync(join(tmpdir(), "pgdrill-step-summary-")), "summary.md");
    writeFileSync(summaryFile, "");
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
    const report = capture();
    try {
      await main(["report", outDir], report.io);
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
    }
    expect(report.text()).toContain("secret-drill");
    expectNoSecret("pgdrill report's console", report.text());
    expect(readFileSync(summaryFile, "utf8")).toContain("secret-drill");
    expectNoSecret("the job summary", readFileSync(summaryFile, "utf8"));
    for (const [path, text] of filesIn(outDir)) expectNoSecret(`${path} after pgdrill report`, text);
  });

  it("validate's console: an invalid scenario's errors and a valid one's plan carry no password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pgdrill-secret-validate-"));
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({
        name: "bad",
        target: { kind: "endpoint", url: `postgresql://app:${P.validateUrl}@[::1/app`, password: P.validateUrl },
        probes: [{ kind: "select1", every: "1s" }],
        duration: "10s",
      }),
    );
    const good = join(dir, "good.json");
    writeFileSync(
      good,
      JSON.stringify({
        name: "good",
        target: { kind: "endpoint", url: `postgresql://app:${P.validateUrl}@db:5432/app` },
        probes: [{ kind: "select1", every: "1s" }],
        steadyState: { window: "1s" },
        schedule: [{ at: "2s", fault: { kind: "command", run: `PGPASSWORD=${P.commandLine} psql -c 'select 1'` } }],
        duration: "10s",
      }),
    );
    const console = capture();
    const code = await main(["validate", bad, good], console.io);
    expect(code).toBe(2);
    expect(console.text()).toMatch(/bad\.json/);
    expectNoSecret("validate's console", console.text());
  });

  it("watch's console and scenario: the URL argument's password is masked (DATABASE_URL's too)", async () => {
    const { scenario } = watchScenario(`postgresql://app:${P.watchArg}@127.0.0.1:9/app`, { every: "100ms" });
    expectNoSecret("watch's scenario.json", JSON.stringify(redactJson(scenario)));
    const fromEnv = watchScenario(undefined, { every: "100ms" }).scenario;
    expectNoSecret("watch's scenario.json from DATABASE_URL", JSON.stringify(redactJson(fromEnv)));
    // A watch that cannot start: its error names the URL, masked.
    const console = capture();
    const code = await main(["watch", `postgresql://app:${P.watchArg}@[bad/app`, "--for", "1s"], console.io);
    expect(code).toBe(2);
    expect(console.text()).toContain("the URL argument: missing \"]\"");
    expectNoSecret("watch's console", console.text());
  });
});
