// npm run bench:soak — the live streams under a long, steady load, with followers that
// never read: 50 runs (10 boards × 5) each appending 20 events a second for 10 minutes,
// 200 subscribers: 100 run followers (2 per run), 40 board followers (4 per board) and 60
// that never read (raw sockets paused once their stream opens, half on runs, half on
// boards; the server drops them after its stall bound, 30 s; every 90 s each wakes, reads
// what is left, and subscribes again). Each run starts with 8 MB of history, more than the
// kernel's socket buffers hold, so a stalled follower's replay backs up into the server.
// Goals, printed: server RSS peak ≤ 400 MB and within 50 MB of its start after the
// subscribers leave; append p99 ≤ 100 ms in every minute; 0 errors, nothing missing or
// doubled. Nothing is asserted. BENCH_SECONDS (default 600), BENCH_PROVIDERS (default
// sqlite,postgresql), BENCH_SETTLE_SECONDS (default 60: the most it waits for the memory to come back) vary a run. The server is the compiled
// one (`npm run build` first, plain `node`, as `npm start` runs it; BENCH_SERVER=source for tsx).
import { availableParallelism, loadavg } from "node:os";
import type { Provider } from "@agentboard/db";
import { percentile, runSoak } from "./support/soak.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 600);
const SETTLE = Number(process.env.BENCH_SETTLE_SECONDS ?? 60);
const providers = (process.env.BENCH_PROVIDERS ?? "sqlite,postgresql").split(",") as Provider[];
const server = process.env.BENCH_SERVER === "dist" ? "compiled server (node on dist/)" : "server on the sources (tsx)";
const meets = (ok: boolean) => (ok ? "meets" : "MISSES");

for (const provider of providers) {
  const load0 = loadavg()[0]!;
  console.log(`\n${provider}: 50 runs × 20 events/s for ${SECONDS} s, 200 subscribers (100 run followers, 40 board followers, 60 never reading); ${server}`);
  const r = await runSoak({
    provider,
    boards: 10,
    runsPerBoard: 5,
    eventsPerSecond: 20,
    runFollowers: 2,
    boardFollowers: 4,
    stalled: 60,
    seconds: SECONDS,
    historyBytes: 8 * 1024 * 1024,
    settleSeconds: SETTLE,
    settleWithinMb: 50,
    log: (line) => console.log(`  ${line}`),
  });
  const p99s = r.appendsByMinute.map((xs) => percentile(xs, 99));
  const worst = Math.max(...p99s);
  console.log(
    `  appended ${r.appended} events, ${r.deliveries} deliveries to reading followers; stalled ` +
      `subscribers woke ${r.drops + r.held} times: dropped by the server ${r.drops}, still held ${r.held}`,
  );
  console.log(
    `  server RSS: start ${r.rss.startMb.toFixed(0)} MB, peak ${r.rss.peakMb.toFixed(0)} MB (${meets(r.rss.peakMb <= 400)} ≤ 400 MB), ` +
      `${(r.rss.settledMs / 1000).toFixed(1)} s after the subscribers left ${r.rss.endMb.toFixed(0)} MB ` +
      `(${meets(r.rss.endMb - r.rss.startMb <= 50)} within 50 MB of the start; watched up to ${SETTLE} s)`,
  );
  console.log(
    `  append p99 by minute: ${p99s.map((p) => `${p} ms`).join(", ")} (${meets(worst <= 100)} ≤ 100 ms in every minute); p50 overall ${percentile(
      r.appendsByMinute.flat().sort((a, b) => a - b),
      50,
    )} ms`,
  );
  console.log(`  errors ${r.errors.length}, missing ${r.missing}, doubled ${r.duplicates} (${meets(r.errors.length + r.missing + r.duplicates === 0)} 0)`);
  for (const e of r.errors.slice(0, 10)) console.log(`    ${e}`);
  if (r.cpu) {
    const share = (s: number) => (s / r.cpu!.seconds).toFixed(2);
    console.log(
      `  CPU, in cores busy: server ${share(r.cpu.servers)}, clients ${share(r.cpu.clients)}, ` +
        `postgres ${share(r.cpu.postgres)} of ${availableParallelism()}; load average ` +
        `${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`,
    );
  }
}
