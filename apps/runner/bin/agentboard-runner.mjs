#!/usr/bin/env node
// The runner, in this very process (so signals — SIGTERM for a graceful stop, SIGKILL from a
// supervisor — reach the runner itself). An install runs the compiled JavaScript in dist/;
// a checkout started with `--conditions=agentboard-source` (tests, `npm run dev`) resolves the
// TypeScript sources instead, and only then is tsx (a dev dependency) registered.
const entry = import.meta.resolve("@agentboard/runner/cli");
if (entry.endsWith(".ts")) (await import("tsx/esm/api")).register();
await import(entry);
