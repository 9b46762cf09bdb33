import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "prisma/**/*.test.ts", "examples/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests own real databases, git repositories and processes; files run in
    // parallel workers, tests inside a file run in order.
    pool: "forks",
    maxWorkers: 2,
  },
});
