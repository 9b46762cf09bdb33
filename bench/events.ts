// npm run bench:events — how long a run event takes from `run.appendEvents` to an SSE
// subscriber of `run.onEvents`: 50 running runs each appending 20 events a second, 100
// subscribers (two per run); then 10 runs with the same 100 subscribers (ten per run), a
// lighter write load for comparison (BENCH_LOADS, default "50,10"). PostgreSQL with two API replicas (separate processes; each
// run is written through one replica and followed on both, so half of the deliveries cross
// replicas through LISTEN/NOTIFY), then SQLite with one server. Events are sent the way
// runners send them: gathered for BENCH_FLUSH_MS (default 150 ms, the runner's default
// flush) and appended in one call. Two latencies per delivery, both on this machine's clock:
//   append → receipt: from the start of the `run.appendEvents` call to the subscriber;
//   insert → receipt: from the event's row timestamp (set by the server as it writes) to the
//                     subscriber: the fan-out alone (notify, re-read, SSE).
// On PostgreSQL the deliveries that crossed replicas (written through one, followed on the
// other) are also shown apart. The CPU that servers, clients and PostgreSQL spent in the
// measured window is printed beside the figures: they all share this machine.
// The goal is p99 ≤ 100 ms; nothing is asserted. BENCH_SECONDS (default 10),
// BENCH_PROVIDERS (default sqlite,postgresql) and BENCH_SUBS (subscribers, default 100)
// narrow or vary a run. --adapter=trpc: the servers serve the subscriptions and mutations
// through tRPC's own adapter, without the direct paths (default direct; bench/support/adapter.ts).
import { availableParallelism } from "node:os";
import { createAgentboardClient, type AgentboardClient } from "@agentboard/client";
import type { Provider } from "@agentboard/db";
import { join } from "node:path";
import { createTestDatabase, initRepo } from "@agentboard/testkit";
import { cpuMeter, type CpuSpent } from "./support/cpu.js";
import { spawnApiServer } from "./support/spawn-server.js";
import { useAdapterFromArgs } from "./support/adapter.js";

const EVENTS_PER_SECOND = 20;
const SUBSCRIBERS = Number(process.env.BENCH_SUBS ?? 100);
/** Running runs per scenario: the specified 50, then a lighter write load for comparison. */
const LOADS = (process.env.BENCH_LOADS ?? "50,10").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLUSH_MS = Number(process.env.BENCH_FLUSH_MS ?? 150);
const WARMUP_MS = 1_000;
const ADMIN = "ab_bench_admin_token_events_0123456789";
const providers = (process.env.BENCH_PROVIDERS ?? "sqlite,postgresql").split(",") as Provider[];
console.log(`adapter: ${useAdapterFromArgs()}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many cores' worth each part kept busy, e.g. "servers 0.31, clients 0.21, postgres 0.14 = 0.66". */
function cpuShares(cpu: CpuSpent): string {
  const share = (seconds: number) => (seconds / cpu.seconds).toFixed(2);
  return `servers ${share(cpu.servers)}, clients ${share(cpu.clients)}, postgres ${share(cpu.postgres)} = ${share(cpu.servers + cpu.clients + cpu.postgres)}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  provider: Provider;
  runs: number;
  replicas: number;
  sent: number;
  appends: number;
  expected: number;
  received: number;
  duplicates: number;
  latencies: number[];
  /** append → receipt of the deliveries whose subscriber is on another replica than the writer. */
  crossed: number[];
  fanout: number[];
  seconds: number;
  cpu: CpuSpent | null;
}

async function bench(provider: Provider, RUNS: number): Promise<Result> {
  const SUBSCRIBERS_PER_RUN = Math.max(1, Math.round(SUBSCRIBERS / RUNS));
  const db = await createTestDatabase(provider);
  const env = {
    DATABASE_URL: db.config.provider === "postgresql" ? db.config.url : `file:${db.config.file}`,
    AGENTBOARD_DATA_DIR: db.dir,
    AGENTBOARD_ADMIN_TOKEN: ADMIN,
    AGENTBOARD_POOL_SIZE: "20",
  };
  // One server owns a SQLite file; PostgreSQL gets two replicas.
  const servers = [await spawnApiServer(env)];
  if (provider === "postgresql") servers.push(await spawnApiServer(env));
  const clients: AgentboardClient[] = servers.map((s) => createAgentboardClient({ url: s.url, token: ADMIN }));
  const [first] = clients as [AgentboardClient];

  try {
    const ws = await first.workspace.create.mutate({ name: "Bench", slug: "bench" });
    const board = await first.board.create.mutate({ workspaceId: ws.id, name: "Bench" });
    const project = await first.project.create.mutate({
      workspaceId: ws.id,
      name: "bench",
      repoPath: initRepo(join(db.dir, "repos", "bench"), { "README.md": "bench\n" }),
    });
    const card = await first.card.create.mutate({ boardId: board.id, projectId: project.id, title: "bench" });
    const runs: { id: string; leaseToken: string; writer: AgentboardClient }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await first.run.create.mutate({ cardId: card.id, engine: "command", command: "true" });
      const claim = await first.run.claim.mutate({ workspaceId: ws.id, runId: run.id });
      await first.run.start.mutate({ runId: run.id, leaseToken: claim!.leaseToken });
      runs.push({ id: run.id, leaseToken: claim!.leaseToken, writer: clients[i % clients.length]! });
    }

    // Subscribers: for each run one per replica (PostgreSQL), or all on the one server.
    const latencies: number[] = [];
    const crossed: number[] = [];
    const fanout: number[] = [];
    let received = 0;
    let duplicates = 0;
    let measuring = false;
    const subs = runs.flatMap((run, i) =>
      Array.from({ length: SUBSCRIBERS_PER_RUN }, (_, k) => {
        const client = clients[(i + k) % clients.length]!;
        const crossing = client !== run.writer;
        let last = 0;
        let started!: () => void;
        const ready = new Promise<void>((r) => (started = r));
        const sub = client.run.onEvents.subscribe(
          { runId: run.id },
          {
            onStarted: () => started(),
            onData: ({ data }) => {
              if (data.seq <= last) {
                duplicates++;
                return;
              }
              last = data.seq;
              const payload = data.payload;
              const sentAt = payload && typeof payload === "object" && !Array.isArray(payload) && typeof payload.sentAt === "number" ? payload.sentAt : null;
              if (sentAt === null) return;
              const now = Date.now();
              received++;
              latencies.push(now - sentAt);
              if (crossing) crossed.push(now - sentAt);
              fanout.push(now - data.createdAt.getTime());
            },
          },
        );
        return { sub, ready };
      }),
    );
    await Promise.all(subs.map((s) => s.ready));

    // Writers: each run produces 20 events a second and sends what it has every FLUSH_MS,
    // never two calls in flight for one run (as a runner does).
    let stop = false;
    let measuredSent = 0;
    let appends = 0;
    const writers = runs.map(async (run, i) => {
      await sleep((i * FLUSH_MS) / RUNS); // spread the runs over the flush window
      let owed = 0;
      let last = Date.now();
      while (!stop) {
        const t0 = Date.now();
        owed += ((t0 - last) / 1000) * EVENTS_PER_SECOND;
        last = t0;
        const n = Math.max(1, Math.floor(owed));
        owed -= n;
        const counted = measuring;
        await run.writer.run.appendEvents.mutate({
          runId: run.id,
          leaseToken: run.leaseToken,
          events: Array.from({ length: n }, () => ({ type: "agent.message", payload: { role: "assistant", text: "bench", sentAt: counted ? t0 : null } })),
        });
        if (counted) {
          measuredSent += n;
          appends++;
        }
        await sleep(Math.max(0, FLUSH_MS - (Date.now() - t0)));
      }
    });
    // Leases last 30 s; keep them while the bench runs.
    const heartbeats = setInterval(() => {
      for (const run of runs) void run.writer.run.heartbeat.mutate({ runId: run.id, leaseToken: run.leaseToken }).catch(() => undefined);
    }, 10_000);

    await sleep(WARMUP_MS);
    measuring = true;
    const t0 = Date.now();
    const meter = cpuMeter(servers.map((s) => s.child.pid));
    await sleep(SECONDS * 1000);
    measuring = false;
    const cpu = meter?.spent() ?? null;
    const seconds = (Date.now() - t0) / 1000;
    stop = true;
    await Promise.all(writers);
    clearInterval(heartbeats);
    // Let the last measured events arrive.
    const deadline = Date.now() + 5_000;
    while (received < measuredSent * SUBSCRIBERS_PER_RUN && Date.now() < deadline) await sleep(50);
    for (const s of subs) s.sub.unsubscribe();
    for (const xs of [latencies, crossed, fanout]) xs.sort((a, b) => a - b);
    return {
      provider,
      runs: RUNS,
      replicas: servers.length,
      sent: measuredSent,
      appends,
      expected: measuredSent * SUBSCRIBERS_PER_RUN,
      received,
      duplicates,
      latencies,
      crossed,
      fanout,
      seconds,
      cpu,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await db.drop();
  }
}

console.log(
  `run.appendEvents → run.onEvents (SSE): runs × ${EVENTS_PER_SECOND} events/s each (sent every ${FLUSH_MS} ms), ` +
    `${SUBSCRIBERS} subscribers spread over the runs, ${SECONDS} s measured per row\n`,
);
const rows: string[][] = [
  [
    "provider",
    "replicas",
    "runs",
    "events/s",
    "appends/s",
    "deliveries",
    "missing",
    "dupes",
    "append→recv p50",
    "p99",
    "max",
    "across replicas p99",
    "insert→recv p50",
    "p99",
  ],
];
for (const provider of providers) {
  for (const runs of LOADS) {
    const r = await bench(provider, runs);
    const l = r.latencies;
    const f = r.fanout;
    rows.push([
      r.provider,
      String(r.replicas),
      String(r.runs),
      (r.sent / r.seconds).toFixed(0),
      (r.appends / r.seconds).toFixed(0),
      String(r.received),
      String(Math.max(0, r.expected - r.received)),
      String(r.duplicates),
      `${percentile(l, 50)} ms`,
      `${percentile(l, 99)} ms`,
      `${l.at(-1) ?? NaN} ms`,
      r.crossed.length ? `${percentile(r.crossed, 99)} ms` : "-",
      `${percentile(f, 50)} ms`,
      `${percentile(f, 99)} ms`,
    ]);
    const p99 = percentile(l, 99);
    console.log(
      `${provider}, ${runs} runs: append→receipt p50 ${percentile(l, 50)} ms, p99 ${p99} ms over ` +
        `${l.length} deliveries (${p99 <= 100 ? "meets" : "misses"} the p99 ≤ 100 ms goal)`,
    );
    if (r.cpu) console.log(`  CPU, in cores busy: ${cpuShares(r.cpu)} of ${availableParallelism()}`);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(`\n${rows.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join("  ")).join("\n")}`);
