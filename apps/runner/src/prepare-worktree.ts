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
import { cloneForRun, createRunClone, removeWorktree, withMutex, worktreeDirForRun } from "@agentboard/git";
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
    try {
      const clone = await createRunClone({ repoPath: repo, baseBranch: src.baseBranch, branch: src.branch, dir });
      return { path: clone.path, baseCommit: clone.baseCommit, mode: "worktree", sourceRepo: repo, objectDirs: clone.objectDirs, ownClone: null };
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
      const clone = await createRunClone({ repoPath: own, baseBranch: src.baseBranch, branch: src.branch, dir });
      return { path: clone.path, baseCommit: clone.baseCommit, mode: "clone", sourceRepo: own, objectDirs: clone.objectDirs, ownClone: own };
    } catch (err) {
      throw new RunFailure("worktree_failed", `could not create the run's checkout: ${message(err)}`);
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
    // A linked worktree made by an earlier version of the runner.
    await removeWorktree({ repoPath: repo, dir, branch, deleteBranch: false });
  } catch {
    // A private clone: the path is ours by construction (<worktrees>/<run id>), so it can go.
  }
  await fs.rm(path.resolve(dir), { recursive: true, force: true });
}
