/**
 * Which PostgreSQL image a container target runs. pgdrill brings its own bootstrap, so any image
 * with the PostgreSQL server binaries in the Debian layout will do: the official `postgres` images
 * where a registry answers, and pgdrill's own `pgdrill/postgres:15-local`, built from Debian
 * packages by fixtures/image/build-local-image.sh, where none does. The HA-manager targets (Patroni,
 * pg_auto_failover) need what only the local image holds, so they run it unless told otherwise.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { HarnessError } from "../../errors.ts";
import { PACKAGE_ROOT } from "../../version.ts";
import type { Docker } from "./docker.ts";

export const OFFICIAL_IMAGE = "postgres:16";
export const LOCAL_IMAGE = "pgdrill/postgres:15-local";

export interface ImageChoice {
  image: string;
  /** Why this one, for the log. */
  because: string;
}

/**
 * Explicit choices win, in this order: --image, the scenario's `target.image`, PGDRILL_IMAGE
 * (those are pulled if absent). Otherwise the official image if it is here, else the local build.
 */
export async function chooseImage(docker: Docker, explicit: { cli?: string; scenario?: string }): Promise<ImageChoice> {
  if (explicit.cli) return { image: explicit.cli, because: "--image" };
  if (explicit.scenario) return { image: explicit.scenario, because: "the scenario's target.image" };
  const fromEnv = process.env.PGDRILL_IMAGE;
  if (fromEnv) return { image: fromEnv, because: "PGDRILL_IMAGE" };
  for (const candidate of [OFFICIAL_IMAGE, LOCAL_IMAGE]) {
    const found = await docker.listImages({ filters: { reference: [candidate] } });
    if (found.length > 0) return { image: candidate, because: `found ${candidate} on this machine` };
  }
  throw new HarnessError(
    `no PostgreSQL image: neither ${OFFICIAL_IMAGE} nor ${LOCAL_IMAGE} is on this machine. ${howToGetAnImage()}, ` +
      "or name one with --image / PGDRILL_IMAGE.",
  );
}

/**
 * A target that needs the local image's own packages: --image, then the scenario's target.image, else the
 * local image, which must be here (no registry serves it).
 */
export async function localImageFor(
  docker: Docker,
  explicit: { cli?: string | undefined; scenario?: string | undefined },
  target: string,
  needs: string,
): Promise<ImageChoice> {
  if (explicit.cli) return { image: explicit.cli, because: "--image" };
  if (explicit.scenario) return { image: explicit.scenario, because: "the scenario's target.image" };
  if ((await docker.listImages({ filters: { reference: [LOCAL_IMAGE] } })).length > 0)
    return { image: LOCAL_IMAGE, because: "pgdrill's local image" };
  throw new HarnessError(
    `the ${target} target needs ${LOCAL_IMAGE} (${needs} from Debian packages) and it is not on this machine. ${howToBuildLocalImage()}.`,
  );
}

/** How to build the local image: in pgdrill's repository its set-up does it; an installed package ships the recipe. */
function howToBuildLocalImage(): string {
  if (existsSync(join(PACKAGE_ROOT, "fixtures/setup.sh")))
    return "Run `bash fixtures/setup.sh`, or `bash fixtures/image/build-local-image.sh` as root";
  const recipe = relative(process.cwd(), join(PACKAGE_ROOT, "dist/fixtures/image/build-local-image.sh"));
  return `Build it from Debian packages: \`bash ${recipe}\` (as root)`;
}

/** In pgdrill's repository its set-up does it all; an installed package ships the image recipe. */
function howToGetAnImage(): string {
  if (existsSync(join(PACKAGE_ROOT, "fixtures/setup.sh"))) {
    return "Run `bash fixtures/setup.sh` (pulls postgres:16, or builds the local image where no registry answers)";
  }
  const recipe = relative(process.cwd(), join(PACKAGE_ROOT, "dist/fixtures/image/build-local-image.sh"));
  return (
    `Run \`docker pull ${OFFICIAL_IMAGE}\`, or where no registry answers build the local image from Debian packages: \`bash ` +
    `${recipe}\` (as root)`
  );
}
