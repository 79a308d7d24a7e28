/**
 * Which Docker engine pgdrill talks to: the one the user named (testcontainers' settings,
 * DOCKER_HOST, the docker CLI's context) or the default socket, and never another. testcontainers
 * alone tries its ways in turn and takes the first that answers, so a DOCKER_HOST that does not
 * answer quietly became /var/run/docker.sock. When no engine answers, the error is one line naming
 * what was tried and the fix.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { getContainerRuntimeClient, type ContainerRuntimeClient } from "testcontainers";
import { HarnessError } from "../../errors.ts";
import { PACKAGE_ROOT } from "../../version.ts";

export type Docker = ContainerRuntimeClient["container"]["dockerode"];

/** No Docker engine answers where pgdrill looked; the message is one line naming what was tried and the fix. */
export class DockerUnavailableError extends HarnessError {}

// In pgdrill's repository its set-up installs and starts an engine; an installed package has none.
const FIX = existsSync(join(PACKAGE_ROOT, "fixtures/setup.sh"))
  ? "Start the engine (dockerd), set DOCKER_HOST to one that runs, or run: bash fixtures/setup.sh"
  : "Start the engine (dockerd, or Docker Desktop), or set DOCKER_HOST to one that runs";
const PING_TIMEOUT_MS = 3_000;

/** An engine the user named, and where: "DOCKER_HOST", "docker.host in ~/.testcontainers.properties", … */
interface NamedEngine {
  uri: string;
  where: string;
}

let client: Promise<Docker> | null = null;

/**
 * The Docker engine the user named, or the default socket when none is named. A named engine that
 * does not answer is refused: testcontainers alone would quietly try the next way it knows
 * (DOCKER_HOST=unix:///nonexistent ended up on /var/run/docker.sock), and a drill would run on an
 * engine nobody asked for. Throws DockerUnavailableError when no engine answers.
 */
export function dockerClient(): Promise<Docker> {
  client ??= connect().catch((error: unknown) => {
    client = null;
    throw error;
  });
  return client;
}

async function connect(): Promise<Docker> {
  const named = namedEngine();
  if (named) {
    const problem = await ping(named.uri);
    if (problem)
      throw new DockerUnavailableError(`Docker: no engine answers at ${named.where}=${shellQuote(named.uri)} (${problem}). ${FIX}`);
  }
  // With a local engine, published ports are on this host. Saying so stops testcontainers from
  // starting a helper container (which it would have to pull) to guess the host address.
  if (!process.env.TESTCONTAINERS_HOST_OVERRIDE && (!named || named.uri.startsWith("unix://"))) {
    process.env.TESTCONTAINERS_HOST_OVERRIDE = "127.0.0.1";
  }
  let docker: Docker;
  try {
    docker = (await getContainerRuntimeClient()).container.dockerode;
  } catch (error) {
    throw new DockerUnavailableError(
      named
        ? `Docker: the engine at ${named.where}=${named.uri} answered a ping but testcontainers could not use it (` +
            `${oneLine(error)}). ${FIX}`
        : await noDefaultEngine(),
      { cause: error },
    );
  }
  // testcontainers tries its ways in turn and takes the first that answers; it must be the one named.
  const modem = (docker as unknown as { modem: { socketPath?: unknown; host?: unknown; port?: unknown } }).modem;
  const reached = typeof modem.socketPath === "string" ? `unix://${modem.socketPath}` : `tcp://${String(modem.host)}:${String(modem.port)}`;
  if (named && !sameEngine(named.uri, reached)) {
    throw new DockerUnavailableError(
      `Docker: ${named.where}=${named.uri} names one engine but testcontainers reached ${reached}; pgdrill uses only the one named. ${FIX}`,
    );
  }
  return docker;
}

/**
 * Where the user said the engine is, in testcontainers' order (its `tc.host`, then DOCKER_HOST,
 * then its `docker.host`), then the docker CLI's context (DOCKER_CONTEXT, or the current context
 * of ~/.docker/config.json), which testcontainers does not read: pgdrill passes that context's
 * host on to it as DOCKER_HOST, so `docker ps` and pgdrill see the same engine.
 * TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE is not one of these: it is the socket's path *inside* the
 * engine's host, given to Ryuk, and does not say how to reach the engine.
 */
function namedEngine(): NamedEngine | null {
  const properties = testcontainersProperties();
  if (properties["tc.host"]) return { uri: properties["tc.host"], where: "tc.host in ~/.testcontainers.properties" };
  if (process.env.DOCKER_HOST) return { uri: process.env.DOCKER_HOST, where: "DOCKER_HOST" };
  if (properties["docker.host"]) return { uri: properties["docker.host"], where: "docker.host in ~/.testcontainers.properties" };
  const context = dockerContext();
  if (!context) return null;
  if (!context.host) {
    throw new DockerUnavailableError(
      `Docker: the docker CLI context "${context.name}" (${context.where}) is not in ${context.dir}. Choose another (docker ` +
        `context use default), or set DOCKER_HOST`,
    );
  }
  process.env.DOCKER_HOST = context.host;
  if (context.tls && process.env.DOCKER_CERT_PATH === undefined) {
    process.env.DOCKER_TLS_VERIFY ??= "1";
    process.env.DOCKER_CERT_PATH = context.tls;
  }
  return { uri: context.host, where: `the docker CLI context "${context.name}" (${context.where}), host` };
}

function testcontainersProperties(): Record<string, string> {
  const file = join(homedir(), ".testcontainers.properties");
  if (!existsSync(file)) return {};
  const properties: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = /^\s*([^#!\s=:]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (match) properties[match[1]!] = match[2]!;
  }
  return properties;
}

/** The docker CLI's chosen context other than "default", as the docker CLI resolves it (DOCKER_HOST already wins above). */
function dockerContext(): { name: string; where: string; dir: string; host?: string; tls?: string } | null {
  const configDir = process.env.DOCKER_CONFIG ?? join(homedir(), ".docker");
  let name = process.env.DOCKER_CONTEXT;
  let where = "DOCKER_CONTEXT";
  if (!name) {
    try {
      name = (JSON.parse(readFileSync(join(configDir, "config.json"), "utf8")) as { currentContext?: string }).currentContext;
      where = `currentContext in ${join(configDir, "config.json")}`;
    } catch {
      return null;
    }
  }
  if (!name || name === "default") return null;
  // The docker CLI keeps each context under the SHA-256 of its name.
  const id = createHash("sha256").update(name).digest("hex");
  const dir = join(configDir, "contexts");
  try {
    const meta = JSON.parse(readFileSync(join(dir, "meta", id, "meta.json"), "utf8")) as { Endpoints?: { docker?: { Host?: string } } };
    const host = meta.Endpoints?.docker?.Host;
    const tls = join(dir, "tls", id, "docker");
    return { name, where, dir, ...(host ? { host } : {}), ...(existsSync(join(tls, "ca.pem")) ? { tls } : {}) };
  } catch {
    return { name, where, dir };
  }
}

/** Asks the engine at `uri` for /_ping. Returns null when it answers, else what went wrong in a few words. */
async function ping(uri: string): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "not a URL: give unix:///path/to/docker.sock or tcp://host:port";
  }
  const tls = process.env.DOCKER_TLS_VERIFY === "1" && process.env.DOCKER_CERT_PATH ? process.env.DOCKER_CERT_PATH : null;
  let options: RequestOptions;
  if (url.protocol === "unix:") {
    if (!existsSync(url.pathname)) return `no socket at ${url.pathname}`;
    options = { socketPath: url.pathname };
  } else if (["tcp:", "http:", "https:"].includes(url.protocol)) {
    options = { host: url.hostname, port: Number(url.port) || (tls ? 2376 : 2375) };
  } else {
    return null; // npipe and others: testcontainers knows them, and we cannot ask here.
  }
  const secure = tls !== null || url.protocol === "https:";
  if (tls) {
    try {
      Object.assign(options, {
        ca: readFileSync(join(tls, "ca.pem")),
        cert: readFileSync(join(tls, "cert.pem")),
        key: readFileSync(join(tls, "key.pem")),
      });
    } catch (error) {
      return `cannot read the TLS files in DOCKER_CERT_PATH=${tls}: ${oneLine(error)}`;
    }
  }
  return new Promise((resolve) => {
    const req = (secure ? httpsRequest : httpRequest)({ ...options, path: "/_ping", method: "GET", timeout: PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `it answered HTTP ${res.statusCode ?? "?"} to /_ping`);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${PING_TIMEOUT_MS / 1000} s`)));
    req.on("error", (error: NodeJS.ErrnoException) => resolve(describeSocketError(error)));
    req.end();
  });
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ENOENT":
      return "no such socket";
    case "ECONNREFUSED":
      return "connection refused: nothing listens there";
    case "EACCES":
      return "permission denied: run as a member of the docker group, or as root";
    case "ENOTFOUND":
      return "unknown host";
    default:
      return oneLine(error);
  }
}

/** What testcontainers would have tried with nothing named, and why each failed. */
async function noDefaultEngine(): Promise<string> {
  const xdg = process.env.XDG_RUNTIME_DIR;
  const candidates = [
    "/var/run/docker.sock",
    ...(xdg ? [join(xdg, "docker.sock")] : []),
    join(homedir(), ".docker", "run", "docker.sock"),
    join(homedir(), ".docker", "desktop", "docker.sock"),
    join("/run", "user", String(userInfo().uid), "docker.sock"),
  ].filter((path) => existsSync(path));
  if (candidates.length === 0) {
    return `Docker: no engine found: DOCKER_HOST is not set and there is no socket at /var/run/docker.sock (nor a rootless one). ${FIX}`;
  }
  const tried = await Promise.all(
    candidates.map(async (path) => `unix://${path} (${(await ping(`unix://${path}`)) ?? "answers, but testcontainers could not use it"})`),
  );
  return `Docker: no engine answers at ${tried.join(", ")}, and DOCKER_HOST is not set. ${FIX}`;
}

function sameEngine(named: string, reached: string): boolean {
  try {
    const a = new URL(named);
    const b = new URL(reached);
    if (a.protocol === "unix:") return b.protocol === "unix:" && a.pathname === b.pathname;
    if (a.protocol === "npipe:") return true;
    return b.protocol !== "unix:" && a.hostname === b.hostname;
  } catch {
    return false;
  }
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.trim();
}
