// npm run bench:runner — time from claim to engine start through the real runner, on a
// repository of 10,000 files, beside a plain `git worktree add` of the same repository in
// the same run. Prints both, their ratio and the goal (runner ≤ 1.5 × git + 200 ms).
//
// The server runs in its own process (bench/support); the runner is the real one,
// in-process so it can report the moment its engine starts.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createAgentboardClient } from "@agentboard/client";
import { loadRunnerConfig, Runner, silentLogger } from "@agentboard/runner";
import { spawnApiServer } from "./support/spawn-server.js";

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const run = promisify(execFile);

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: "C" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return env;
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  await run("git", ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "core.hooksPath=/dev/null", ...args], { cwd, env: gitEnv(), maxBuffer: 64 * 1024 * 1024 });
}

async function makeRepo(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, "src", `pkg${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `file${i}.ts`), `export const value${i} = ${i};\n// ${"x".repeat(i % 200)}\n`);
  }
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "10k files");
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "agentboard-bench-runner-")));
const repo = path.join(root, "repo");
const server = await spawnApiServer({ AGENTBOARD_DATA_DIR: path.join(root, "data"), AGENTBOARD_REAPER_MS: "2000", AGENTBOARD_REPO_ROOTS: root });
let runner: Runner | null = null;
try {
  console.log(`creating a repository of ${FILES} files…`);
  await makeRepo(repo);

  const admin = createAgentboardClient({ url: server.url, token: server.token });
  const ws = await admin.workspace.create.mutate({ name: "bench", slug: "bench-runner" });
  const board = await admin.board.create.mutate({ workspaceId: ws.id, name: "bench" });
  const project = await admin.project.create.mutate({ workspaceId: ws.id, name: "big", repoPath: repo, baseBranch: "main" });
  const card = await admin.card.create.mutate({ boardId: board.id, projectId: project.id, title: "bench" });

  const claimedAt = new Map<string, number>();
  const overhead = new Map<string, number>();
  const finished = new Map<string, () => void>();
  runner = new Runner({
    config: loadRunnerConfig({
      argv: [],
      env: {},
      overrides: { server: server.url, token: server.token, workspaces: [ws.id], worktreesDir: path.join(root, "worktrees"), concurrency: 1, name: "bench" },
    }),
    log: silentLogger,
    observer: {
      onClaimed: (claim, at) => claimedAt.set(claim.run.id, at),
      onEngineStart: (runId, at) => overhead.set(runId, at - (claimedAt.get(runId) ?? at)),
      onFinished: (runId) => finished.get(runId)?.(),
    },
  });
  await runner.start();

  const plain: number[] = [];
  const viaRunner: number[] = [];
  const worktreeStep: number[] = [];
  // Round 0 warms the page cache and both code paths; it is not counted.
  for (let i = 0; i <= ROUNDS; i++) {
    const t0 = performance.now();
    await git(repo, "worktree", "add", "-q", "-b", `bench/plain-${i}`, path.join(root, "plain", String(i)), "main");
    const gitMs = performance.now() - t0;

    const queued = await admin.run.create.mutate({ cardId: card.id, engine: "command", command: "true" });
    await new Promise<void>((resolve) => finished.set(queued.id, resolve));
    const runnerMs = overhead.get(queued.id);
    if (runnerMs === undefined) throw new Error(`run ${queued.id} never started its engine`);
    const events = await admin.run.events.query({ runId: queued.id });
    const wt = events.find((e) => e.type === "runner.worktree")?.payload as { durationMs?: number } | undefined;
    const wtMs = wt?.durationMs ?? NaN;
    if (i > 0) {
      plain.push(gitMs);
      viaRunner.push(runnerMs);
      worktreeStep.push(wtMs);
    }
    console.log(`${i === 0 ? "warm-up" : `round ${i}`}: git worktree add ${gitMs.toFixed(0)} ms, runner claim→engine start ${runnerMs.toFixed(0)} ms (its worktree step ${wtMs} ms)`);
  }

  const g = median(plain);
  const r = median(viaRunner);
  const goal = 1.5 * g + 200;
  console.log("");
  console.log(`repository: ${FILES} files; ${ROUNDS} rounds, medians:`);
  console.log(`  plain git worktree add          ${g.toFixed(0)} ms`);
  console.log(`  runner, claim → engine start    ${r.toFixed(0)} ms (of which creating the worktree ${median(worktreeStep).toFixed(0)} ms)`);
  console.log(`  ratio                           ${(r / g).toFixed(2)}×`);
  console.log(`  goal: ≤ 1.5 × git + 200 ms = ${goal.toFixed(0)} ms → ${r <= goal ? "met" : "NOT met"}`);
} finally {
  await runner?.stop(0);
  await server.stop();
  rmSync(root, { recursive: true, force: true });
}
