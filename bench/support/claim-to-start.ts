// Claim → engine start through the real runner beside a plain `git worktree add` of the
// same repository, in one run (npm run bench:runner, and bench:sandbox's last figure).
//
// The server runs in its own process; the runner is the real one, in-process so it can
// report the moment its engine starts.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createAgentboardClient } from "@agentboard/client";
import { loadRunnerConfig, Runner, silentLogger } from "@agentboard/runner";
import { spawnApiServer } from "./spawn-server.js";

export interface ClaimToStartFigures {
  files: number;
  rounds: number;
  gitMs: number;
  runnerMs: number;
  worktreeMs: number;
  goalMs: number;
}

const run = promisify(execFile);

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: "C" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return env;
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  await run("git", ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "core.hooksPath=/dev/null", ...args], {
    cwd,
    env: gitEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
}

async function makeRepo(dir: string, files: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, "src", `pkg${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `file${i}.ts`), `export const value${i} = ${i};\n// ${"x".repeat(i % 200)}\n`);
  }
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", `${files} files`);
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export async function measureClaimToStart(files: number, rounds: number, log: (line: string) => void = console.log): Promise<ClaimToStartFigures> {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), "agentboard-bench-runner-")));
  const repo = path.join(root, "repo");
  const server = await spawnApiServer({ AGENTBOARD_DATA_DIR: path.join(root, "data"), AGENTBOARD_REAPER_MS: "2000", AGENTBOARD_REPO_ROOTS: root });
  let runner: Runner | null = null;
  try {
    log(`creating a repository of ${files} files…`);
    await makeRepo(repo, files);

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
    for (let i = 0; i <= rounds; i++) {
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
      log(
        `${i === 0 ? "warm-up" : `round ${i}`}: git worktree add ${gitMs.toFixed(0)} ms, runner ` +
          `claim→engine start ${runnerMs.toFixed(0)} ms (its checkout step ${wtMs} ms)`,
      );
    }

    const g = median(plain);
    return { files, rounds, gitMs: g, runnerMs: median(viaRunner), worktreeMs: median(worktreeStep), goalMs: 1.2 * g + 100 };
  } finally {
    await runner?.stop(0);
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
