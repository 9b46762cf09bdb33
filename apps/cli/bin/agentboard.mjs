#!/usr/bin/env node
// The CLI, in this very process: the compiled JavaScript in dist/, or, in a checkout
// started with `--conditions=agentboard-source`, the TypeScript sources through tsx (a dev dependency).
const entry = import.meta.resolve("@agentboard/cli/main");
if (entry.endsWith(".ts")) (await import("tsx/esm/api")).register();
await import(entry);
