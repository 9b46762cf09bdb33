import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_AUTHOR, identityConfig, type GitIdentity } from "./changes.js";
import { git, gitTry, splitNul } from "./exec.js";
import { holdsRepoLock, withRepoLock, type RepositoryLock, type RepositoryLockOptions } from "./lock.js";
import { assertSafeRefName } from "./names.js";
import { objectDirsOf } from "./run-clone.js";
import { branchCommit, listGitWorktrees } from "./worktree.js";

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

/**
 * The merge of `theirs` into `ours` as git would make it, computed in the object store
 * alone (`git merge-tree --write-tree`, git 2.38+): no worktree, no index, nothing checked
 * out. The merged tree, or the conflicting paths (nothing is written but loose objects).
 */
export async function mergeTrees(repoPath: string, ours: string, theirs: string): Promise<{ tree: string } | { conflicts: string[] }> {
  const res = await gitTry(repoPath, ["merge-tree", "--write-tree", "--no-messages", "--name-only", "-z", ours, theirs]);
  // Exit 1 means conflicts when a tree came out; with no output it is an error (bad revision).
  const out = res.ok ? res.stdout : res.error.exitCode === 1 ? res.error.stdout : "";
  const [tree = "", ...files] = splitNul(out);
  if (!/^[0-9a-f]{40,64}$/.test(tree)) throw res.ok ? new Error(`git merge-tree printed no tree: ${out.slice(0, 200)}`) : res.error;
  if (res.ok) return { tree };
  return { conflicts: [...new Set(files.filter((f) => f !== ""))] };
}

/** A commit of `tree` with `parents`, by `identity` (`-c user.*`); its id. */
export async function commitTree(repoPath: string, tree: string, parents: readonly string[], message: string, identity: readonly string[]): Promise<string> {
  const out = await git(repoPath, ["commit-tree", ...parents.flatMap((p) => ["-p", p]), "-m", message, tree], { config: identity });
  return out.trim();
}

/** Commit ids of several branches in one process (`for-each-ref`); a missing branch maps to null. */
export async function branchCommits(repoPath: string, branches: readonly string[]): Promise<(string | null)[]> {
  for (const b of branches) assertSafeRefName(b);
  const refs = branches.map((b) => `refs/heads/${b}`);
  const out = await git(repoPath, ["for-each-ref", "--format=%(objectname) %(objecttype) %(refname)", ...refs]);
  const found = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [oid = "", type = "", ref = ""] = line.split(" ", 3);
    if (type === "commit") found.set(ref, oid);
  }
  // A pattern also matches refs below it (refs/heads/main/x); only exact names count.
  return refs.map((r) => found.get(r) ?? null);
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

export interface MergeRunBranchInput {
  repoPath: string;
  baseBranch: string;
  branch: string;
  message?: string;
  author?: GitIdentity;
  /** The repository's lock, already held by the caller (the API's merge pipeline): no lock is taken then. */
  heldLock?: RepositoryLock;
  /** How to wait for the repository's lock when it is not held already. */
  lock?: RepositoryLockOptions;
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

/** Runs `fn` under the repository's lock, or directly when the caller already holds it. */
export function underRepoLock<T>(
  repoPath: string,
  held: RepositoryLock | undefined,
  opts: RepositoryLockOptions | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (held !== undefined) {
    if (!holdsRepoLock(held, repoPath)) throw new Error(`the lock passed is not a held lock of ${repoPath}`);
    return fn();
  }
  return withRepoLock(repoPath, fn, opts);
}

/** Test seams: kept out of the public input type (index.ts exports mergeRunBranch only). */
export interface MergeSeams {
  /** Called between making the merge commit and moving the base ref. */
  beforeRefUpdate?: (attempt: number) => Promise<void>;
}

/**
 * `git merge --no-ff <branch>` into `baseBranch` without touching any checked-out tree:
 * the merged tree is computed in the object store (`merge-tree --write-tree`), committed
 * with both parents (`commit-tree`), and the base ref moves with a compare-and-swap
 * (`update-ref <ref> <new> <old>`). A worktree with the base checked out is brought up to
 * date only if it was clean. Throws MergeConflictError (base untouched) on conflicts.
 */
export function mergeRunBranch(input: MergeRunBranchInput): Promise<MergeRunBranchResult> {
  return mergeRunBranchWith(input, {});
}

export async function mergeRunBranchWith(input: MergeRunBranchInput, seams: MergeSeams): Promise<MergeRunBranchResult> {
  const { repoPath, baseBranch, branch } = input;
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  if (baseBranch === branch) throw new Error("cannot merge a branch into itself");
  const message = input.message?.trim() ? input.message : `Merge branch '${branch}' into ${baseBranch}`;
  const config = identityConfig(input.author ?? DEFAULT_AUTHOR);

  return underRepoLock(repoPath, input.heldLock, input.lock, async () => {
    // One retry: the lock excludes agentboard's own writers, so a moved base means a
    // human pushed/committed meanwhile, which is rare enough that twice in a row is news.
    const maxAttempts = 2;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const result = await attemptMerge(
        repoPath,
        baseBranch,
        branch,
        message,
        config,
        () => (seams.beforeRefUpdate ? seams.beforeRefUpdate(attempt) : Promise.resolve()),
        input.expect,
      );
      if (result !== "base-moved") return { ...result, attempts: attempt };
    }
    throw new BaseBranchMovedError(baseBranch, maxAttempts);
  });
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
  const [baseBefore, tip] = await branchCommits(repoPath, [baseBranch, branch]);
  if (baseBefore === null || baseBefore === undefined) throw new MissingBranchError(baseBranch);
  if (tip === null || tip === undefined) throw new MissingBranchError(branch);
  // The ref update below is a compare-and-swap on baseBefore, so the merged base is this one.
  if (expect && (expect.baseCommit !== baseBefore || expect.branchCommit !== tip)) {
    throw new VerifiedStateMovedError(expect, { baseCommit: baseBefore, branchCommit: tip });
  }

  if (await isAncestor(repoPath, tip, baseBefore)) {
    return { status: "already-merged", mergeCommit: baseBefore, baseBefore, branchCommit: tip, parents: [], checkout: null };
  }

  const merge = await mergeTrees(repoPath, baseBefore, tip);
  if ("conflicts" in merge) throw new MergeConflictError(merge.conflicts, baseBranch, branch, baseBefore, tip);
  const merged = await commitTree(repoPath, merge.tree, [baseBefore, tip], message, identity);

  await beforeRefUpdate();

  // Cleanliness must be judged before the ref moves: afterwards every merged change
  // would show up as a (reverse) modification in that checkout.
  const holder = (await listGitWorktrees(repoPath)).find((w) => w.branch === baseBranch && !w.bare && !w.prunable);
  const holderClean = holder ? await trackedFilesClean(holder.path) : false;

  const cas = await gitTry(repoPath, ["update-ref", "-m", `agentboard: merge ${branch}`, `refs/heads/${baseBranch}`, merged, baseBefore]);
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
      checkout = rt.ok ? { path: holder.path, updated: true } : { path: holder.path, updated: false, reason: "failed", error: rt.error.message };
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
    const res = await gitTry(temp.dir, ["merge", "--no-verify", "--no-edit", "-m", `Verify ${branch} merged into ${baseBranch}`, baseCommit], { config });
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
