/**
 * What merging a run's branch into its base would do, without touching a ref, a checkout
 * or the index: `git merge-tree --write-tree` (git ≥ 2.38) computes the merge in the object
 * store only. The merge panel uses it to warn that the base has moved since the branch
 * forked (or was last updated) and to list the files a merge would conflict in, before
 * anyone presses the button.
 */
import { gitTry, splitNul } from "./exec.js";
import { assertSafeRefName } from "./names.js";
import { branchCommit } from "./worktree.js";

export interface MergePreview {
  baseCommit: string;
  branchCommit: string;
  /** Commits on the base that the branch does not contain (0: the base has not moved). */
  behind: number;
  /** Files that conflict when the branch and the base are merged (empty: a clean merge). */
  conflicts: string[];
}

/** null when either branch does not exist. */
export async function previewMerge(input: { repoPath: string; baseBranch: string; branch: string }): Promise<MergePreview | null> {
  const { repoPath, baseBranch, branch } = input;
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  const [base, tip] = await Promise.all([branchCommit(repoPath, baseBranch), branchCommit(repoPath, branch)]);
  if (base === null || tip === null) return null;
  const count = await gitTry(repoPath, ["rev-list", "--count", `${tip}..${base}`]);
  if (!count.ok) throw count.error;
  const behind = Number.parseInt(count.stdout.trim(), 10);
  if (behind === 0) return { baseCommit: base, branchCommit: tip, behind, conflicts: [] };
  const tree = await gitTry(repoPath, ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", base, tip]);
  if (tree.ok) return { baseCommit: base, branchCommit: tip, behind, conflicts: [] };
  // Exit 1 is "the merge has conflicts": the tree id, then the conflicted paths.
  if (tree.error.exitCode !== 1) throw tree.error;
  const [, ...files] = splitNul(tree.error.stdout ?? "");
  return { baseCommit: base, branchCommit: tip, behind, conflicts: [...new Set(files)].sort() };
}
