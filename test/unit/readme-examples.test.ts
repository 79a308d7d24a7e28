/**
 * The README's scenario examples are scenarios: each TypeScript block with `defineScenario` and
 * each YAML block with `probes:` loads and validates, as a user copying it would expect.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadScenario } from "../../harness/scenario/load.ts";

const readme = readFileSync("README.md", "utf8");
const blocks = [...readme.matchAll(/^```(ts|yaml)\n([\s\S]*?)^```$/gm)].map((match, index) => ({ lang: match[1]!, code: match[2]!, index }));
const scenarios = blocks.filter((block) => (block.lang === "ts" ? block.code.includes("defineScenario(") : /^probes:/m.test(block.code)));
// Written next to the tests, with `from "pgdrill"` pointed at the sources, which Node runs as they are.
const dir = mkdtempSync(join(resolve("test/fixtures"), "readme-"));
const index = pathToFileURL(resolve("harness/index.ts")).href;

describe("README scenario examples", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has TypeScript and YAML scenarios to check", () => {
    expect(scenarios.filter((block) => block.lang === "ts").length).toBeGreaterThanOrEqual(2);
    expect(scenarios.filter((block) => block.lang === "yaml").length).toBeGreaterThanOrEqual(1);
  });

  it.each(scenarios.map((block) => [`block ${block.index} (${block.lang})`, block] as const))("%s validates", async (_name, block) => {
    const file = join(dir, `example-${block.index}.${block.lang}`);
    writeFileSync(file, block.lang === "ts" ? block.code.replace(/from "pgdrill"/g, `from "${index}"`) : block.code);
    const { scenario } = await loadScenario(file);
    expect(scenario.probes.length).toBeGreaterThan(0);
  });
});
