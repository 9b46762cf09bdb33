// npm run bench:claim — claims per second through @agentboard/client over HTTP against a
// running server (16 concurrent claimers), beside a raw-SQL claim loop on the same
// database in the same run, for each provider. Prints both, their ratio, and the goals
// (SQLite API ≥ PostgreSQL API; PostgreSQL API ÷ raw ≥ 0.8).
//
// npm run bench:claim -- --scopes 20 — instead: enqueue → claim latency for a claimant
// long-polling 1 and 20 scopes, through the API and through the real runner, on each
// provider (goal: p99 ≤ 50 ms for both N).
//
// --adapter=trpc (either mode): the API servers serve every call through tRPC's own adapter,
// without the direct paths (default --adapter=direct; bench/support/adapter.ts).
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { createAgentboardClient } from "@agentboard/client";
import { createDatabase, migrate, type DatabaseConfig, type Provider } from "@agentboard/db";
import { join } from "node:path";
import { createTestDatabase, initRepo } from "@agentboard/testkit";
import { cpuMeter, type CpuSpent } from "./support/cpu.js";
import { spawnApiServer } from "./support/spawn-server.js";
import { useAdapterFromArgs } from "./support/adapter.js";
import { measureScopeLatency, type ScopeLatency } from "./support/claim-latency.js";
import { cpus, loadavg } from "node:os";

const RUNS = Number(process.env.BENCH_RUNS ?? 4000);
/** Raw and API phases alternate this many times; the medians are compared. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLAIMERS = 16;
const providers = (process.env.BENCH_PROVIDERS ?? "sqlite,postgresql").split(",") as Provider[];

async function insertRuns(config: DatabaseConfig, scope: { workspaceId: string; boardId: string; cardId: string; projectId: string }, n: number) {
  const db = createDatabase(config);
  try {
    const base = Date.now();
    for (let i = 0; i < n; i += 1000) {
      await db.prisma.run.createMany({
        data: Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
          ...scope,
          prompt: "bench",
          engine: "command" as const,
          branch: `agentboard/bench-${i + j}`,
          baseBranch: "main",
          createdAt: new Date(base + i + j),
        })),
      });
    }
  } finally {
    await db.close();
  }
}

/**
 * The claim statement alone, as a database would run it for a hand-written queue. The CPU
 * is read before the pool ends: a PostgreSQL backend's time leaves /proc with it.
 */
async function rawClaims(config: DatabaseConfig, workspaceId: string): Promise<{ perSecond: number; spent: CpuSpent | undefined }> {
  const cpu = cpuMeter([process.pid]);
  const t0 = performance.now();
  let claimed = 0;
  let spent: CpuSpent | undefined;
  if (config.provider === "postgresql") {
    const pool = new pg.Pool({ connectionString: config.url, max: CLAIMERS });
    const sql = `UPDATE runs SET status = 'claimed', lease_token = $2, lease_expires_at = now() + interval '30 seconds',
        claimed_at = now(), attempt = attempt + 1
      WHERE id = (SELECT id FROM runs WHERE workspace_id = $1 AND status = 'queued'
        ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id`;
    await Promise.all(
      Array.from({ length: CLAIMERS }, async (_, w) => {
        for (;;) {
          const { rows } = await pool.query(sql, [workspaceId, `raw-${w}`]);
          if (rows.length === 0) return;
          claimed++;
        }
      }),
    );
    spent = cpu?.spent();
    await pool.end();
  } else {
    const db = new BetterSqlite3(config.file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const stmt = db.prepare(`UPDATE runs SET status = 'claimed', lease_token = ?,
        lease_expires_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) + 30000, attempt = attempt + 1
      WHERE id = (SELECT id FROM runs WHERE workspace_id = ? AND status = 'queued'
        ORDER BY priority DESC, created_at, id LIMIT 1) RETURNING id`);
    const claimOne = db.transaction(() => stmt.get("raw", workspaceId));
    while (claimOne.immediate()) claimed++;
    spent = cpu?.spent();
    db.close();
  }
  return { perSecond: claimed / ((performance.now() - t0) / 1000), spent };
}

async function apiClaims(url: string, tokens: string[], workspaceId: string): Promise<{ perSecond: number; claimed: number; unique: number }> {
  const clients = tokens.map((token) => createAgentboardClient({ url, token }));
  const ids: string[] = [];
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (;;) {
        const c = await client.run.claim.mutate({ workspaceId });
        if (!c) return;
        ids.push(c.run.id);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: ids.length / seconds, claimed: ids.length, unique: new Set(ids).size };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** CPU time per claim of the API server, this process (the clients) and PostgreSQL. */
function perClaim(spent: CpuSpent, n: number): string {
  const us = (seconds: number) => `${((seconds * 1e6) / n).toFixed(0)} us`;
  return `server ${us(spent.servers)}, clients ${us(spent.clients)}, postgres ${us(spent.postgres)}`;
}

/** The raw loop runs in this process (the server is idle meanwhile). */
function perRawClaim(spent: CpuSpent, n: number): string {
  const us = (seconds: number) => `${((seconds * 1e6) / n).toFixed(0)} us`;
  return `this process ${us(spent.clients)}, postgres ${us(spent.postgres)}`;
}

const { values: args } = parseArgs({ options: { scopes: { type: "string" }, samples: { type: "string" }, adapter: { type: "string" } } });
const adapter = useAdapterFromArgs();
console.log(`adapter: ${adapter}`);
if (args.scopes !== undefined) {
  const n = Number(args.scopes);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new Error("--scopes takes a whole number from 1 to 500");
  const samples = Number(args.samples ?? 100);
  const rows: ScopeLatency[] = [];
  for (const provider of providers) rows.push(...(await measureScopeLatency(provider, [...new Set([1, n])], samples, console.log)));
  const GOAL = 50;
  console.log("");
  for (const r of rows) {
    console.log(
      `${r.provider.padEnd(10)} N=${String(r.n).padStart(3)}  enqueue → claim p99 ` +
        `${r.apiP99.toFixed(1).padStart(6)} ms (goal ≤ ${GOAL}: ${r.apiP99 <= GOAL ? "met" : "NOT met"})` +
        ` | enqueue → idle runner holds the claim p99 ${r.runnerP99.toFixed(1).padStart(6)} ms (goal ≤ ${GOAL}: ${r.runnerP99 <= GOAL ? "met" : "NOT met"})`,
    );
  }
  process.exit(0);
}

const results: string[] = [];
const apiBy = new Map<Provider, number>();
for (const provider of providers) {
  const tdb = await createTestDatabase(provider);
  try {
    await migrate(tdb.config);
    const server = await spawnApiServer({
      DATABASE_URL: tdb.config.provider === "postgresql" ? tdb.config.url : `file:${tdb.config.file}`,
      AGENTBOARD_DATA_DIR: tdb.dir,
      AGENTBOARD_POOL_SIZE: String(CLAIMERS),
    });
    try {
      const admin = createAgentboardClient({ url: server.url, token: server.token });
      const ws = await admin.workspace.create.mutate({ name: "bench", slug: "bench" });
      const board = await admin.board.create.mutate({ workspaceId: ws.id, name: "b" });
      const project = await admin.project.create.mutate({
        workspaceId: ws.id,
        name: "p",
        repoPath: initRepo(join(tdb.dir, "repos", "bench"), { "README.md": "bench\n" }),
        baseBranch: "main",
      });
      const card = await admin.card.create.mutate({ boardId: board.id, projectId: project.id, title: "c" });
      const scope = { workspaceId: ws.id, boardId: board.id, cardId: card.id, projectId: project.id };
      const tokens = await Promise.all(
        Array.from({ length: CLAIMERS }, (_, i) => admin.token.create.mutate({ workspaceId: ws.id, role: "runner", name: `bench-${i}` }).then((t) => t.token)),
      );
      // Warm up both paths (connections, JIT, caches) on a small batch.
      await insertRuns(tdb.config, scope, 2000);
      await apiClaims(server.url, tokens, ws.id);

      const raws: number[] = [];
      const apis: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        await insertRuns(tdb.config, scope, RUNS);
        const { perSecond: raw, spent: rawSpent } = await rawClaims(tdb.config, ws.id);
        await insertRuns(tdb.config, scope, RUNS);
        const cpu = cpuMeter([server.child.pid]);
        const api = await apiClaims(server.url, tokens, ws.id);
        if (api.claimed !== RUNS || api.unique !== RUNS) throw new Error(`API claimed ${api.claimed} (${api.unique} unique) of ${RUNS}`);
        raws.push(raw);
        apis.push(api.perSecond);
        console.log(
          `  ${provider} round ${round}: raw ${raw.toFixed(0)} claims/s${rawSpent ? ` (CPU per raw claim: ${perRawClaim(rawSpent, RUNS)})` : ""}, API ` +
            `${api.perSecond.toFixed(0)} claims/s${cpu ? ` (CPU per API claim: ${perClaim(cpu.spent(), api.claimed)})` : ""}`,
        );
      }
      const raw = median(raws);
      const api = median(apis);
      const line =
        `${provider.padEnd(10)} raw SQL ${raw.toFixed(0).padStart(6)} claims/s | API over HTTP ` +
        `(${CLAIMERS} claimers) ${api.toFixed(0).padStart(6)} claims/s | ratio ${(api / raw).toFixed(2)}`;
      console.log(line);
      results.push(line);
      apiBy.set(provider, api);
      if (provider === "postgresql")
        results.push(`           goal: PostgreSQL API ÷ raw ≥ 0.80 → ${(api / raw).toFixed(2)} ${api / raw >= 0.8 ? "met" : "NOT met"}`);
    } finally {
      await server.stop();
    }
  } finally {
    await tdb.drop();
  }
}
const sqliteApi = apiBy.get("sqlite");
const pgApi = apiBy.get("postgresql");
console.log("");
for (const line of results) console.log(line);
if (sqliteApi !== undefined && pgApi !== undefined) {
  console.log(
    `           goal: SQLite API ≥ PostgreSQL API → ${sqliteApi.toFixed(0)} vs ` +
      `${pgApi.toFixed(0)} claims/s (${(sqliteApi / pgApi).toFixed(2)}×) ${sqliteApi >= pgApi ? "met" : "NOT met"}`,
  );
}
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")} on ${cpus().length} cores`,
);
console.log(
  `\n${RUNS} runs per phase, ${ROUNDS} rounds (medians); each API claim also writes its run.claimed event and returns the run, its project and checks.`,
);
