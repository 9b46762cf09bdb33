import { git, makeRepoFixture, writeFile, type RepoFixture } from "@agentboard/testkit";
import { rmSync } from "node:fs";
import path from "node:path";
import { commitAll, createWorktree } from "@agentboard/git";

export { git, writeFile };
import type { Caller, TestApi } from "./harness.js";

/**
 * Real git repositories and a scripted runner for tests of merge, abort and worktrees:
 * what a runner leaves behind (a worktree on the run's branch with a commit) is made with
 * the same @agentboard/git calls the runner uses, and the run moves through the real
 * runner protocol (claim → start → complete).
 */

/** Commits files straight onto a branch of the main checkout (someone else landing work). */
export function commitOnMain(repo: string, files: Record<string, string | null>, message: string): string {
  for (const [rel, content] of Object.entries(files)) {
    if (content === null) rmSync(path.join(repo, rel), { force: true });
    else writeFile(repo, rel, content);
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

export type { RepoFixture };

/** A repository with two files; given a test API, inside that server's own repository root (`<data dir>/repos`). */
export function makeRepo(api?: TestApi): RepoFixture {
  const files = { "README.md": "# demo\n\nline two\n", "src/app.ts": "export const a = 1;\n" };
  return makeRepoFixture("agentboard-api-git-", files, api ? path.join(api.db.dir, "repos") : undefined);
}

export interface RunnerWork {
  /** Files the "agent" writes (null deletes). */
  files: Record<string, string | null>;
}

export interface StartedRun {
  runId: string;
  leaseToken: string;
  worktree: string;
  branch: string;
  checks: { id: string; key: string; check: string | null; autoValidate: boolean }[];
}

/** Claims the run by id, makes its worktree with the agent's work committed, and starts it. */
export async function claimAndWork(
  runner: Caller,
  workspaceId: string,
  runId: string,
  fx: RepoFixture,
  work: RunnerWork,
  opts: { start?: boolean } = {},
): Promise<StartedRun> {
  const claim = await runner.run.claim({ workspaceId, runId });
  if (!claim) throw new Error(`run ${runId} could not be claimed`);
  const dir = path.join(fx.worktrees, runId);
  const wt = await createWorktree({ repoPath: fx.repo, baseBranch: claim.run.baseBranch, branch: claim.run.branch, dir });
  for (const [rel, content] of Object.entries(work.files)) {
    if (content === null) rmSync(path.join(wt.path, rel), { force: true });
    else writeFile(wt.path, rel, content);
  }
  await commitAll({ dir: wt.path, message: `agent work for ${runId}` });
  if (opts.start !== false) await runner.run.start({ runId, leaseToken: claim.leaseToken, worktreePath: wt.path, sizeBytes: 1 });
  return { runId, leaseToken: claim.leaseToken, worktree: wt.path, branch: claim.run.branch, checks: claim.checks };
}

export async function complete(runner: Caller, started: StartedRun) {
  return runner.run.complete({
    runId: started.runId,
    leaseToken: started.leaseToken,
    status: "succeeded",
    output: { summary: "done", diffHash: "d".repeat(64) },
    metrics: { tokensIn: 10, tokensOut: 20, costUsd: 0.01 },
  });
}

/** Every item of the run gets text evidence validated by `validator`. */
export async function satisfyDod(author: Caller, validator: Caller, runId: string) {
  const run = await author.run.byId({ runId });
  for (const item of run.dodItems) {
    const { evidence } = await author.dod.addEvidence({ runId, itemId: item.id, kind: "text", payload: { text: `evidence for ${item.key}` } });
    await validator.dod.validate({ evidenceId: evidence.id });
  }
}

export function branchExists(repo: string, branch: string): boolean {
  try {
    git(repo, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`);
    return true;
  } catch {
    return false;
  }
}
