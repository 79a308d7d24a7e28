import { defineConfig } from "vitest/config";

// `npm run test:k8s`: the cnpg target against real kind clusters and a real CloudNativePG operator,
// built here by fixtures/kind/build.sh. Minutes per drill, one file at a time.
export default defineConfig({
  test: {
    include: ["test/k8s/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 900_000,
  },
});
