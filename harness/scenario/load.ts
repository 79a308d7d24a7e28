/**
 * Finds and reads a scenario: a path to a .ts/.mts/.js/.mjs module (its default export), a .yaml
 * or .yml file, a .json file, or the bare name of a shipped scenario. Whatever goes wrong is an
 * InputError before anything starts.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, extname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import YAML from "yaml";
import { errorMessage, InputError } from "../errors.ts";
import type { Scenario } from "./schema.ts";
import { validateScenario } from "./validate.ts";

export const SCENARIOS_DIR = fileURLToPath(new URL("../../scenarios/", import.meta.url));
const MODULE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];
const EXTENSIONS = [...MODULE_EXTENSIONS, ".yaml", ".yml", ".json"];

export interface LoadedScenario {
  scenario: Scenario;
  /** The file it came from, relative to the current directory when inside it. */
  source: string;
}

export async function loadScenario(pathOrName: string): Promise<LoadedScenario> {
  const file = await resolveScenarioFile(pathOrName);
  const source = relative(process.cwd(), file).startsWith("..") ? file : relative(process.cwd(), file);
  const input = await readScenarioData(file, source);
  return { scenario: validateScenario(input, source), source };
}

async function resolveScenarioFile(pathOrName: string): Promise<string> {
  const direct = resolve(pathOrName);
  if (existsSync(direct) && EXTENSIONS.includes(extname(direct))) return direct;
  if (!/[/\\]/.test(pathOrName) && extname(pathOrName) === "") {
    for (const extension of EXTENSIONS) {
      const shipped = join(SCENARIOS_DIR, `${pathOrName}${extension}`);
      if (existsSync(shipped)) return shipped;
    }
  }
  if (existsSync(direct)) {
    throw new InputError(
      pathOrName,
      `"${extname(direct) || "no extension"}" is not a scenario format`,
      `Use a ${EXTENSIONS.join(", ")} file.`,
    );
  }
  const names = (await listScenarios()).map((entry) => entry.name);
  throw new InputError(
    pathOrName,
    "no such scenario file",
    `Give a path to a .ts, .yaml or .json scenario, or a shipped name: ${names.join(", ")}.`,
  );
}

async function readScenarioData(file: string, source: string): Promise<unknown> {
  const extension = extname(file);
  if (MODULE_EXTENSIONS.includes(extension)) {
    let module: { default?: unknown };
    try {
      module = await importModule(file);
    } catch (error) {
      throw new InputError(source, `could not be loaded: ${firstLine(errorMessage(error))}`, "Fix the module so it imports cleanly.");
    }
    if (module.default === undefined) {
      throw new InputError(source, "has no default export", "Export the scenario: `export default defineScenario({ ... })`.");
    }
    return module.default;
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(source, `cannot be read: ${firstLine(errorMessage(error))}`, "Check the path and its permissions.");
  }
  try {
    return extension === ".json" ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new InputError(
      source,
      `is not valid ${extension === ".json" ? "JSON" : "YAML"}: ${firstLine(errorMessage(error))}`,
      "Fix the syntax at that line.",
    );
  }
}

/**
 * Node strips types itself; a scenario using TypeScript that must be transformed (an enum, a
 * namespace) is loaded again through tsx, registered only then since it costs ~0.4 s to load.
 */
async function importModule(file: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as { default?: unknown };
  } catch (error) {
    if (!needsTransform(error)) throw error;
  }
  const { tsImport } = await import("tsx/esm/api");
  return (await tsImport(url, import.meta.url)) as { default?: unknown };
}

function needsTransform(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX" || code === "ERR_UNKNOWN_FILE_EXTENSION" || code === "ERR_NO_TYPESCRIPT";
}

export interface ScenarioListing {
  name: string;
  file: string;
  target: string;
  duration: string;
  description: string;
}

/** The shipped scenarios, each loaded and validated (a broken shipped scenario is a bug). */
export async function listScenarios(): Promise<ScenarioListing[]> {
  const files = (await readdir(SCENARIOS_DIR)).filter((file) => EXTENSIONS.includes(extname(file))).sort();
  const listings: ScenarioListing[] = [];
  for (const file of files) {
    const path = join(SCENARIOS_DIR, file);
    const scenario = validateScenario(await readScenarioData(path, file), file, { dir: SCENARIOS_DIR });
    listings.push({
      name: basename(file, extname(file)),
      file: path,
      target: scenario.target.kind,
      duration: String(scenario.duration),
      description: scenario.description ?? "",
    });
  }
  return listings.sort((a, b) => a.name.localeCompare(b.name));
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim().replace(/:$/, "");
}
