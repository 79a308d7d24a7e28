import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/** Pure tests: no container, no engine, no fixed port or file, so their files run in parallel. */
const UNIT = "test/unit/**/*.test.ts";
/**
 * Unit files that hold real elapsed time to a bound: a fake world's timings to the real cluster's
 * within tenths of a second (at a time scale of 0.2, so every delay counts five times), a stop or a
 * deadline to within a second or a few. They run alone, as files beside them would be what they measure.
 */
const TIMED = [
  "test/unit/cnpg-fake-vs-real*.test.ts",
  "test/unit/parent-watch.test.ts",
  "test/unit/session-deadlines.test.ts",
  "test/unit/watch-cancel.test.ts",
];

/** vitest's default is one worker fewer than the CPUs: one on a 2-core machine. */
const UNIT_WORKERS = Math.max(4, availableParallelism() - 1);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each project sets its own include and exclude: `extends: true` would add to the root's.
    // Groups run one after another (sequence.groupOrder): parallel unit files, the timed ones, then the rest.
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [UNIT],
          exclude: [...configDefaults.exclude, ...TIMED],
          // Most unit files wait (fake API servers, polls, child processes) more than they compute.
          maxWorkers: UNIT_WORKERS,
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: "unit-timed", include: TIMED, fileParallelism: false, sequence: { groupOrder: 1 } } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          // test/k8s is `npm run test:k8s` (vitest.k8s.config.ts): real kind clusters and CloudNativePG.
          exclude: [...configDefaults.exclude, "test/k8s/**", UNIT],
          // Real containers and the Docker engine (shared, with fixed names) on a 2-core machine: one
          // file at a time, after the unit files, so none competes with them.
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
