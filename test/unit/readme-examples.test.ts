/**
 * The README's and docs/ pages' scenario examples are scenarios: each TypeScript block with
 * `defineScenario` and each YAML block with `probes:` loads and validates, as a user copying it
 * would expect.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadScenario } from "../../harness/scenario/load.ts";

const pages = ["README.md", ...readdirSync("docs").filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`)];
const blocks = pages.flatMap((page) =>
  [...readFileSync(page, "utf8").matchAll(/^```(ts|yaml)\n([\s\S]*?)^```$/gm)].map((match, index) => {
    return { page, lang: match[1]!, code: match[2]!, index };
  }),
);
const scenarios = blocks.filter((block) => (block.lang === "ts" ? block.code.includes("defineScenario(") : /^probes:/m.test(block.code)));
const inReadme = scenarios.filter((block) => block.page === "README.md");
// Written next to the tests, with `from "pgdrill"` pointed at the sources, which Node runs as they are.
const dir = mkdtempSync(join(resolve("test/fixtures"), "readme-"));
const index = pathToFileURL(resolve("harness/index.ts")).href;

describe("README and docs/ scenario examples", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has TypeScript and YAML scenarios to check, in the README itself too", () => {
    expect(inReadme.filter((block) => block.lang === "ts").length).toBeGreaterThanOrEqual(2);
    expect(inReadme.filter((block) => block.lang === "yaml").length).toBeGreaterThanOrEqual(1);
    expect(scenarios.length).toBeGreaterThan(inReadme.length);
  });

  const cases = scenarios.map((block) => [`${block.page} block ${block.index} (${block.lang})`, block] as const);
  it.each(cases)("%s validates", async (_name, block) => {
    const file = join(dir, `example-${block.page.replace(/\W/g, "-")}-${block.index}.${block.lang}`);
    writeFileSync(file, block.lang === "ts" ? block.code.replace(/from "pgdrill"/g, `from "${index}"`) : block.code);
    const { scenario } = await loadScenario(file);
    expect(scenario.probes.length).toBeGreaterThan(0);
  });
});
