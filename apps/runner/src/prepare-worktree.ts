/**
 * The run's working copy: a `git worktree` of the project's repository when that exists
 * on this machine (cheap: objects are shared), else a clone of the project's remote
 * (a runner on another machine). Either way the directory is `<worktrees>/<run id>` and
 * the branch is the one the server derived; both are validated by @agentboard/git, and
 * neither reaches a shell.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { cloneForRun, createWorktree, removeWorktree, withMutex, worktreeDirForRun } from "@agentboard/git";
import { RunFailure } from "./run-failure.js";

export interface WorktreeSource {
  runId: string;
  branch: string;
  baseBranch: string;
  repoPath: string;
  remoteUrl: string | null;
}

export interface PreparedWorktree {
  path: string;
  baseCommit: string;
  /** "clone": the branch lives in a clone and must be pushed to reach the project. */
  mode: "worktree" | "clone";
}

async function isDirectory(p: string): Promise<boolean> {
  return fs
    .stat(p)
    .then((s) => s.isDirectory())
    .catch(() => false);
}

export async function prepareWorktree(root: string, src: WorktreeSource, gitToken?: string): Promise<PreparedWorktree> {
  const dir = worktreeDirForRun(root, src.runId);
  await fs.mkdir(root, { recursive: true });

  if (await isDirectory(src.repoPath)) {
    const repo = await fs.realpath(src.repoPath);
    // Worktree bookkeeping (prune, branch -D, add) is not safe to interleave within a repository.
    return withMutex(`agentboard-worktree:${repo}`, async () => {
      // Left by an earlier attempt of this same run (a requeue after a lost claim).
      await removeStale(repo, dir, src.branch);
      try {
        const wt = await createWorktree({ repoPath: repo, baseBranch: src.baseBranch, branch: src.branch, dir });
        return { path: wt.path, baseCommit: wt.baseCommit, mode: "worktree" as const };
      } catch (err) {
        throw new RunFailure("worktree_failed", `could not create the worktree: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  if (src.remoteUrl) {
    await fs.rm(dir, { recursive: true, force: true });
    try {
      const clone = await cloneForRun({ url: src.remoteUrl, token: gitToken, dir, branch: src.baseBranch, newBranch: src.branch });
      return { path: clone.path, baseCommit: clone.baseCommit, mode: "clone" };
    } catch (err) {
      // cloneForRun already scrubbed the token from its errors.
      throw new RunFailure("clone_failed", `could not clone the project's remote: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  throw new RunFailure(
    "repo_unavailable",
    `the project's repository ${src.repoPath} does not exist on this runner and the project has no remote to clone`,
  );
}

async function removeStale(repo: string, dir: string, branch: string): Promise<void> {
  const exists = await fs
    .lstat(dir)
    .then(() => true)
    .catch(() => false);
  if (!exists) return;
  try {
    await removeWorktree({ repoPath: repo, dir, branch, deleteBranch: true });
  } catch {
    // Not a worktree of this repository (a clone from another mode); the path is ours
    // by construction (<worktrees>/<run id>), so it can go.
  }
  await fs.rm(path.resolve(dir), { recursive: true, force: true });
}
