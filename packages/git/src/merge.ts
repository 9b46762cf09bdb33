import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_AUTHOR, identityConfig, type GitIdentity } from "./changes.js";
import { git, gitTry, splitNul } from "./exec.js";
import { withFileLock, withMutex, type FileLockOptions } from "./lock.js";
import { assertSafeRefName } from "./names.js";
import { objectDirsOf } from "./run-clone.js";
import { branchCommit, listWorktrees } from "./worktree.js";

/** The run branch does not merge cleanly; nothing was changed. */
export class MergeConflictError extends Error {
  override readonly name = "MergeConflictError";
  constructor(
    readonly files: string[],
    readonly baseBranch: string,
    readonly branch: string,
    readonly baseCommit: string,
    readonly branchCommit: string,
  ) {
    super(`merging ${branch} into ${baseBranch} conflicts in ${files.length} file(s): ${files.slice(0, 20).join(", ")}`);
  }
}

/** The base branch kept moving under us (commits from outside agentboard) on every attempt. */
export class BaseBranchMovedError extends Error {
  override readonly name = "BaseBranchMovedError";
  constructor(
    readonly baseBranch: string,
    readonly attempts: number,
  ) {
    super(`base branch ${baseBranch} moved during the merge (${attempts} attempts); retry`);
  }
}

/** The base or the branch is no longer at the commits a merge was told to expect (they were verified). */
export class VerifiedStateMovedError extends Error {
  override readonly name = "VerifiedStateMovedError";
  constructor(
    readonly expected: { baseCommit: string; branchCommit: string },
    readonly actual: { baseCommit: string; branchCommit: string },
  ) {
    super(`the base or the branch moved since it was verified (base ${actual.baseCommit.slice(0, 12)}, branch ${actual.branchCommit.slice(0, 12)})`);
  }
}

/** The run branch or the base branch is missing. */
export class MissingBranchError extends Error {
  override readonly name = "MissingBranchError";
  constructor(readonly branch: string) {
    super(`branch ${branch} does not exist`);
  }
}

/** Absolute, symlink-resolved git common dir: the same key for every worktree of one repository. */
export async function repositoryKey(repoPath: string): Promise<string> {
  const out = await git(repoPath, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  return fs.realpath(out.trim());
}

export const MERGE_LOCK_FILE = "agentboard-merge.lock";

/**
 * Serializes ref-moving work on one repository. The in-process mutex orders callers in
 * this process; the O_EXCL lock file in the git dir orders separate processes (several
 * API servers on one machine, or a CLI next to the server). Both are needed: the file
 * lock alone would make same-process callers spin on polling.
 */
export async function withRepoLock<T>(repoPath: string, fn: () => Promise<T>, opts?: FileLockOptions): Promise<T> {
  const key = await repositoryKey(repoPath);
  return withMutex(key, () => withFileLock(path.join(key, MERGE_LOCK_FILE), fn, opts));
}

export async function conflictedFiles(dir: string): Promise<string[]> {
  const out = await git(dir, ["diff", "--name-only", "--diff-filter=U", "-z"]);
  return [...new Set(splitNul(out))];
}

export async function isAncestor(repoPath: string, ancestor: string, descendant: string): Promise<boolean> {
  const res = await gitTry(repoPath, ["merge-base", "--is-ancestor", ancestor, descendant]);
  if (res.ok) return true;
  if (res.error.exitCode === 1) return false;
  throw res.error;
}

export interface TempWorktree {
  dir: string;
  remove: () => Promise<void>;
}

export async function addTempWorktree(repoPath: string, commit: string, purpose: string): Promise<TempWorktree> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), `agentboard-${purpose}-`));
  const dir = path.join(parent, "wt");
  let removal: Promise<void> | null = null;
  const remove = () => {
    removal ??= (async () => {
      await gitTry(repoPath, ["worktree", "remove", "--force", dir]);
      await fs.rm(parent, { recursive: true, force: true });
      // Covers the case where remove failed half-way and only the directory went away.
      await gitTry(repoPath, ["worktree", "prune"]);
    })();
    return removal;
  };
  try {
    await git(repoPath, ["worktree", "add", "--detach", dir, commit]);
  } catch (err) {
    await remove();
    throw err;
  }
  return { dir, remove };
}

export interface MergeRunBranchInput {
  repoPath: string;
  baseBranch: string;
  branch: string;
  message?: string;
  author?: GitIdentity;
  lock?: FileLockOptions;
  /**
   * Called between making the merge commit and moving the base ref. Exists so tests can
   * move the base underneath a merge deterministically; production callers leave it out.
   */
  beforeRefUpdate?: (attempt: number) => Promise<void>;
  /**
   * Merge only these commits (the ones re-verification ran on): a base or branch found
   * elsewhere throws VerifiedStateMovedError and changes nothing.
   */
  expect?: { baseCommit: string; branchCommit: string };
}

export interface CheckoutUpdate {
  /** The worktree that has the base branch checked out. */
  path: string;
  /** Its files now match the new base tip. */
  updated: boolean;
  /** Why not: it had local changes (left untouched), or the update itself failed. */
  reason?: "dirty" | "failed";
  error?: string;
}

export interface MergeRunBranchResult {
  /** "already-merged": the branch tip was already contained in the base; nothing changed. */
  status: "merged" | "already-merged";
  /** The base branch's tip after the call (the merge commit when status is "merged"). */
  mergeCommit: string;
  baseBefore: string;
  branchCommit: string;
  /** [baseBefore, branchCommit] for a merge; empty when already merged. */
  parents: string[];
  attempts: number;
  /** Set when some worktree has the base branch checked out. */
  checkout: CheckoutUpdate | null;
}

/**
 * `git merge --no-ff <branch>` into `baseBranch` without touching any checked-out tree:
 * the merge commit is made in a temporary detached worktree, then the base ref moves with
 * a compare-and-swap. A worktree with the base checked out is brought up to date only if
 * it was clean. Throws MergeConflictError (base untouched) on conflicts.
 */
export async function mergeRunBranch(input: MergeRunBranchInput): Promise<MergeRunBranchResult> {
  const { repoPath, baseBranch, branch } = input;
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  if (baseBranch === branch) throw new Error("cannot merge a branch into itself");
  const message = input.message?.trim() ? input.message : `Merge branch '${branch}' into ${baseBranch}`;
  const config = identityConfig(input.author ?? DEFAULT_AUTHOR);

  return withRepoLock(
    repoPath,
    async () => {
      // One retry: the lock excludes agentboard's own writers, so a moved base means a
      // human pushed/committed meanwhile, which is rare enough that twice in a row is news.
      const maxAttempts = 2;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const result = await attemptMerge(repoPath, baseBranch, branch, message, config, () =>
          input.beforeRefUpdate ? input.beforeRefUpdate(attempt) : Promise.resolve(),
          input.expect,
        );
        if (result !== "base-moved") return { ...result, attempts: attempt };
      }
      throw new BaseBranchMovedError(baseBranch, maxAttempts);
    },
    input.lock,
  );
}

async function attemptMerge(
  repoPath: string,
  baseBranch: string,
  branch: string,
  message: string,
  identity: string[],
  beforeRefUpdate: () => Promise<void>,
  expect?: { baseCommit: string; branchCommit: string },
): Promise<Omit<MergeRunBranchResult, "attempts"> | "base-moved"> {
  const baseBefore = await branchCommit(repoPath, baseBranch);
  if (baseBefore === null) throw new MissingBranchError(baseBranch);
  const tip = await branchCommit(repoPath, branch);
  if (tip === null) throw new MissingBranchError(branch);
  // The ref update below is a compare-and-swap on baseBefore, so the merged base is this one.
  if (expect && (expect.baseCommit !== baseBefore || expect.branchCommit !== tip)) {
    throw new VerifiedStateMovedError(expect, { baseCommit: baseBefore, branchCommit: tip });
  }

  if (await isAncestor(repoPath, tip, baseBefore)) {
    return { status: "already-merged", mergeCommit: baseBefore, baseBefore, branchCommit: tip, parents: [], checkout: null };
  }

  const temp = await addTempWorktree(repoPath, baseBefore, "merge");
  let merged: string;
  try {
    const res = await gitTry(temp.dir, ["merge", "--no-ff", "--no-verify", "--no-edit", "-m", message, tip], {
      config: identity,
    });
    if (!res.ok) {
      const files = await conflictedFiles(temp.dir).catch(() => []);
      await gitTry(temp.dir, ["merge", "--abort"]);
      if (files.length > 0) throw new MergeConflictError(files, baseBranch, branch, baseBefore, tip);
      throw res.error;
    }
    merged = (await git(temp.dir, ["rev-parse", "HEAD"])).trim();
  } finally {
    await temp.remove();
  }

  await beforeRefUpdate();

  // Cleanliness must be judged before the ref moves: afterwards every merged change
  // would show up as a (reverse) modification in that checkout.
  const holder = (await listWorktrees(repoPath)).find((w) => w.branch === baseBranch && !w.bare && !w.prunable);
  const holderClean = holder ? await trackedFilesClean(holder.path) : false;

  const cas = await gitTry(repoPath, [
    "update-ref",
    "-m",
    `agentboard: merge ${branch}`,
    `refs/heads/${baseBranch}`,
    merged,
    baseBefore,
  ]);
  if (!cas.ok) {
    if ((await branchCommit(repoPath, baseBranch)) !== baseBefore) return "base-moved";
    throw cas.error;
  }

  let checkout: CheckoutUpdate | null = null;
  if (holder) {
    if (!holderClean) {
      checkout = { path: holder.path, updated: false, reason: "dirty" };
    } else {
      // Stat info may be stale (files touched but unchanged); read-tree would then refuse.
      await gitTry(holder.path, ["update-index", "-q", "--refresh"]);
      // Two-tree merge old→new: updates exactly the files the merge changed, and refuses
      // (rather than overwrites) if the user modified one of them since the check above.
      const rt = await gitTry(holder.path, ["read-tree", "-m", "-u", baseBefore, merged]);
      checkout = rt.ok
        ? { path: holder.path, updated: true }
        : { path: holder.path, updated: false, reason: "failed", error: rt.error.message };
    }
  }
  return { status: "merged", mergeCommit: merged, baseBefore, branchCommit: tip, parents: [baseBefore, tip], checkout };
}

async function trackedFilesClean(dir: string): Promise<boolean> {
  const res = await gitTry(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=no"]);
  return res.ok && res.stdout.length === 0;
}

export interface VerificationInput {
  repoPath: string;
  baseBranch: string;
  branch: string;
  author?: GitIdentity;
}

export interface VerificationWorktree {
  /**
   * A private clone (`git clone --shared`), detached at the run branch with the base merged
   * in (or, on conflict, at the run branch). It owns its `.git`: the checks that run in it
   * (in a sandbox) can use git, and no git command of the server ever runs in it afterwards.
   */
  dir: string;
  /** The repository's object directories the clone reads through alternates (bind them read-only). */
  objectDirs: string[];
  baseCommit: string;
  branchCommit: string;
  /** HEAD of `dir`. */
  head: string;
  /** Conflicting files when the base does not merge cleanly; the merge has been aborted. */
  conflict?: string[];
  /** Removes the clone (its directory only: no git command runs in it); idempotent. Always call it, conflict or not. */
  cleanup: () => Promise<void>;
}

/** A throwaway private clone of `repoPath` detached at `commit`; `remove` deletes its directory. */
async function addTempClone(repoPath: string, branch: string, commit: string, purpose: string): Promise<TempWorktree & { objectDirs: string[] }> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), `agentboard-${purpose}-`));
  const dir = path.join(parent, "wt");
  let removal: Promise<void> | null = null;
  const remove = () => (removal ??= fs.rm(parent, { recursive: true, force: true }));
  try {
    await git(parent, ["clone", "--quiet", "--shared", "--no-checkout", "--single-branch", "--branch", branch, "--no-tags", "--", repoPath, dir]);
    await git(dir, ["checkout", "--quiet", "--detach", commit]);
    return { dir, remove, objectDirs: await objectDirsOf(repoPath) };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * A throwaway private clone holding what the base would look like after merging the run:
 * checks re-run there verify the integrated state, not the branch in isolation. The merge
 * is made before any check runs; after that, nothing but removing the directory touches
 * it, so whatever a check leaves in its `.git` is never read outside its sandbox.
 */
export async function mergeBaseIntoBranchForVerification(input: VerificationInput): Promise<VerificationWorktree> {
  const { repoPath, baseBranch, branch } = input;
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  const config = identityConfig(input.author ?? DEFAULT_AUTHOR);
  const baseCommit = await branchCommit(repoPath, baseBranch);
  if (baseCommit === null) throw new MissingBranchError(baseBranch);
  const tip = await branchCommit(repoPath, branch);
  if (tip === null) throw new MissingBranchError(branch);

  const temp = await addTempClone(repoPath, branch, tip, "verify");
  try {
    const res = await gitTry(
      temp.dir,
      ["merge", "--no-verify", "--no-edit", "-m", `Verify ${branch} merged into ${baseBranch}`, baseCommit],
      { config },
    );
    let conflict: string[] | undefined;
    if (!res.ok) {
      const files = await conflictedFiles(temp.dir).catch(() => []);
      await gitTry(temp.dir, ["merge", "--abort"]);
      if (files.length === 0) throw res.error;
      conflict = files;
    }
    const head = (await git(temp.dir, ["rev-parse", "HEAD"])).trim();
    return {
      dir: temp.dir,
      objectDirs: temp.objectDirs,
      baseCommit,
      branchCommit: tip,
      head,
      ...(conflict ? { conflict } : {}),
      cleanup: temp.remove,
    };
  } catch (err) {
    await temp.remove();
    throw err;
  }
}
