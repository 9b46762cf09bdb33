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
// BENCH_ADAPTER=trpc (a bench's --adapter=trpc, bench/support/adapter.ts): the direct paths off.
const adapter = process.env.BENCH_ADAPTER === "trpc" ? "trpc" : "direct";
const http = await listenApi(core, { port: Number(process.env.PORT ?? 0), stallMs, direct: adapter === "direct" });
console.log(JSON.stringify({ url: http.url, token, adapter }));
// BENCH_HEAP_PROMOTED=<file>: a sampling heap profile of what outlived a young-generation
// collection (kept in the profile even when a full collection freed it later), written at
// exit: who fills the old generation between full collections (open it in Chrome DevTools, Memory).
const promoted = process.env.BENCH_HEAP_PROMOTED ? await samplePromoted() : null;
async function samplePromoted() {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 32 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
  return async () => {
    const { profile } = await session.post("HeapProfiler.stopSampling");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(/** @type {string} */ (process.env.BENCH_HEAP_PROMOTED), JSON.stringify(profile));
  };
}
const stop = async () => {
  await promoted?.();
  await http.close();
  await core.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// BENCH_MEM_LOG=1: the server's memory every second on stderr, to tell heap from buffers when
// RSS grows, and each full garbage collection (its pause, the heap it left).
if (process.env.BENCH_MEM_LOG) {
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = /** @type {{ kind?: number }} */ (e.detail)?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      process.stderr.write(`GC major ${e.duration.toFixed(1)} ms, heapUsed after ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB\n`);
    }
  }).observe({ entryTypes: ["gc"] });
  setInterval(() => {
    const m = process.memoryUsage();
    /** @param {number} n */
    const mb = (n) => (n / 1048576).toFixed(0);
    process.stderr.write(
      `MEM rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }, 1000).unref();
}
