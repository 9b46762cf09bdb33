import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { previewMerge } from "./merge-preview.js";
import { makeRepo, sh, write, type Fixture } from "./test-helpers.js";

let fx: Fixture;
beforeEach(() => {
  fx = makeRepo();
});
afterEach(() => fx.cleanup());

function commit(branch: string, files: Record<string, string>, message: string) {
  sh(fx.repo, "checkout", "-q", branch);
  for (const [rel, content] of Object.entries(files)) write(fx.repo, rel, content);
  sh(fx.repo, "add", "-A");
  sh(fx.repo, "commit", "-q", "-m", message);
  sh(fx.repo, "checkout", "-q", "main");
}

const refs = () => sh(fx.repo, "for-each-ref", "--format=%(refname) %(objectname)");

describe("previewMerge", () => {
  it("says the base has not moved when the branch contains it", async () => {
    sh(fx.repo, "branch", "feature");
    commit("feature", { "f.txt": "f\n" }, "feature work");
    const p = await previewMerge({ repoPath: fx.repo, baseBranch: "main", branch: "feature" });
    expect(p).toMatchObject({ behind: 0, conflicts: [], branchCommit: sh(fx.repo, "rev-parse", "feature"), baseCommit: sh(fx.repo, "rev-parse", "main") });
  });

  it("counts the base's new commits and finds no conflict when they touch other files", async () => {
    sh(fx.repo, "branch", "feature");
    commit("feature", { "f.txt": "f\n" }, "feature work");
    commit("main", { "g.txt": "g\n" }, "main 1");
    commit("main", { "h.txt": "h\n" }, "main 2");
    const p = await previewMerge({ repoPath: fx.repo, baseBranch: "main", branch: "feature" });
    expect(p).toMatchObject({ behind: 2, conflicts: [] });
  });

  it("lists the files that would conflict, and changes no ref, checkout or index", async () => {
    sh(fx.repo, "branch", "feature");
    commit("feature", { "src/app.ts": "export const a = 10;\nexport const b = 2;\n", "README.md": "# feature\n", "only-feature.txt": "x\n" }, "feature work");
    commit("main", { "src/app.ts": "export const a = 20;\nexport const b = 2;\n", "README.md": "# main\n" }, "main work");
    const before = refs();
    const p = await previewMerge({ repoPath: fx.repo, baseBranch: "main", branch: "feature" });
    expect(p).toMatchObject({ behind: 1, conflicts: ["README.md", "src/app.ts"] });
    expect(refs()).toBe(before);
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");
  });

  it("is null for a branch that does not exist", async () => {
    expect(await previewMerge({ repoPath: fx.repo, baseBranch: "main", branch: "gone" })).toBeNull();
  });
});
