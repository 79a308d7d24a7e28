/**
 * Which images a cnpg drill uses and how they reach a kind cluster pgdrill made. Online, the
 * defaults are upstream's (kind's node image, the release manifest's operator, the operator's
 * PostgreSQL image) and the cluster pulls them. Where images are built locally (an air-gapped
 * machine: fixtures/kind/build.sh), three environment variables name them, as PGDRILL_IMAGE does
 * for the container targets; the scenario's own fields win over them. Any image the drill names
 * that the local Docker engine holds is loaded into the kind nodes (`kind load docker-image`),
 * which is the same path the probe runner's image has always taken.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { CnpgTarget } from "./plugin.ts";

/** The environment variables that supply image defaults, with the field each stands for. */
export const IMAGE_ENVIRONMENT = {
  PGDRILL_KIND_NODE_IMAGE: "target.kindImage",
  PGDRILL_CNPG_MANIFEST: "target.operator.manifest",
  PGDRILL_CNPG_POSTGRES_IMAGE: "target.imageName",
} as const;

/** The target with unset image fields taken from the environment, and a line saying which were. */
export function withImageDefaults(spec: CnpgTarget, env: NodeJS.ProcessEnv = process.env): { spec: CnpgTarget; used: string[] } {
  const used: string[] = [];
  const take = (name: keyof typeof IMAGE_ENVIRONMENT, current: string | undefined): string | undefined => {
    const value = env[name]?.trim();
    if (current !== undefined || !value) return current;
    used.push(`${IMAGE_ENVIRONMENT[name]} = ${value} (${name})`);
    return value;
  };
  // A node image only matters where pgdrill makes the kind cluster.
  const kindImage = spec.context === undefined ? take("PGDRILL_KIND_NODE_IMAGE", spec.kindImage) : spec.kindImage;
  const manifest = take("PGDRILL_CNPG_MANIFEST", spec.operator.manifest);
  const imageName = take("PGDRILL_CNPG_POSTGRES_IMAGE", spec.imageName);
  return {
    spec: {
      ...spec,
      ...(kindImage !== undefined ? { kindImage } : {}),
      ...(imageName !== undefined ? { imageName } : {}),
      operator: { ...spec.operator, ...(manifest !== undefined ? { manifest } : {}) },
    },
    used,
  };
}

interface ContainerLike {
  image?: unknown;
  env?: Array<{ name?: unknown; value?: unknown }>;
}

/**
 * The images an operator manifest runs: its Deployments' containers, and OPERATOR_IMAGE_NAME (the
 * image the operator copies its instance manager from into every PostgreSQL pod).
 */
export function manifestImages(objects: readonly KubernetesObject[]): string[] {
  const images = new Set<string>();
  for (const object of objects) {
    if (object.kind !== "Deployment") continue;
    const podSpec = (object as { spec?: { template?: { spec?: { containers?: ContainerLike[]; initContainers?: ContainerLike[] } } } }).spec
      ?.template?.spec;
    for (const container of [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])]) {
      if (typeof container.image === "string") images.add(container.image);
      for (const variable of container.env ?? []) {
        if (variable.name === "OPERATOR_IMAGE_NAME" && typeof variable.value === "string") images.add(variable.value);
      }
    }
  }
  return [...images];
}
