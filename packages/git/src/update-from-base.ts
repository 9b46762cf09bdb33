/**
 * `run.updateFromBase`: the base branch merged into a run's branch, without touching any
 * checkout — the merge is computed in the object store (`merge-tree --write-tree`), committed
 * with `commit-tree`, and the branch ref moves by compare-and-swap (a branch that moved meanwhile is not overwritten). With conflicts
 * nothing changes and the conflicting files are listed.
 */
import { DEFAULT_AUTHOR, identityConfig, type GitIdentity } from "./changes.js";
import { gitTry } from "./exec.js";
import type { RepositoryLock } from "./lock.js";
import { branchCommits, commitTree, isAncestor, MergeConflictError, mergeTrees, MissingBranchError, underRepoLock } from "./merge.js";
import { assertSafeRefName } from "./names.js";
import { branchCommit } from "./worktree.js";

export interface UpdateFromBaseInput {
  repoPath: string;
  baseBranch: string;
  branch: string;
  message?: string;
  author?: GitIdentity;
  /** The repository's lock, already held by the caller: no lock is taken then. */
  heldLock?: RepositoryLock;
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
  const identity = identityConfig(input.author ?? DEFAULT_AUTHOR);
  return underRepoLock(repoPath, input.heldLock, undefined, async () => {
    const [base, tip] = await branchCommits(repoPath, [baseBranch, branch]);
    if (base === null || base === undefined) throw new MissingBranchError(baseBranch);
    if (tip === null || tip === undefined) throw new MissingBranchError(branch);
    if (await isAncestor(repoPath, base, tip)) return { status: "up-to-date", head: tip, branchBefore: tip, baseCommit: base };
    const merge = await mergeTrees(repoPath, tip, base);
    if ("conflicts" in merge) throw new MergeConflictError(merge.conflicts, branch, baseBranch, tip, base);
    const merged = await commitTree(repoPath, merge.tree, [tip, base], message, identity);
    const cas = await gitTry(repoPath, ["update-ref", "-m", `agentboard: update ${branch} from ${baseBranch}`, `refs/heads/${branch}`, merged, tip]);
    if (!cas.ok) {
      if ((await branchCommit(repoPath, branch)) !== tip) throw new BranchMovedError(branch);
      throw cas.error;
    }
    return { status: "updated", head: merged, branchBefore: tip, baseCommit: base };
  });
}
