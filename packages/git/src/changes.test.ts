import { createHash } from "node:crypto";
import { chmodSync, existsSync, rmSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAll, diffAgainstBase, status } from "./changes.js";
import { worktreeDirForRun } from "./names.js";
import { makeRepo, sh, shStatus, write, type Fixture } from "./test-helpers.js";
import { createWorktree } from "./worktree.js";

let fx: Fixture;
let dir: string;
let baseCommit: string;
const author = { name: "Agent Smith", email: "agent@example.com" };

beforeEach(async () => {
  fx = makeRepo();
  write(fx.repo, "docs/old-name.md", "line one\nline two\nline three\nline four\nline five\n");
  write(fx.repo, "delete-me.txt", "bye\nbye\n");
  sh(fx.repo, "add", "-A");
  sh(fx.repo, "commit", "-q", "-m", "more files");
  dir = worktreeDirForRun(fx.worktrees, "run-c");
  ({ baseCommit } = await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "agentboard/c", dir }));
});
afterEach(() => fx.cleanup());

describe("output collection", () => {
  it("returns null when nothing changed", async () => {
    expect(await commitAll({ dir, message: "nothing", author })).toBeNull();
    // Ignored files are not changes either.
    write(dir, "debug.log", "noise\n");
    write(dir, "node_modules/pkg/index.js", "noise\n");
    expect(await commitAll({ dir, message: "nothing", author })).toBeNull();
  });

  it("commits added, modified, deleted and renamed files and diffs them against the base", async () => {
    write(dir, "src/app.ts", "export const a = 1;\nexport const b = 3;\nexport const c = 4;\n");
    write(dir, "src/new.ts", "one\ntwo\nthree\n");
    write(dir, "debug.log", "ignored\n");
    rmSync(`${dir}/delete-me.txt`);
    sh(dir, "mv", "docs/old-name.md", "docs/new-name.md");
    write(dir, "st.txt", "pending\n");

    const before = await status(dir);
    expect(before.clean).toBe(false);
    expect(before.branch).toBe("agentboard/c");
    expect(before.untracked).toEqual(expect.arrayContaining(["src/new.ts", "st.txt"]));
    expect(before.untracked).not.toContain("debug.log");
    expect(before.unstaged).toEqual(expect.arrayContaining(["src/app.ts", "delete-me.txt"]));
    expect(before.staged).toEqual(["docs/new-name.md"]);

    const sha = await commitAll({ dir, message: "Agent work", author });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(sh(dir, "log", "-1", "--format=%an <%ae>|%cn|%s|%P")).toBe(`Agent Smith <agent@example.com>|Agent Smith|Agent work|${baseCommit}`);
    expect(sh(dir, "ls-files", "debug.log")).toBe("");
    // debug.log is ignored, so the tree is clean after the commit.
    expect(await status(dir)).toMatchObject({ clean: true, entries: [], head: sha });

    const d = await diffAgainstBase({ dir, baseCommit });
    const byPath = Object.fromEntries(d.files.map((f) => [f.path, f]));
    expect(byPath["src/new.ts"]).toMatchObject({ status: "added", additions: 3, deletions: 0 });
    expect(byPath["src/app.ts"]).toMatchObject({ status: "modified", additions: 2, deletions: 1 });
    expect(byPath["delete-me.txt"]).toMatchObject({ status: "deleted", additions: 0, deletions: 2 });
    expect(byPath["docs/new-name.md"]).toMatchObject({ status: "renamed", oldPath: "docs/old-name.md", additions: 0, deletions: 0 });
    expect(byPath["st.txt"]).toMatchObject({ status: "added", additions: 1 });
    expect(d.stat).toEqual({ files: 5, additions: 6, deletions: 3 });
    expect(d.truncated).toBe(false);
    expect(d.diff).toContain("+export const c = 4;");
    expect(d.diff).toContain("rename from docs/old-name.md");
    expect(d.hash).toBe(createHash("sha256").update(d.diff).digest("hex"));
    expect(d.headCommit).toBe(sha);
    expect(d.baseCommit).toBe(baseCommit);

    // Stable: the same change set hashes the same, and a bounded copy keeps the full-diff hash.
    const again = await diffAgainstBase({ dir, baseCommit });
    expect(again.hash).toBe(d.hash);
    const small = await diffAgainstBase({ dir, baseCommit, maxBytes: 200 });
    expect(small.truncated).toBe(true);
    expect(small.totalBytes).toBe(Buffer.byteLength(d.diff));
    expect(Buffer.byteLength(small.diff)).toBeLessThanOrEqual(200);
    expect(small.diff.endsWith("\n")).toBe(true);
    expect(d.diff.startsWith(small.diff)).toBe(true);
    expect(small.hash).toBe(d.hash);
    expect(small.stat).toEqual(d.stat);
  });

  it("reports binary files and refuses unsafe revisions", async () => {
    write(dir, "img.bin", "\u0000\u0001\u0002binary\u0000");
    await commitAll({ dir, message: "bin", author });
    const d = await diffAgainstBase({ dir, baseCommit });
    expect(d.files).toEqual([{ path: "img.bin", status: "added", additions: 0, deletions: 0, binary: true }]);
    await expect(diffAgainstBase({ dir, baseCommit: "--output=/tmp/pwned" })).rejects.toThrow(/unsafe/);
  });

  it("skips the repository's hooks, which linked worktrees share", async () => {
    const marker = `${fx.root}/post-commit-ran`;
    write(fx.repo, ".git/hooks/pre-commit", "#!/bin/sh\nexit 1\n");
    write(fx.repo, ".git/hooks/post-commit", `#!/bin/sh\ntouch '${marker}'\n`);
    chmodSync(`${fx.repo}/.git/hooks/pre-commit`, 0o755);
    chmodSync(`${fx.repo}/.git/hooks/post-commit`, 0o755);
    write(dir, "x.txt", "x\n");
    // Control: a plain commit in the worktree is blocked by the shared hook.
    sh(dir, "add", "-A");
    expect(shStatus(dir, "commit", "-q", "-m", "blocked")).not.toBe(0);
    expect(await commitAll({ dir, message: "with hook present", author })).toMatch(/^[0-9a-f]{40}$/);
    expect(existsSync(marker)).toBe(false);
  });

  it("rejects identities that would corrupt the commit header", async () => {
    write(dir, "x.txt", "x\n");
    await expect(commitAll({ dir, message: "m", author: { name: "Evil\nName", email: "e@x" } })).rejects.toThrow(/unsafe/);
    await expect(commitAll({ dir, message: "m", author: { name: "n", email: "<e@x>" } })).rejects.toThrow(/unsafe/);
  });
});
