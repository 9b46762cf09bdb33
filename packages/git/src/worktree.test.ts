import { existsSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { branchNameForRun, worktreeDirForRun } from "./names.js";
import { makeRepo, sh, write, type Fixture } from "./test-helpers.js";
import { BranchCheckedOutError, createWorktree, dirSize, listGitWorktrees, removeWorktree, sweepWorktreeDirs, treeBytes } from "./worktree.js";

let fx: Fixture;
beforeEach(() => {
  fx = makeRepo();
});
afterEach(() => fx.cleanup());

describe("worktrees", () => {
  it("creates, lists and removes a run worktree", async () => {
    const branch = branchNameForRun({ runId: "run-1", title: "Add feature" });
    const dir = worktreeDirForRun(fx.worktrees, "run-1");
    const created = await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch, dir });
    expect(created).toEqual({ path: dir, branch, baseCommit: sh(fx.repo, "rev-parse", "main") });
    expect(existsSync(path.join(dir, "src/app.ts"))).toBe(true);
    expect(sh(dir, "symbolic-ref", "--short", "HEAD")).toBe(branch);

    const list = await listGitWorktrees(fx.repo);
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ path: fx.repo, branch: "main", detached: false, bare: false });
    expect(list[1]).toMatchObject({ path: dir, branch, head: created.baseCommit });

    const removed = await removeWorktree({ repoPath: fx.repo, dir, branch, deleteBranch: true });
    expect(removed).toEqual({ removed: true, branchDeleted: true });
    expect(existsSync(dir)).toBe(false);
    expect(await listGitWorktrees(fx.repo)).toHaveLength(1);
    expect(sh(fx.repo, "branch", "--list", branch)).toBe("");
  });

  it("removes a worktree even when it has uncommitted and untracked changes", async () => {
    const dir = worktreeDirForRun(fx.worktrees, "run-dirty");
    await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "agentboard/dirty", dir });
    write(dir, "README.md", "changed\n");
    write(dir, "new.txt", "new\n");
    const removed = await removeWorktree({ repoPath: fx.repo, dir, branch: "agentboard/dirty", deleteBranch: false });
    expect(removed).toEqual({ removed: true, branchDeleted: false });
    expect(sh(fx.repo, "branch", "--list", "agentboard/dirty")).toContain("agentboard/dirty");
  });

  it("re-creates a branch left over from an earlier attempt", async () => {
    const branch = "agentboard/retry-run2";
    const dir = worktreeDirForRun(fx.worktrees, "run-2");
    const first = await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch, dir });
    write(dir, "attempt1.txt", "x\n");
    sh(dir, "add", "-A");
    sh(dir, "commit", "-q", "-m", "attempt 1");
    // The first attempt's directory vanished (crash, tmp cleaner) but its branch and registration remain.
    rmSync(dir, { recursive: true, force: true });

    const second = await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch, dir });
    expect(second.baseCommit).toBe(first.baseCommit);
    expect(sh(fx.repo, "rev-parse", branch)).toBe(first.baseCommit);
    expect(existsSync(path.join(dir, "attempt1.txt"))).toBe(false);
  });

  it("refuses to delete a branch that is checked out elsewhere", async () => {
    const dir1 = worktreeDirForRun(fx.worktrees, "run-3");
    await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "agentboard/busy", dir: dir1 });
    const dir2 = worktreeDirForRun(fx.worktrees, "run-4");
    await expect(createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "agentboard/busy", dir: dir2 })).rejects.toBeInstanceOf(BranchCheckedOutError);
    await expect(createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "main", dir: dir2 })).rejects.toBeInstanceOf(BranchCheckedOutError);
  });

  it("rejects unsafe branch names before running git", async () => {
    const dir = worktreeDirForRun(fx.worktrees, "run-5");
    for (const branch of ["-rf", "a..b", "../x", "with space"]) {
      await expect(createWorktree({ repoPath: fx.repo, baseBranch: "main", branch, dir })).rejects.toThrow(/unsafe/);
    }
    await expect(createWorktree({ repoPath: fx.repo, baseBranch: "--upload-pack=x", branch: "ok", dir })).rejects.toThrow(/unsafe/);
  });

  it("tolerates a worktree directory that is already gone", async () => {
    const dir = worktreeDirForRun(fx.worktrees, "run-6");
    await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "agentboard/gone", dir });
    rmSync(dir, { recursive: true, force: true });
    const removed = await removeWorktree({ repoPath: fx.repo, dir, branch: "agentboard/gone", deleteBranch: true });
    expect(removed).toEqual({ removed: false, branchDeleted: true });
    expect(await listGitWorktrees(fx.repo)).toHaveLength(1);
    // And again: idempotent.
    expect(await removeWorktree({ repoPath: fx.repo, dir, branch: "agentboard/gone", deleteBranch: true })).toEqual({
      removed: false,
      branchDeleted: false,
    });
  });

  it("sweeps only old, unkept directories", async () => {
    const now = Date.now();
    const old = (now - 3 * 3600_000) / 1000;
    const oldRun = worktreeDirForRun(fx.worktrees, "old-run");
    await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch: "agentboard/old", dir: oldRun });
    const oldPlain = path.join(fx.worktrees, "old-plain");
    mkdirSync(oldPlain);
    write(oldPlain, "junk/file.txt", "junk");
    const oldKept = path.join(fx.worktrees, "old-kept");
    mkdirSync(oldKept);
    const fresh = path.join(fx.worktrees, "fresh");
    mkdirSync(fresh);
    // A symlink to something outside the root must never be followed or removed through.
    const outside = path.join(fx.root, "outside");
    mkdirSync(outside);
    writeFileSync(path.join(outside, "precious.txt"), "keep me");
    const link = path.join(fx.worktrees, "link");
    symlinkSync(outside, link);
    for (const d of [oldRun, oldPlain, oldKept]) utimesSync(d, old, old);

    const res = await sweepWorktreeDirs({
      root: fx.worktrees,
      olderThanMs: 3600_000,
      isKept: async (d) => d === oldKept,
      now,
    });
    expect(res.removed.sort()).toEqual([oldPlain, oldRun].sort());
    expect(res.kept.sort()).toEqual([fresh, oldKept].sort());
    expect(res.failed).toEqual([]);
    expect(existsSync(oldRun)).toBe(false);
    expect(existsSync(oldPlain)).toBe(false);
    expect(existsSync(path.join(outside, "precious.txt"))).toBe(true);
    // The swept worktree is unregistered too; its branch stays for a later merge.
    expect((await listGitWorktrees(fx.repo)).map((w) => w.path)).toEqual([fx.repo]);
    expect(sh(fx.repo, "rev-parse", "--verify", "agentboard/old")).toMatch(/^[0-9a-f]{40}$/);

    expect(await sweepWorktreeDirs({ root: path.join(fx.root, "nope"), olderThanMs: 1, isKept: () => false })).toEqual({
      removed: [],
      kept: [],
      failed: [],
    });
  });

  it("measures directory size without following symlinks", async () => {
    const d = path.join(fx.root, "sized");
    write(d, "a.bin", "x".repeat(1000));
    write(d, "nested/deeper/b.bin", "y".repeat(2345));
    const big = path.join(fx.root, "big");
    write(big, "huge.bin", "z".repeat(100_000));
    symlinkSync(big, path.join(d, "link-to-big"));
    const size = await dirSize(d);
    // Directories and the symlink contribute their own small sizes, never the 100 kB target.
    expect(size).toBeGreaterThanOrEqual(3345);
    expect(size).toBeLessThan(3345 + 64 * 1024);
    expect(await dirSize(path.join(fx.root, "missing"))).toBe(0);
  });
});

describe("treeBytes", () => {
  it("adds up the sizes of a commit's files from its tree, and refuses what is not an object id", async () => {
    const head = sh(fx.repo, "rev-parse", "main");
    // makeRepo's files: "# demo\n", the two-line src/app.ts and the .gitignore.
    const expected = ["# demo\n", "export const a = 1;\nexport const b = 2;\n", "node_modules/\n*.log\n"].reduce((n, s) => n + Buffer.byteLength(s), 0);
    expect(await treeBytes(fx.repo, head)).toBe(expected);
    expect(await treeBytes(fx.repo, "--output=/tmp/x")).toBeUndefined();
    expect(await treeBytes(fx.repo, "0".repeat(40))).toBeUndefined();
  });
});
