import { readFileSync } from "node:fs";

/** pgdrill's version, from package.json, recorded in every history. */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
