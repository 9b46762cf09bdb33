#!/usr/bin/env node
// The runner is TypeScript run through tsx (like the rest of the monorepo's Node code).
// tsx is registered in this very process rather than spawned as a child, so signals
// (SIGTERM for a graceful stop, SIGKILL from a supervisor) reach the runner itself.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
