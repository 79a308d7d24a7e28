import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * pgdrill's own folder: the repository in development (this file is harness/version.ts), the
 * installed package when compiled (dist/harness/version.js). Found by walking up to pgdrill's
 * package.json, so both layouts work without a copy of it in dist/.
 */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from, up = 0; up < 4; dir = dirname(dir), up++) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "pgdrill") return dir;
  }
  throw new Error(`pgdrill's package.json was not found above ${from}: the installation is incomplete; reinstall pgdrill.`);
}

/** pgdrill's version, from package.json, recorded in every history. */
export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
