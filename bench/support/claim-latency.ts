// Enqueue → claim latency with N scopes (npm run bench:claim -- --scopes N): an idle
// claimant long-polls every scope with one call, a run is queued in one of them (a
// different one each time), and the time from the enqueue call to the claim's answer is
// taken; then the same with the real runner serving the N workspaces, to the moment it
// holds the claim.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAgentboardClient, type AgentboardClient } from "@agentboard/client";
import type { Provider } from "@agentboard/db";
import { loadRunnerConfig, Runner, silentLogger, type Logger } from "@agentboard/runner";
import { createTestDatabase, initRepo } from "@agentboard/testkit";
import { spawnApiServer } from "./spawn-server.js";

const warningsOnly: Logger = {
  ...silentLogger,
  warn: (msg, fields) => console.error(`runner warning: ${msg} ${JSON.stringify(fields ?? {})}`),
  error: (msg, fields) => console.error(`runner error: ${msg} ${JSON.stringify(fields ?? {})}`),
  child: () => warningsOnly,
};

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

interface Workspace {
  id: string;
  slug: string;
  cardId: string;
}

async function seed(admin: AgentboardClient, dir: string, n: number): Promise<Workspace[]> {
  const out: Workspace[] = [];
  for (let i = 0; i < n; i++) {
    const ws = await admin.workspace.create.mutate({ name: `scope ${i}`, slug: `scope-${i}` });
    const board = await admin.board.create.mutate({ workspaceId: ws.id, name: "b" });
    // A repository belongs to one workspace.
    const repo = initRepo(path.join(dir, "repos", `r${i}`), { "README.md": "bench\n" });
    const project = await admin.project.create.mutate({ workspaceId: ws.id, name: "p", repoPath: repo, baseBranch: "main" });
    const card = await admin.card.create.mutate({ boardId: board.id, projectId: project.id, title: "c" });
    out.push({ id: ws.id, slug: ws.slug, cardId: card.id });
  }
  return out;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One claimant long-polling `scopes` through the API; a run queued in scope i % N each time. */
async function apiLatency(
  admin: AgentboardClient,
  claimant: AgentboardClient,
  scopes: Workspace[],
  samples: number,
): Promise<{ claim: number[]; create: number[] }> {
  const out: number[] = [];
  const create: number[] = [];
  for (let i = 0; i < samples; i++) {
    const waiting = claimant.run.claim.mutate({ scopes: scopes.map((s) => ({ workspaceId: s.id })), waitMs: 20_000 });
    // Let the long-poll settle into its wait before the enqueue.
    await pause(30);
    const target = scopes[(i * 7) % scopes.length]!;
    const t0 = performance.now();
    const created = admin.run.create.mutate({ cardId: target.cardId, engine: "command", command: "true" }).then(() => create.push(performance.now() - t0));
    const claim = await waiting;
    const ms = performance.now() - t0;
    await created;
    if (!claim) throw new Error("the long-poll ended without a claim");
    if (claim.run.workspaceId !== target.id) throw new Error("claimed a run of another scope");
    // Nobody will run it: ended now, so that its lease does not expire into a requeue that a
    // later sample (or the runner's phase) would claim instead of its own run.
    await claimant.run.cancel.mutate({ runId: claim.run.id, reason: "benchmark sample" });
    out.push(ms);
  }
  return { claim: out, create };
}

/** The real runner serving `scopes` (concurrency 1): enqueue → the runner holds the claim. */
async function runnerLatency(url: string, token: string, admin: AgentboardClient, scopes: Workspace[], samples: number, dir: string): Promise<number[]> {
  const claimedAt = new Map<string, number>();
  const finished = new Map<string, () => void>();
  const runner = new Runner({
    config: loadRunnerConfig({
      argv: [],
      env: {},
      overrides: {
        server: url,
        token,
        workspaces: scopes.map((s) => s.slug),
        worktreesDir: path.join(dir, "worktrees"),
        concurrency: 1,
        name: `bench-${scopes.length}`,
      },
    }),
    // The runner's warnings (a failed claim) explain a slow sample.
    log: warningsOnly,
    observer: {
      onClaimed: (claim) => claimedAt.set(claim.run.id, performance.now()),
      onFinished: (runId) => finished.get(runId)?.(),
    },
  });
  await runner.start();
  const out: number[] = [];
  try {
    // The first claim warms the runner's paths; it is not counted.
    for (let i = 0; i <= samples; i++) {
      await pause(30);
      const target = scopes[(i * 7) % scopes.length]!;
      const t0 = performance.now();
      const run = await admin.run.create.mutate({ cardId: target.cardId, engine: "command", command: "true" });
      await new Promise<void>((resolve) => {
        finished.set(run.id, resolve);
        // Finished before it was asked for (a fast command): nothing more to wait for.
        void admin.run.byId.query({ runId: run.id }).then((r) => ["succeeded", "failed", "cancelled"].includes(r.status) && resolve());
      });
      // Idle again: the run's slot is free (its clean-up after the report is done).
      while (runner.activeRuns > 0) await pause(5);
      const at = claimedAt.get(run.id);
      if (at === undefined) throw new Error(`run ${run.id} was never claimed`);
      if (i > 0) out.push(at - t0);
    }
  } finally {
    await runner.stop(0);
  }
  return out;
}

export interface ScopeLatency {
  provider: Provider;
  n: number;
  apiP50: number;
  apiP99: number;
  runnerP50: number;
  runnerP99: number;
}

export async function measureScopeLatency(provider: Provider, counts: number[], samples: number, log: (line: string) => void): Promise<ScopeLatency[]> {
  const tdb = await createTestDatabase(provider);
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "agentboard-bench-scopes-")));
  const server = await spawnApiServer({
    DATABASE_URL: tdb.config.provider === "postgresql" ? tdb.config.url : `file:${tdb.config.file}`,
    AGENTBOARD_DATA_DIR: tdb.dir,
    AGENTBOARD_REAPER_MS: "2000",
    AGENTBOARD_REPO_ROOTS: dir,
  });
  try {
    const admin = createAgentboardClient({ url: server.url, token: server.token });
    const claimant = createAgentboardClient({ url: server.url, token: server.token });
    const all = await seed(admin, dir, Math.max(...counts));
    const out: ScopeLatency[] = [];
    for (const n of counts) {
      const scopes = all.slice(0, n);
      await apiLatency(admin, claimant, scopes, 5);
      const { claim: api, create } = await apiLatency(admin, claimant, scopes, samples);
      const viaRunner = await runnerLatency(server.url, server.token, admin, scopes, Math.max(10, Math.floor(samples / 2)), dir);
      const row = {
        provider,
        n,
        apiP50: percentile(api, 50),
        apiP99: percentile(api, 99),
        runnerP50: percentile(viaRunner, 50),
        runnerP99: percentile(viaRunner, 99),
      };
      log(
        `  ${provider} N=${n}: enqueue → claim p50 ${row.apiP50.toFixed(1)} ms, p99 ` +
          `${row.apiP99.toFixed(1)} ms (${api.length} samples; the enqueue call alone answered in ` +
          `p50 ${percentile(create, 50).toFixed(1)} ms, p99 ${percentile(create, 99).toFixed(1)} ` +
          `ms); enqueue → idle runner holds the claim p50 ${row.runnerP50.toFixed(1)} ms, p99 ` +
          `${row.runnerP99.toFixed(1)} ms (${viaRunner.length} samples)`,
      );
      out.push(row);
    }
    return out;
  } finally {
    await server.stop();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
