import { existsSync, promises as fs, type Dirent } from "node:fs";
import path from "node:path";
import { git, gitClient, gitTry, viaClient } from "./exec.js";
import { assertInside, assertSafeRefName } from "./names.js";
import { repositoryTopLevel } from "./repository.js";

/** The branch to (re)create is checked out in some worktree, so deleting it would lose that checkout's branch. */
export class BranchCheckedOutError extends Error {
  override readonly name = "BranchCheckedOutError";
  constructor(
    readonly branch: string,
    readonly worktreePath: string,
  ) {
    super(`branch ${branch} is checked out in ${worktreePath}`);
  }
}

export interface WorktreeInfo {
  path: string;
  /** null for a bare repository entry or an unborn branch. */
  head: string | null;
  /** Short branch name, null when detached or bare. */
  branch: string | null;
  detached: boolean;
  bare: boolean;
  locked: boolean;
  /** The directory is gone; `git worktree prune` would drop the entry. */
  prunable: boolean;
}

/** `git worktree list --porcelain -z`; the first entry is the main worktree (or the bare repo). */
export async function listGitWorktrees(repoPath: string): Promise<WorktreeInfo[]> {
  const out = await git(repoPath, ["worktree", "list", "--porcelain", "-z"]);
  const result: WorktreeInfo[] = [];
  let current: WorktreeInfo | null = null;
  // Records are attribute lines separated by NUL, with an empty field between records.
  for (const field of out.split("\0")) {
    if (field === "") {
      if (current) result.push(current);
      current = null;
      continue;
    }
    const space = field.indexOf(" ");
    const key = space === -1 ? field : field.slice(0, space);
    const value = space === -1 ? "" : field.slice(space + 1);
    if (key === "worktree") {
      if (current) result.push(current);
      current = { path: value, head: null, branch: null, detached: false, bare: false, locked: false, prunable: false };
    } else if (current) {
      if (key === "HEAD") current.head = /^0+$/.test(value) ? null : value;
      else if (key === "branch") current.branch = value.replace(/^refs\/heads\//, "");
      else if (key === "detached") current.detached = true;
      else if (key === "bare") current.bare = true;
      else if (key === "locked") current.locked = true;
      else if (key === "prunable") current.prunable = true;
    }
  }
  if (current) result.push(current);
  return result;
}

/** `git worktree prune`: forgets registrations whose directory is gone. */
export async function pruneWorktrees(repoPath: string): Promise<void> {
  await git(repoPath, ["worktree", "prune"]);
}

/**
 * Deletes `refs/heads/<branch>` (forced: a run's branch is usually not merged into HEAD).
 * False when there was no such branch. A branch checked out in a worktree is refused by git.
 */
export async function deleteBranch(repoPath: string, branch: string): Promise<boolean> {
  assertSafeRefName(branch);
  if ((await branchCommit(repoPath, branch)) === null) return false;
  const args = ["branch", "-D", branch];
  await viaClient(args, [], () => gitClient(repoPath, {}, () => args).deleteLocalBranch(branch, true));
  return true;
}

/**
 * Why a repository has no commit for its base branch, said plainly: the path is missing, is
 * not a git repository at all, or lacks the branch. (Asking a plain directory for its branch
 * would otherwise read as a missing branch.)
 */
export async function missingBase(repoPath: string, baseBranch: string): Promise<Error> {
  if (!existsSync(repoPath)) return new Error(`the repository ${repoPath} does not exist on this machine`);
  if ((await repositoryTopLevel(repoPath)) === null) return new Error(`${repoPath} is not a git repository`);
  return new Error(`base branch ${baseBranch} does not exist in ${repoPath}`);
}

/** Commit id of `refs/heads/<branch>`, or null when the branch does not exist. */
export async function branchCommit(repoPath: string, branch: string): Promise<string | null> {
  assertSafeRefName(branch);
  const res = await gitTry(repoPath, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
  return res.ok ? res.stdout.trim() : null;
}

export interface CreateWorktreeInput {
  repoPath: string;
  baseBranch: string;
  branch: string;
  dir: string;
}

export interface CreatedWorktree {
  path: string;
  branch: string;
  /** The base commit the branch starts from; diffs and merges are computed against it. */
  baseCommit: string;
}

/**
 * `git worktree add -b <branch> <dir> <base>`. A branch left over from an earlier attempt
 * of the same run is deleted first, unless some worktree still has it checked out.
 */
export async function createWorktree({ repoPath, baseBranch, branch, dir }: CreateWorktreeInput): Promise<CreatedWorktree> {
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  const target = path.resolve(dir);

  const baseCommit = await branchCommit(repoPath, baseBranch);
  if (baseCommit === null) throw await missingBase(repoPath, baseBranch);

  // Drop registrations whose directories are gone, so they do not pin the old branch.
  await git(repoPath, ["worktree", "prune"]);
  if ((await branchCommit(repoPath, branch)) !== null) {
    for (const wt of await listGitWorktrees(repoPath)) {
      if (wt.branch === branch) throw new BranchCheckedOutError(branch, wt.path);
    }
    await git(repoPath, ["branch", "-D", branch]);
  }

  await fs.mkdir(path.dirname(target), { recursive: true });
  // Base commit rather than branch name: the returned baseCommit is exactly what was checked out.
  await git(repoPath, ["worktree", "add", "-b", branch, target, baseCommit]);
  return { path: target, branch, baseCommit };
}

export interface RemoveWorktreeInput {
  repoPath: string;
  dir: string;
  branch?: string;
  deleteBranch: boolean;
}

export interface RemovedWorktree {
  /** The worktree (registration and directory) was removed by this call. */
  removed: boolean;
  branchDeleted: boolean;
}

/** `git worktree remove --force` + `git branch -D`; idempotent, tolerates a directory already gone. */
export async function removeWorktree({ repoPath, dir, branch, deleteBranch: alsoBranch }: RemoveWorktreeInput): Promise<RemovedWorktree> {
  if (branch !== undefined) assertSafeRefName(branch);
  const target = path.resolve(dir);
  let removed = false;

  const exists = await fs
    .lstat(target)
    .then(() => true)
    .catch(() => false);
  if (exists) {
    const res = await gitTry(repoPath, ["worktree", "remove", "--force", target]);
    if (res.ok) removed = true;
    else {
      // A directory that is not (or no longer) a registered worktree is left alone: it
      // might not be ours. Only a vanished directory is an expected failure.
      const stillThere = await fs
        .lstat(target)
        .then(() => true)
        .catch(() => false);
      if (stillThere) throw res.error;
    }
  }
  await git(repoPath, ["worktree", "prune"]);

  let branchDeleted = false;
  if (alsoBranch && branch !== undefined) branchDeleted = await deleteBranch(repoPath, branch);
  return { removed, branchDeleted };
}

export interface SweepInput {
  /** Directory whose direct children are run worktrees. */
  root: string;
  olderThanMs: number;
  /** Return true for directories that belong to live runs. */
  isKept: (dir: string) => boolean | Promise<boolean>;
  now?: number;
}

export interface SweepResult {
  removed: string[];
  kept: string[];
  failed: { path: string; error: string }[];
}

/**
 * Removes direct children of `root` whose mtime is older than `olderThanMs` and that the
 * caller does not keep. Git worktrees are unregistered from their repository first so
 * the repository does not keep a dangling entry (and their branch stays checked-out-free).
 * Branches are left: a finished run's branch may still be waiting to be merged.
 */
export async function sweepWorktreeDirs({ root, olderThanMs, isKept, now = Date.now() }: SweepInput): Promise<SweepResult> {
  const result: SweepResult = { removed: [], kept: [], failed: [] };
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    if (typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT") return result;
    throw err;
  }
  for (const entry of entries) {
    // Symlinks are skipped, never followed: the sweep must not delete outside root.
    if (!entry.isDirectory()) continue;
    const dir = assertInside(root, path.join(root, entry.name));
    try {
      const st = await fs.lstat(dir);
      if (now - st.mtimeMs < olderThanMs || (await isKept(dir))) {
        result.kept.push(dir);
        continue;
      }
      await unregisterWorktree(dir);
      await fs.rm(dir, { recursive: true, force: true });
      result.removed.push(dir);
    } catch (err) {
      result.failed.push({ path: dir, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}

async function unregisterWorktree(dir: string): Promise<void> {
  const dotGit = await fs.lstat(path.join(dir, ".git")).catch(() => null);
  // Linked worktrees have a `.git` file; a directory is a standalone clone with nothing to unregister.
  if (!dotGit?.isFile()) return;
  const common = await gitTry(dir, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  if (!common.ok) return;
  const repoGitDir = common.stdout.trim();
  const res = await gitTry(repoGitDir, ["worktree", "remove", "--force", dir]);
  if (!res.ok) await gitTry(repoGitDir, ["worktree", "prune"]);
}

/**
 * Apparent size in bytes of everything under `root`, without following symlinks.
 * Files vanishing during the walk (an agent still working) are ignored.
 */
export async function dirSize(root: string): Promise<number> {
  let total = 0;
  const pending: string[] = [root];
  const seenInodes = new Set<string>();
  const CONCURRENCY = 32;
  while (pending.length > 0) {
    const batch = pending.splice(0, CONCURRENCY);
    await Promise.all(
      batch.map(async (p) => {
        const st = await fs.lstat(p, { bigint: false }).catch(() => null);
        if (!st) return;
        if (st.isDirectory()) {
          const names = await fs.readdir(p).catch(() => [] as string[]);
          for (const name of names) pending.push(path.join(p, name));
          return;
        }
        // Hard links (git's object store after a local clone) are counted once.
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          if (seenInodes.has(key)) return;
          seenInodes.add(key);
        }
        total += st.size;
      }),
    );
  }
  return total;
}

/**
 * The bytes of the files a checkout of `commit` holds, read from its tree (`git ls-tree -l`)
 * rather than by walking a directory: one git process instead of a stat per file. Run in
 * a repository whose configuration is trusted (a run's source repository, not its
 * checkout). Undefined when git cannot tell (not an object id, unknown commit).
 */
export async function treeBytes(repoPath: string, commit: string): Promise<number | undefined> {
  // Only an object id is ever passed here; refuse anything else rather than hand it to git.
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return undefined;
  const res = await gitTry(repoPath, ["ls-tree", "-r", "-l", "-z", "--full-tree", commit]);
  if (!res.ok) return undefined;
  let total = 0;
  for (const record of res.stdout.split("\0")) {
    // "<mode> <type> <object> <size>\t<path>"; size is "-" for submodules.
    const size = Number(record.slice(0, record.indexOf("\t")).trim().split(/\s+/)[3]);
    if (Number.isFinite(size)) total += size;
  }
  return total;
}
