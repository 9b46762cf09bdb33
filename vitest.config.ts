import { defineConfig } from "vitest/config";

// Tests run the TypeScript sources: every workspace package exports them under the
// `agentboard-source` condition (`default` is the compiled dist/). Vite's resolver gets the condition
// here; NODE_OPTIONS carries it to the processes that tests start (runners, API replicas,
// the CLI), which resolve with Node's own resolver.
const SOURCE = "--conditions=agentboard-source";
if (!(process.env.NODE_OPTIONS ?? "").includes(SOURCE)) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} ${SOURCE}`.trim();

export default defineConfig({
  resolve: { conditions: ["agentboard-source", "module", "node", "development|production"] },
  ssr: { resolve: { conditions: ["agentboard-source", "module", "node", "development|production"], externalConditions: ["agentboard-source"] } },
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
