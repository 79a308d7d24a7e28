/**
 * The kind CLI, driven with zx: create a cluster from a config, hand back its kubeconfig, delete
 * it. Clusters pgdrill makes are named `pgdrill-<run id>`, so their contexts (`kind-pgdrill-…`)
 * say who made them and the safety check can tell them from anyone else's.
 */
import { rmSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { $, which } from "zx";
import { HarnessError } from "../../errors.ts";

import { forgetOwner, isLeftOver } from "../shared/owners.ts";
import { KIND_PREFIX } from "./safety.ts";

export { KIND_PREFIX };

export function kindClusterName(runId: string): string {
  // kind names become container and context names: keep them short and lower-case.
  return `${KIND_PREFIX}${runId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 40);
}

const kind = $({ quiet: true });

/**
 * The environment kind runs in. Where `docker run --privileged` fails on this host (a sandbox whose
 * capability bounding set lacks CAP_SYS_RESOURCE), kind's node containers cannot start; a narrow
 * stand-in for the docker command (kind-docker-shim.sh) then goes first on kind's PATH and turns
 * that one flag into the capabilities the host can grant. Decided once per process, by trying
 * --privileged with the node image itself; never used where --privileged works.
 */
const kindEnvironments = new Map<string, Promise<{ env: NodeJS.ProcessEnv; note: string | null }>>();

export function kindEnv(nodeImage: string | undefined): Promise<{ env: NodeJS.ProcessEnv; note: string | null }> {
  const key = nodeImage ?? "";
  let decided = kindEnvironments.get(key);
  if (!decided) kindEnvironments.set(key, (decided = decideKindEnv(nodeImage)));
  return decided;
}

/** For kind's other calls (load, delete): the stand-in wherever a node image needed it (it passes everything but run and exec through). */
async function anyKindEnv(): Promise<NodeJS.ProcessEnv> {
  for (const decided of kindEnvironments.values()) {
    const { env, note } = await decided;
    if (note) return env;
  }
  return process.env;
}

async function decideKindEnv(nodeImage: string | undefined): Promise<{ env: NodeJS.ProcessEnv; note: string | null }> {
  const plain = { env: process.env, note: null };
  // Only an image the engine already has can be tried without pulling; online, kind pulls its own.
  if (!nodeImage) return plain;
  const present = await kind({ nothrow: true })`docker image inspect --format {{.Id}} ${nodeImage}`;
  if (present.exitCode !== 0) return plain;
  const tried = await kind({ nothrow: true, timeout: "60s" })`docker run --rm --privileged --entrypoint true ${nodeImage}`;
  if (tried.exitCode === 0 || !/unable to apply caps|operation not permitted/i.test(tried.stderr)) return plain;
  const real = await which("docker");
  const dir = join(tmpdir(), `pgdrill-kind-docker-${process.pid}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const shim = join(dir, "docker");
  await copyFile(fileURLToPath(new URL("./kind-docker-shim.sh", import.meta.url)), shim);
  await chmod(shim, 0o755);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return {
    env: { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ""}`, PGDRILL_REAL_DOCKER: real },
    note:
      `docker run --privileged fails here (${lastLines(tried.stderr)}): kind's node containers run with every capability this ` +
      `host grants instead (all but what it lacks), unconfined, with every device (pgdrill's docker stand-in for kind, ${shim})`,
  };
}

export async function kindAvailable(): Promise<boolean> {
  const found = await kind({ nothrow: true })`kind version`;
  return found.exitCode === 0;
}

/**
 * A kubeconfig file of pgdrill's own for a kind cluster. `kind create cluster` writes the new
 * context into the kubeconfig it is given and makes it current, and `kind delete cluster` removes
 * it and leaves no current context: run with --kubeconfig <this file>, neither touches the user's
 * ~/.kube/config or KUBECONFIG, so their current context is the same during and after the run.
 */
export function kindKubeconfigPath(name: string): string {
  return join(tmpdir(), `pgdrill-kind-${name}`, "kubeconfig");
}

async function ownKubeconfig(name: string): Promise<string> {
  const path = kindKubeconfigPath(name);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return path;
}

export async function createKindCluster(
  name: string,
  configYaml: string,
  options: { image?: string; waitSeconds: number; signal?: AbortSignal; log: (line: string) => void },
): Promise<void> {
  const image = options.image ? ["--image", options.image] : [];
  const kubeconfig = await ownKubeconfig(name);
  const { env, note } = await kindEnv(options.image);
  if (note) options.log(`cnpg: ${note}`);
  const run = kind({
    input: configYaml,
    nothrow: true,
    env,
    ...(options.signal ? { signal: options.signal } : {}),
  })`kind create cluster --name ${name} --kubeconfig ${kubeconfig} --config - --wait ${`${options.waitSeconds}s`} ${image}`;
  const result = await run;
  if (result.exitCode !== 0) throw new HarnessError(`kind create cluster ${name} failed: ${lastLines(result.stderr)}`);
}

/** The kind cluster's kubeconfig, as YAML: the file kind wrote for this run. */
export async function kindKubeconfig(name: string): Promise<string> {
  const text = await readFile(kindKubeconfigPath(name), "utf8").catch(() => null);
  if (text !== null && text.includes(`kind-${name}`)) return text;
  // kind get kubeconfig prints it and writes nothing.
  const result = await kind({ nothrow: true })`kind get kubeconfig --name ${name}`;
  if (result.exitCode !== 0) throw new HarnessError(`kind get kubeconfig ${name} failed: ${lastLines(result.stderr)}`);
  return result.stdout;
}

export async function deleteKindCluster(name: string): Promise<void> {
  // The run's own kubeconfig (recreated empty if a reap runs where the run's file is gone): kind
  // edits that file, never the user's.
  const kubeconfig = await ownKubeconfig(name);
  const result = await kind({ nothrow: true, env: await anyKindEnv() })`kind delete cluster --name ${name} --kubeconfig ${kubeconfig}`;
  if (result.exitCode !== 0) throw new HarnessError(`kind delete cluster ${name} failed: ${lastLines(result.stderr)}`);
  await rm(dirname(kubeconfig), { recursive: true, force: true });
}

/**
 * Loads an image from the local Docker engine into the kind cluster's nodes (`kind load
 * docker-image`), as the workflow builds the probe runner's image there. "absent": the engine has
 * no such image, so the cluster is left to pull it.
 */
export async function loadImageIntoKind(name: string, image: string, signal?: AbortSignal): Promise<"loaded" | "absent"> {
  const present = await kind({ nothrow: true })`docker image inspect --format {{.Id}} ${image}`;
  if (present.exitCode !== 0) return "absent";
  const result = await kind({
    nothrow: true,
    env: await anyKindEnv(),
    ...(signal ? { signal } : {}),
  })`kind load docker-image ${image} --name ${name}`;
  if (result.exitCode !== 0) throw new HarnessError(`kind load docker-image ${image} --name ${name} failed: ${lastLines(result.stderr)}`);
  return "loaded";
}

/** kind clusters with pgdrill's name (none when the kind CLI is not installed). */
export async function pgdrillKindClusters(): Promise<string[]> {
  const result = await kind({ nothrow: true })`kind get clusters`.catch(() => null);
  if (!result || result.exitCode !== 0) return [];
  return result.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith(KIND_PREFIX));
}

export const kindResource = (name: string) => `kind cluster ${name}`;

/**
 * For `pgdrill reap`: deletes the kind clusters that pgdrill runs made and did not delete because
 * they were killed (or, with `all`, every pgdrill kind cluster). Returns what it removed.
 */
export async function removeLeftoverKindClusters(options: { all: boolean }): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await pgdrillKindClusters()) {
    const resource = kindResource(name);
    if (!options.all && !isLeftOver(resource)) continue;
    await deleteKindCluster(name);
    forgetOwner(resource);
    removed.push(resource);
  }
  return removed;
}

/** Runs a shell script on a kind node (a Docker container named after the node). */
export async function onKindNode(node: string, script: string): Promise<string> {
  const result = await execOnKindNode(node, script);
  if (result.exitCode !== 0) throw new HarnessError(`on kind node ${node}: ${lastLines(result.output)}`);
  return result.output;
}

/** Writes `content` to `path` on a kind node (its parent folders made): the packet delayer's script, for netem's fallback. */
export async function copyToKindNode(node: string, content: string, path: string): Promise<void> {
  const result = await kind({
    nothrow: true,
    input: content,
  })`docker exec -i ${node} sh -c ${`mkdir -p "$(dirname '${path}')" && cat > '${path}'`}`;
  if (result.exitCode !== 0) throw new HarnessError(`copying ${path} to kind node ${node}: ${lastLines(result.stderr)}`);
}

/** The script's exit code and output (stderr when it has any), for callers that tell exit codes apart. */
export async function execOnKindNode(node: string, script: string): Promise<{ exitCode: number; output: string }> {
  const result = await kind({ nothrow: true })`docker exec ${node} sh -c ${script}`;
  return { exitCode: result.exitCode ?? 1, output: result.exitCode === 0 ? result.stdout : result.stderr || result.stdout };
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" | ") || "no output";
}
