// @ts-check
// A server process with only the API (no Next.js), for benchmarks: the same core and
// HTTP handler the web server mounts. Prints its URL as one JSON line when ready.
// Plain JavaScript, so that `node` runs it on the compiled packages (dist/) exactly as
// production does; started with `--import tsx` and the source condition it runs the
// TypeScript sources instead (spawn-server.ts chooses).
import { createApiCore, ensureBootstrapAdmin, listenApi } from "@agentboard/api";
import { resolveDatabaseConfig } from "@agentboard/db";

const dataDir = process.env.AGENTBOARD_DATA_DIR ?? ".agentboard-bench";
const core = await createApiCore({
  database: resolveDatabaseConfig({ databaseUrl: process.env.DATABASE_URL, dataDir }),
  dataDir,
  poolSize: Number(process.env.AGENTBOARD_POOL_SIZE ?? 10),
  repoRoots: (process.env.AGENTBOARD_REPO_ROOTS ?? "").split(":").filter((p) => p !== ""),
  // Benchmarks leave runs claimed without heartbeats; the reaper must not requeue them.
  reaperEveryMs: Number(process.env.AGENTBOARD_REAPER_MS ?? 0),
});
const { token } = await ensureBootstrapAdmin(core.deps, { envToken: process.env.AGENTBOARD_ADMIN_TOKEN, dataDir });
const stallMs = process.env.AGENTBOARD_STALL_MS ? Number(process.env.AGENTBOARD_STALL_MS) : undefined;
const http = await listenApi(core, { port: Number(process.env.PORT ?? 0), stallMs });
console.log(JSON.stringify({ url: http.url, token }));
const stop = async () => {
  await http.close();
  await core.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// BENCH_MEM_LOG=1: the server's memory every second on stderr, to tell heap from buffers when RSS grows.
if (process.env.BENCH_MEM_LOG) {
  setInterval(() => {
    const m = process.memoryUsage();
    /** @param {number} n */
    const mb = (n) => (n / 1048576).toFixed(0);
    process.stderr.write(
      `MEM rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }, 1000).unref();
}
