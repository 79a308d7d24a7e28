/**
 * Which Docker engine pgdrill talks to: the one the user names (DOCKER_HOST, testcontainers'
 * settings, the docker CLI's context), or none. Each case runs the real command in a fresh
 * process, with HOME pointed at a directory of the test's own, against real sockets: one that
 * does not exist, a port where nothing listens, and a proxy in front of the real engine that
 * counts what reaches it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string | undefined>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(command, args, { env: env as NodeJS.ProcessEnv, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** The environment of a user with no Docker settings but those given, and a home of their own. */
function userEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const home = mkdtempSync(join(tmpdir(), "pgdrill-home-"));
  const env: Record<string, string | undefined> = { ...process.env, HOME: home, ...extra };
  for (const key of ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "TESTCONTAINERS_HOST_OVERRIDE"]) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

const pgdrill = (args: string[], env: Record<string, string | undefined>) => run(process.execPath, ["bin/pgdrill.js", ...args], env);

/** Connects the way `pgdrill run` does and lists containers; prints the socket it reached. */
const probeScript = `
const { dockerClient } = await import("./harness/targets/shared/docker.ts");
const docker = await dockerClient();
await docker.listContainers({ limit: 1 });
console.log(docker.modem.socketPath);
`;
const probe = (env: Record<string, string | undefined>) => run(process.execPath, ["--input-type=module", "-e", probeScript], env);

/** One line on stderr, no stack trace, naming Docker, what was tried and the fix. */
function expectOneLine(outcome: Outcome, tried: RegExp): void {
  expect(outcome.code).toBe(2);
  expect(outcome.stderr.split("\n").filter((line) => line !== "")).toHaveLength(1);
  expect(outcome.stderr).toMatch(/^pgdrill: Docker: /);
  expect(outcome.stderr).toMatch(tried);
  expect(outcome.stderr).toMatch(/Start the engine \(dockerd\), set DOCKER_HOST to one that runs, or run: bash fixtures\/setup\.sh\n$/);
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
}

/** Where the real engine listens. */
const engineSocket = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice("unix://".length) : "/var/run/docker.sock";

let dir: string;
let proxy: Server;
let proxySocket: string;
let proxied = 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pgdrill-engine-"));
  proxySocket = join(dir, "proxy.sock");
  proxy = createServer((client) => {
    proxied += 1;
    const engine = connect(engineSocket);
    client.pipe(engine).pipe(client);
    client.on("error", () => engine.destroy());
    engine.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(proxySocket, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
});

describe("the Docker engine pgdrill uses", { timeout: 60_000 }, () => {
  it("refuses a DOCKER_HOST socket that does not exist, for run and reap alike, in one line, before anything starts", async () => {
    const missing = join(dir, "nonexistent.sock");
    const env = userEnv({ DOCKER_HOST: `unix://${missing}` });
    const out = join(dir, "run-without-engine");
    const drill = await pgdrill(["run", "pair-kill-primary", "--out", out], env);
    expectOneLine(drill, new RegExp(`no engine answers at DOCKER_HOST=unix://${missing} \\(no socket at ${missing}\\)`));
    expect(existsSync(out)).toBe(false);
    const reap = await pgdrill(["reap"], env);
    expectOneLine(reap, new RegExp(`no engine answers at DOCKER_HOST=unix://${missing} \\(no socket at ${missing}\\)`));
    expect(reap.stdout).toBe("");
  });

  it("refuses a DOCKER_HOST where nothing listens", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    expectOneLine(await pgdrill(["reap"], userEnv({ DOCKER_HOST: `tcp://127.0.0.1:${port}` })), /no engine answers at DOCKER_HOST=tcp:\/\/127\.0\.0\.1:\d+ \(connection refused/);
  });

  it("talks to the engine DOCKER_HOST names, and only to it", async () => {
    const before = proxied;
    const reached = await probe(userEnv({ DOCKER_HOST: `unix://${proxySocket}` }));
    expect(reached.stderr).toBe("");
    expect(reached.stdout.trim()).toBe(proxySocket);
    expect(proxied).toBeGreaterThan(before);
  });

  it("honours docker.host in ~/.testcontainers.properties, and DOCKER_HOST before it", async () => {
    const env = userEnv();
    writeFileSync(join(env.HOME!, ".testcontainers.properties"), `# written by the test\ndocker.host=unix://${join(dir, "gone.sock")}\n`);
    expectOneLine(await pgdrill(["reap"], env), /no engine answers at docker\.host in ~\/\.testcontainers\.properties=unix:\/\/\S+gone\.sock \(no socket at /);
    const before = proxied;
    const reached = await probe({ ...env, DOCKER_HOST: `unix://${proxySocket}` });
    expect(reached.stdout.trim()).toBe(proxySocket);
    expect(proxied).toBeGreaterThan(before);
  });

  it("honours the docker CLI's current context, which testcontainers alone ignores", async () => {
    const env = userEnv();
    const context = (name: string, host: string) => {
      const meta = join(env.HOME!, ".docker", "contexts", "meta", createHash("sha256").update(name).digest("hex"));
      mkdirSync(meta, { recursive: true });
      writeFileSync(join(meta, "meta.json"), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
    };
    context("proxied", `unix://${proxySocket}`);
    context("broken", `unix://${join(dir, "context-gone.sock")}`);
    writeFileSync(join(env.HOME!, ".docker", "config.json"), JSON.stringify({ auths: {}, currentContext: "broken" }));
    expectOneLine(await pgdrill(["reap"], env), /no engine answers at the docker CLI context "broken" \(currentContext in \S+config\.json\), host=unix:\/\/\S+context-gone\.sock/);
    const before = proxied;
    const reached = await probe({ ...env, DOCKER_CONTEXT: "proxied" });
    expect(reached.stdout.trim()).toBe(proxySocket);
    expect(proxied).toBeGreaterThan(before);
    const unknown = await pgdrill(["reap"], { ...env, DOCKER_CONTEXT: "nowhere" });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^pgdrill: Docker: the docker CLI context "nowhere" \(DOCKER_CONTEXT\) is not in \S+contexts\. Choose another \(docker context use default\), or set DOCKER_HOST\n$/);
  });

  // Hiding the engine's socket from one process takes a mount namespace of its own: root and unshare.
  const canHide = process.getuid?.() === 0 && existsSync("/usr/bin/unshare") && engineSocket === "/var/run/docker.sock" && realpathSync("/var/run") === "/run";
  it.runIf(canHide)("with nothing named and no engine at the default socket, says so in one line", async () => {
    const hidden = (setup: string, args: string[]) =>
      run("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs none /run && ${setup} exec "$0" bin/pgdrill.js "$@"`, process.execPath, ...args], userEnv());
    const out = join(dir, "run-without-default-engine");
    for (const args of [["reap"], ["run", "pair-kill-primary", "--out", out]]) {
      expectOneLine(await hidden("", args), /no engine found: DOCKER_HOST is not set and there is no socket at \/var\/run\/docker\.sock \(nor a rootless one\)/);
    }
    expect(existsSync(out)).toBe(false);
    // A socket file that nobody serves.
    expectOneLine(await hidden("touch /run/docker.sock &&", ["reap"]), /no engine answers at unix:\/\/\/var\/run\/docker\.sock \(connection refused: nothing listens there\), and DOCKER_HOST is not set/);
  });
});
