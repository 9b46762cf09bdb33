import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAll } from "./changes.js";
import { mergeRunBranch } from "./merge.js";
import { findMergeByTrailer } from "./merge-lookup.js";
import { worktreeDirForRun } from "./names.js";
import { makeRepo, sh, write, type Fixture } from "./test-helpers.js";
import { createWorktree, removeWorktree } from "./worktree.js";

let fx: Fixture;
beforeEach(() => {
  fx = makeRepo();
});
afterEach(() => fx.cleanup());

async function mergedRun(runId: string): Promise<{ commit: string; tip: string; before: string }> {
  const branch = `agentboard/${runId}`;
  const dir = worktreeDirForRun(fx.worktrees, runId);
  await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch, dir });
  write(dir, `${runId}.txt`, runId);
  await commitAll({ dir, message: `work of ${runId}` });
  await removeWorktree({ repoPath: fx.repo, dir, branch, deleteBranch: false });
  const tip = sh(fx.repo, "rev-parse", branch);
  const before = sh(fx.repo, "rev-parse", "main");
  const merged = await mergeRunBranch({
    repoPath: fx.repo,
    baseBranch: "main",
    branch,
    message: `Merge ${runId}\n\nAgentboard-Run: ${runId}\nMerged-by: admin`,
  });
  sh(fx.repo, "branch", "-D", branch);
  return { commit: merged.mergeCommit, tip, before };
}

describe("findMergeByTrailer", () => {
  it("finds a run's merge commit on the base by its trailer after the branch is gone, and only that run's", async () => {
    const long = await mergedRun("run12345");
    const short = await mergedRun("run123");
    // Someone else's later commit mentioning the run id in passing does not count.
    write(fx.repo, "notes.txt", "about run123\n");
    sh(fx.repo, "add", "-A");
    sh(fx.repo, "commit", "-q", "-m", "notes\n\nSee Agentboard-Run: run123 for why");

    expect(await findMergeByTrailer({ repoPath: fx.repo, baseBranch: "main", key: "Agentboard-Run", value: "run123" })).toEqual({
      commit: short.commit,
      parents: [short.before, short.tip],
    });
    expect(await findMergeByTrailer({ repoPath: fx.repo, baseBranch: "main", key: "Agentboard-Run", value: "run12345" })).toEqual({
      commit: long.commit,
      parents: [long.before, long.tip],
    });
    expect(await findMergeByTrailer({ repoPath: fx.repo, baseBranch: "main", key: "Agentboard-Run", value: "run1" })).toBeNull();
    expect(await findMergeByTrailer({ repoPath: fx.repo, baseBranch: "nope", key: "Agentboard-Run", value: "run123" })).toBeNull();
    await expect(findMergeByTrailer({ repoPath: fx.repo, baseBranch: "main", key: "Agentboard-Run", value: "a b" })).rejects.toThrow("unsupported trailer");
  });
});
