// `--adapter=direct|trpc`: how the benchmarked API servers answer the runner protocol's
// mutations and the subscriptions. `direct` (the default, what production runs) serves them
// on the direct paths (packages/api/src/http/README.md); `trpc` switches those off, so
// everything goes through tRPC's own Node adapter and the direct paths' gain can be
// measured again. The choice reaches every server spawnApiServer starts (BENCH_ADAPTER, read
// by api-server.mjs).
import { parseArgs } from "node:util";

export type Adapter = "direct" | "trpc";

/** Reads `--adapter` from the command line (other options are the caller's) and passes it on. */
export function useAdapterFromArgs(argv: string[] = process.argv.slice(2)): Adapter {
  const { values } = parseArgs({ args: argv, options: { adapter: { type: "string" } }, strict: false });
  const value = values.adapter ?? "direct";
  if (value !== "direct" && value !== "trpc") throw new Error(`--adapter takes direct or trpc, not ${String(value)}`);
  process.env.BENCH_ADAPTER = value;
  return value;
}
