import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunClone } from "./run-clone.js";
import { makeRepo, type Fixture } from "./test-helpers.js";
import { createWorktree } from "./worktree.js";

let fx: Fixture;
let scratch: string;
beforeEach(() => {
  fx = makeRepo();
  scratch = mkdtempSync(path.join(tmpdir(), "agentboard-missing-base-"));
});
afterEach(() => {
  fx.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** A project whose path is no repository is told so, not that its base branch is missing. */
describe("a run's checkout of a repository that cannot give its base branch", () => {
  it("names a directory that is not a git repository as such", async () => {
    const plain = path.join(scratch, "plain");
    mkdirSync(plain);
    const dir = path.join(scratch, "wt");
    await expect(createWorktree({ repoPath: plain, baseBranch: "main", branch: "agentboard/x", dir })).rejects.toThrow(`${plain} is not a git repository`);
    await expect(createRunClone({ repoPath: plain, baseBranch: "main", branch: "agentboard/x", dir })).rejects.toThrow(`${plain} is not a git repository`);
  });

  it("names a path that does not exist, and a branch the repository lacks", async () => {
    const gone = path.join(scratch, "gone");
    const dir = path.join(scratch, "wt");
    await expect(createRunClone({ repoPath: gone, baseBranch: "main", branch: "agentboard/x", dir })).rejects.toThrow(
      `the repository ${gone} does not exist on this machine`,
    );
    await expect(createWorktree({ repoPath: fx.repo, baseBranch: "trunk", branch: "agentboard/x", dir })).rejects.toThrow(
      `base branch trunk does not exist in ${fx.repo}`,
    );
  });
});
