/**
 * The kind cluster a cnpg drill runs on when the scenario names no context: the run's own, made
 * from the target's kind config and node image and deleted at teardown, or, in a series that
 * shares one (--share-cluster), the series' (made by its first drill, deleted after its last).
 * Either way the images the drill names that the local Docker engine holds are loaded into it.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InputError } from "../../errors.ts";
import { forgetOwner, recordOwner } from "../shared/owners.ts";
import type { TopologyStartOptions } from "../types.ts";
import { createKindCluster, deleteKindCluster, kindAvailable, kindClusterName, kindResource, loadImageIntoKind } from "./kind.ts";
import { kindConfig, type KindConfig } from "./manifests.ts";
import type { CnpgTarget } from "./plugin.ts";

/**
 * The drill's kind cluster's name. `madeByThisRun` hears the name of a cluster this run makes
 * before kind starts on it, so a start that fails half-way still deletes it.
 */
export async function useKindCluster(
  spec: CnpgTarget,
  options: TopologyStartOptions,
  madeByThisRun: (name: string) => void,
): Promise<string> {
  if (!(await kindAvailable())) {
    throw new InputError(
      "target.context",
      "no context given and the kind CLI is not installed",
      "Install kind (https://kind.sigs.k8s.io) so pgdrill can create a cluster, or set target.context to an existing cluster.",
    );
  }
  let name: string;
  if (options.shared) {
    const key = `cnpg kind cluster ${spec.kindConfig} ${spec.kindImage ?? "kind's node image"}`;
    name = await options.shared.use(key, async () => {
      const made = await createKindClusterFor(spec, options, kindClusterName(options.runId));
      return {
        value: made,
        describe: kindResource(made),
        remove: () => deleteKindCluster(made).then(() => forgetOwner(kindResource(made))),
      };
    });
    options.log(`cnpg: using the series' shared kind cluster ${name}`);
  } else {
    name = kindClusterName(options.runId);
    madeByThisRun(name);
    await createKindClusterFor(spec, options, name);
  }
  // Images the drill names that are in the local engine (the runner's as the workflow builds it,
  // locally built operator and PostgreSQL images), not in any registry: load them into the nodes.
  await loadImages(
    name,
    [...(spec.access === "in-cluster" ? [spec.runner.image] : []), ...(spec.imageName ? [spec.imageName] : [])],
    options,
  );
  return name;
}

async function createKindClusterFor(spec: CnpgTarget, options: TopologyStartOptions, name: string): Promise<string> {
  const base = parseYaml(
    await readFile(kindConfigPath(spec.kindConfig), "utf8").catch(() => {
      throw new InputError(
        "target.kindConfig",
        `cannot read "${spec.kindConfig}"`,
        "Point it at a kind cluster config (see fixtures/kind/cluster.yaml).",
      );
    }),
  ) as KindConfig;
  options.log(`cnpg: creating kind cluster ${name}${spec.kindImage ? ` from ${spec.kindImage}` : ""}`);
  // Recorded before it exists: a run killed half-way leaves it to `pgdrill reap`.
  recordOwner(kindResource(name), options.runId);
  const t0 = Date.now();
  await createKindCluster(name, stringifyYaml(kindConfig(base)), {
    ...(spec.kindImage ? { image: spec.kindImage } : {}),
    waitSeconds: 180,
    log: options.log,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  options.log(`cnpg: kind cluster ${name} up in ${Date.now() - t0} ms`);
  return name;
}

/** Loads each image the local engine holds into the cluster's nodes; kind skips those already there. */
export async function loadImages(
  cluster: string,
  images: readonly string[],
  options: Pick<TopologyStartOptions, "log" | "signal">,
): Promise<void> {
  for (const image of new Set(images)) {
    const loaded = await loadImageIntoKind(cluster, image, options.signal);
    options.log(
      loaded === "loaded"
        ? `cnpg: loaded ${image} into ${cluster}`
        : `cnpg: ${image} is not in the local Docker engine; the cluster will pull it`,
    );
  }
}

/** The default config ships with pgdrill: found next to the package when not under the current directory. */
function kindConfigPath(path: string): string {
  if (isAbsolute(path) || existsSync(path)) return path;
  const shipped = fileURLToPath(new URL(`../../../${path}`, import.meta.url));
  return existsSync(shipped) ? shipped : path;
}
