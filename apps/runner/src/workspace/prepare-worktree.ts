/**
 * The run's checkout: `<worktrees>/<run id>`, a private clone (objects shared through
 * alternates, nothing copied) on the run's branch, so the agent owns its whole `.git` and
 * nothing of the project's repository (see @agentboard/git's run-clone.ts). It is cloned
 * from the project's repository when that exists on this machine ("worktree" mode), else
 * from the runner's own bare clone of the project's remote ("clone" mode), which the run
 * branch is pushed from afterwards. Branch and directory come from the server's safe
 * branch name and the run id, validated by @agentboard/git; neither reaches a shell.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { cloneForRun, createRunClone, fetchBranch, forkPoint, isRunCloneOf, objectDirsOf, removeWorktree, withMutex, worktreeDirForRun } from "@agentboard/git";
import { RunFailure } from "../run/run-failure.js";

export interface WorktreeSource {
  runId: string;
  branch: string;
  baseBranch: string;
  repoPath: string;
  remoteUrl: string | null;
  /** A follow-up's start: the thread's branch tip. */
  startCommit?: string | null;
  /** A follow-up's parent: its checkout, when this runner still has it, is taken over. */
  parentRunId?: string | null;
}

export interface PreparedWorktree {
  path: string;
  /** What the run's diff is taken against: where the branch forked from the base. */
  baseCommit: string;
  /** What the checkout starts at: the base commit, or a follow-up's branch tip. */
  startCommit: string;
  /**
   * The parent's checkout, taken over as it was (its ignored files, caches, installed
   * dependencies kept): it must still be moved to `startCommit`, inside the sandbox.
   */
  reused: boolean;
  /** "clone": the branch goes to the runner's copy of the remote and must be pushed to reach the project. */
  mode: "worktree" | "clone";
  /** The repository the run branch is fetched into after the run. */
  sourceRepo: string;
  /** Object directories the checkout reads through alternates (bound read-only into the sandbox). */
  objectDirs: string[];
  /** The runner's bare clone of the remote ("clone" mode), removed with the run. */
  ownClone: string | null;
}

async function isDirectory(p: string): Promise<boolean> {
  return fs
    .stat(p)
    .then((s) => s.isDirectory())
    .catch(() => false);
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function prepareWorktree(root: string, stateDir: string, src: WorktreeSource, gitToken?: string): Promise<PreparedWorktree> {
  const dir = worktreeDirForRun(root, src.runId);
  await fs.mkdir(root, { recursive: true });

  if (await isDirectory(src.repoPath)) {
    const repo = await fs.realpath(src.repoPath);
    // Left by an earlier attempt of this same run (a requeue after a lost claim).
    await withMutex(`agentboard-worktree:${repo}`, () => removeStale(repo, dir, src.branch));
    const taken = await takeOverParent(root, repo, src, dir);
    if (taken) return taken;
    try {
      const clone = await createRunClone({ repoPath: repo, baseBranch: src.baseBranch, branch: src.branch, dir, startCommit: src.startCommit });
      return {
        path: clone.path,
        baseCommit: clone.baseCommit,
        startCommit: clone.startCommit,
        reused: false,
        mode: "worktree",
        sourceRepo: repo,
        objectDirs: clone.objectDirs,
        ownClone: null,
      };
    } catch (err) {
      throw new RunFailure("worktree_failed", `could not create the run's checkout: ${message(err)}`);
    }
  }

  if (src.remoteUrl) {
    await fs.rm(dir, { recursive: true, force: true });
    const own = path.join(stateDir, "remotes", `${src.runId}.git`);
    await fs.rm(own, { recursive: true, force: true });
    try {
      await cloneForRun({ url: src.remoteUrl, token: gitToken, dir: own, branch: src.baseBranch, bare: true });
    } catch (err) {
      // cloneForRun already scrubbed the token from its errors.
      throw new RunFailure("clone_failed", `could not clone the project's remote: ${message(err)}`);
    }
    try {
      if (src.startCommit) await fetchBranch({ dir: own, branch: src.branch, token: gitToken });
      const clone = await createRunClone({ repoPath: own, baseBranch: src.baseBranch, branch: src.branch, dir, startCommit: src.startCommit });
      return {
        path: clone.path,
        baseCommit: clone.baseCommit,
        startCommit: clone.startCommit,
        reused: false,
        mode: "clone",
        sourceRepo: own,
        objectDirs: clone.objectDirs,
        ownClone: own,
      };
    } catch (err) {
      throw new RunFailure("worktree_failed", `could not create the run's checkout: ${message(err)}`);
    }
  }

  throw new RunFailure("repo_unavailable", `the project's repository ${src.repoPath} does not exist on this runner and the project has no remote to clone`);
}

/**
 * The parent's checkout, when this runner still has it at `<worktrees>/<parent id>` and it
 * is a run clone of this repository: moved to the follow-up's directory (one rename).
 */
async function takeOverParent(root: string, repo: string, src: WorktreeSource, dir: string): Promise<PreparedWorktree | null> {
  if (!src.parentRunId || !src.startCommit) return null;
  let parentDir: string;
  try {
    parentDir = worktreeDirForRun(root, src.parentRunId);
  } catch {
    return null;
  }
  if (!(await isRunCloneOf(parentDir, repo, src.parentRunId))) return null;
  const fork = await forkPoint(repo, src.baseBranch, src.startCommit).catch(() => null);
  if (fork === null) return null;
  try {
    await fs.rename(parentDir, dir);
  } catch {
    return null;
  }
  return {
    path: path.resolve(dir),
    baseCommit: fork,
    startCommit: src.startCommit,
    reused: true,
    mode: "worktree",
    sourceRepo: repo,
    objectDirs: await objectDirsOf(repo),
    ownClone: null,
  };
}

async function removeStale(repo: string, dir: string, branch: string): Promise<void> {
  const exists = await fs
    .lstat(dir)
    .then(() => true)
    .catch(() => false);
  if (!exists) return;
  try {
    // A linked worktree made by an earlier version of the runner.
    await removeWorktree({ repoPath: repo, dir, branch, deleteBranch: false });
  } catch {
    // A private clone: the path is ours by construction (<worktrees>/<run id>), so it can go.
  }
  await fs.rm(path.resolve(dir), { recursive: true, force: true });
}
