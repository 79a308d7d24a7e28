/** Where an application pool's settings come from: the scenario, then DATABASE_POOL_*, then the guide. */
import { describe, expect, it } from "vitest";
import { poolSettings } from "../../harness/connection/app-pool.ts";
import { InputError } from "../../harness/errors.ts";

describe("poolSettings", () => {
  it("takes the seed guide's values when nothing is set", () => {
    expect(poolSettings(undefined, {})).toEqual({ min: 5, max: 20, recycleMs: 300_000 });
  });

  it("reads DATABASE_POOL_MIN/MAX/RECYCLE (seconds), and lets the scenario override each", () => {
    const env = { DATABASE_POOL_MIN: "2", DATABASE_POOL_MAX: "10", DATABASE_POOL_RECYCLE: "60" };
    expect(poolSettings(undefined, env)).toEqual({ min: 2, max: 10, recycleMs: 60_000 });
    expect(poolSettings({ min: 1, recycle: "5s" }, env)).toEqual({ min: 1, max: 10, recycleMs: 5_000 });
  });

  it("refuses a malformed variable by name, and a min above max", () => {
    expect(() => poolSettings(undefined, { DATABASE_POOL_MAX: "twenty" })).toThrow(InputError);
    expect(() => poolSettings(undefined, { DATABASE_POOL_MAX: "twenty" })).toThrow(/^DATABASE_POOL_MAX: must be a whole number, got "twenty"\. Fix DATABASE_POOL_MAX/);
    expect(() => poolSettings({ min: 9, max: 3 }, {})).toThrow(/pool: min 9 and max 3 do not make a pool/);
  });
});
