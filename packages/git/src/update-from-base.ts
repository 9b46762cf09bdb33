/**
 * `run.updateFromBase`: the base branch merged into a run's branch, without touching any
 * checkout — the merge is made in a temporary detached worktree and the branch ref moves
 * by compare-and-swap (a branch that moved meanwhile is not overwritten). With conflicts
 * nothing changes and the conflicting files are listed.
 */
import { DEFAULT_AUTHOR, identityConfig, type GitIdentity } from "./changes.js";
import { git, gitTry } from "./exec.js";
import { addTempWorktree, conflictedFiles, isAncestor, MergeConflictError, MissingBranchError, withRepoLock } from "./merge.js";
import { assertSafeRefName } from "./names.js";
import { branchCommit } from "./worktree.js";

export interface UpdateFromBaseInput {
  repoPath: string;
  baseBranch: string;
  branch: string;
  message?: string;
  author?: GitIdentity;
}

export interface UpdateFromBaseResult {
  /** "up-to-date": the base was already in the branch; nothing changed. */
  status: "updated" | "up-to-date";
  /** The branch's tip after the call. */
  head: string;
  branchBefore: string;
  baseCommit: string;
}

export class BranchMovedError extends Error {
  override readonly name = "BranchMovedError";
  constructor(readonly branch: string) {
    super(`branch ${branch} moved while the base was being merged into it; try again`);
  }
}

export async function updateBranchFromBase(input: UpdateFromBaseInput): Promise<UpdateFromBaseResult> {
  const { repoPath, baseBranch, branch } = input;
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  const message = input.message?.trim() ? input.message : `Merge branch '${baseBranch}' into ${branch}`;
  return withRepoLock(repoPath, async () => {
    const base = await branchCommit(repoPath, baseBranch);
    if (base === null) throw new MissingBranchError(baseBranch);
    const tip = await branchCommit(repoPath, branch);
    if (tip === null) throw new MissingBranchError(branch);
    if (await isAncestor(repoPath, base, tip)) return { status: "up-to-date", head: tip, branchBefore: tip, baseCommit: base };
    const temp = await addTempWorktree(repoPath, tip, "update");
    let merged: string;
    try {
      const res = await gitTry(temp.dir, ["merge", "--no-ff", "--no-verify", "--no-edit", "-m", message, base], { config: identityConfig(input.author ?? DEFAULT_AUTHOR) });
      if (!res.ok) {
        const files = await conflictedFiles(temp.dir).catch(() => []);
        await gitTry(temp.dir, ["merge", "--abort"]);
        if (files.length > 0) throw new MergeConflictError(files, branch, baseBranch, tip, base);
        throw res.error;
      }
      merged = (await git(temp.dir, ["rev-parse", "HEAD"])).trim();
    } finally {
      await temp.remove();
    }
    const cas = await gitTry(repoPath, ["update-ref", "-m", `agentboard: update ${branch} from ${baseBranch}`, `refs/heads/${branch}`, merged, tip]);
    if (!cas.ok) {
      if ((await branchCommit(repoPath, branch)) !== tip) throw new BranchMovedError(branch);
      throw cas.error;
    }
    return { status: "updated", head: merged, branchBefore: tip, baseCommit: base };
  });
}
