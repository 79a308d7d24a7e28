import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real kind clusters and CloudNativePG: `npm run test:k8s` (vitest.k8s.config.ts).
    exclude: [...configDefaults.exclude, "test/k8s/**"],
    // Integration tests drive real containers on a 2-core machine: run files one at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
