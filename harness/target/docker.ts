/**
 * Everything pgdrill starts in Docker carries its labels, so it can always find and remove its own
 * things (and only those): on every path of a run, and later with `pgdrill reap` after a crash.
 * testcontainers' reaper (Ryuk) does this job where its image can be had; pgdrill does not depend
 * on it.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { HarnessError } from "../errors.ts";
import { ownerGone, thisProcess } from "../run/owners.ts";
import { getContainerRuntimeClient, type ContainerRuntimeClient } from "testcontainers";

export const LABELS = {
  managed: "pgdrill.managed",
  run: "pgdrill.run",
  scenario: "pgdrill.scenario",
  node: "pgdrill.node",
  pid: "pgdrill.pid",
  host: "pgdrill.host",
  /** The owner's start time and boot (run/owners.ts): a reused pid is not taken for a live owner. */
  start: "pgdrill.start",
  boot: "pgdrill.boot",
} as const;

export type Docker = ContainerRuntimeClient["container"]["dockerode"];

export function runLabels(runId: string, scenario: string): Record<string, string> {
  const owner = thisProcess();
  return {
    [LABELS.managed]: "true",
    [LABELS.run]: runId,
    [LABELS.scenario]: scenario,
    // The owner, so `reap` can tell a killed run's containers from a live one's (run/owners.ts).
    [LABELS.pid]: String(owner.pid),
    [LABELS.host]: owner.host,
    ...(owner.start ? { [LABELS.start]: owner.start } : {}),
    ...(owner.boot ? { [LABELS.boot]: owner.boot } : {}),
  };
}

let ryukDecision: string | null = null;

/**
 * Decides whether testcontainers may start Ryuk, before its first use. Ryuk's image cannot be
 * pulled where no registry answers, and testcontainers would fail trying; so unless the user chose
 * (TESTCONTAINERS_RYUK_DISABLED set either way), Ryuk is used only when its image is already here.
 * Returns a sentence for the log.
 */
export async function configureReaper(docker: Docker): Promise<string> {
  if (ryukDecision) return ryukDecision;
  const chosen = process.env.TESTCONTAINERS_RYUK_DISABLED;
  if (chosen !== undefined) {
    ryukDecision =
      chosen === "true"
        ? "Ryuk (testcontainers' reaper) is off (TESTCONTAINERS_RYUK_DISABLED=true): pgdrill removes what it starts by its labels."
        : "Ryuk (testcontainers' reaper) is on, as TESTCONTAINERS_RYUK_DISABLED says.";
    return ryukDecision;
  }
  const images = await docker.listImages({ filters: { reference: ["testcontainers/ryuk"] } });
  if (images.length > 0) {
    ryukDecision = "Ryuk (testcontainers' reaper) is on: its image is present.";
  } else {
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    ryukDecision =
      "Ryuk (testcontainers' reaper) is off: its image testcontainers/ryuk is not on this machine and pgdrill does not pull it " +
      "(no container registry may answer). pgdrill labels everything it starts (pgdrill.run=<run id>) and removes it itself " +
      "on success, failure and Ctrl-C; `pgdrill reap` removes what a killed run left.";
  }
  return ryukDecision;
}

/**
 * The targets that run on a Docker engine, so `pgdrill run` can check for one before anything
 * starts. (A declaration each target plugin should make itself; kept here until they do.)
 */
const ON_DOCKER: ReadonlySet<string> = new Set(["container-pair", "cnpg"]);

export function runsOnDocker(target: { kind: string }): boolean {
  return ON_DOCKER.has(target.kind);
}

/** No Docker engine answers where pgdrill looked; the message is one line naming what was tried and the fix. */
export class DockerUnavailableError extends HarnessError {}

const FIX = "Start the engine (dockerd), set DOCKER_HOST to one that runs, or run: bash fixtures/setup.sh";
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
    if (problem) throw new DockerUnavailableError(`Docker: no engine answers at ${named.where}=${shellQuote(named.uri)} (${problem}). ${FIX}`);
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
    throw new DockerUnavailableError(named ? `Docker: the engine at ${named.where}=${named.uri} answered a ping but testcontainers could not use it (${oneLine(error)}). ${FIX}` : await noDefaultEngine(), { cause: error });
  }
  // testcontainers tries its ways in turn and takes the first that answers; it must be the one named.
  const modem = (docker as unknown as { modem: { socketPath?: unknown; host?: unknown; port?: unknown } }).modem;
  const reached = typeof modem.socketPath === "string" ? `unix://${modem.socketPath}` : `tcp://${String(modem.host)}:${String(modem.port)}`;
  if (named && !sameEngine(named.uri, reached)) {
    throw new DockerUnavailableError(`Docker: ${named.where}=${named.uri} names one engine but testcontainers reached ${reached}; pgdrill uses only the one named. ${FIX}`);
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
    throw new DockerUnavailableError(`Docker: the docker CLI context "${context.name}" (${context.where}) is not in ${context.dir}. Choose another (docker context use default), or set DOCKER_HOST`);
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
      Object.assign(options, { ca: readFileSync(join(tls, "ca.pem")), cert: readFileSync(join(tls, "cert.pem")), key: readFileSync(join(tls, "key.pem")) });
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
  const tried = await Promise.all(candidates.map(async (path) => `unix://${path} (${(await ping(`unix://${path}`)) ?? "answers, but testcontainers could not use it"})`));
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

/** Removes the containers and networks of one run (or, with no runId, every pgdrill one). */
export async function removeLabelled(docker: Docker, filter: { runId?: string; onlyOrphans?: boolean }): Promise<string[]> {
  const label = filter.runId ? [`${LABELS.run}=${filter.runId}`] : [`${LABELS.managed}=true`];
  const removed: string[] = [];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  // Side by side: each removal is a SIGKILL and a wait for the engine, and a drill's teardown waits on all of them.
  const results = await Promise.allSettled(
    containers
      .filter((info) => !filter.onlyOrphans || isOrphan(info.Labels))
      .map(async (info) => {
        try {
          await docker.getContainer(info.Id).remove({ force: true, v: true });
          return `container ${info.Names[0]?.replace(/^\//, "") ?? info.Id.slice(0, 12)}`;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          return null;
        }
      }),
  );
  for (const result of results) {
    if (result.status === "rejected") throw result.reason;
    if (result.value) removed.push(result.value);
  }
  const networks = await docker.listNetworks({ filters: { label } });
  for (const info of networks) {
    if (filter.onlyOrphans && !isOrphan(info.Labels ?? {})) continue;
    try {
      await docker.getNetwork(info.Id).remove();
      removed.push(`network ${info.Name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}

/** Left by a pgdrill process on this host that is no longer running. */
function isOrphan(labels: Record<string, string>): boolean {
  return ownerGone({ pid: labels[LABELS.pid], host: labels[LABELS.host], start: labels[LABELS.start], boot: labels[LABELS.boot] });
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "statusCode" in error && error.statusCode === 404;
}
