/**
 * The shape STYLE.md asks of the library's code, held by the suite rather than by review: harness/
 * is formatted by prettier (.prettierrc.json, `npm run format`), no module grows past what a reader
 * can hold, and no line is wider than prettier's printWidth (long strings are split with `+`, long
 * comments wrapped: prettier leaves those as they are). The driver agents' sources (harness/drivers/,
 * C, Java, Python, shell) are held to the same length and width, prettier aside.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const MAX_LINES = 450;
const MAX_WIDTH = 140;

function files(dir: string, name: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name), name) : name.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

/** harness/'s TypeScript, and the driver agents' own sources. */
const modules = (dir: string) => [...files(dir, /\.ts$/), ...files(join(dir, "drivers"), /\.(c|h|java|py|sh)$/)];

describe("the shape of harness/", { timeout: 60_000 }, () => {
  it("is formatted by prettier", () => {
    const run = spawnSync(process.execPath, ["node_modules/prettier/bin/prettier.cjs", "--check", "harness/**/*.ts"], { encoding: "utf8" });
    expect(run.status, `${run.stdout}${run.stderr}\nRun: npm run format`).toBe(0);
  });

  it(`has no module over ${MAX_LINES} lines`, () => {
    const long = modules("harness")
      .map((path) => ({ path, lines: readFileSync(path, "utf8").split("\n").length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it(`has no line over ${MAX_WIDTH} characters`, () => {
    const wide = modules("harness").flatMap((path) =>
      readFileSync(path, "utf8")
        .split("\n")
        .flatMap((line, index) => ([...line].length > MAX_WIDTH ? [`${path}:${index + 1}`] : [])),
    );
    expect(wide, `split the string with + or wrap the comment at ${MAX_WIDTH} characters`).toEqual([]);
  });
});
