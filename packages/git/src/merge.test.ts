import { spawn } from "node:child_process";
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAll } from "./changes.js";
import { LockTimeoutError, withFileLock } from "./lock.js";
import { BaseBranchMovedError, MERGE_LOCK_FILE, MergeConflictError, mergeBaseIntoBranchForVerification, mergeRunBranch } from "./merge.js";
import { worktreeDirForRun } from "./names.js";
import { makeRepo, sh, write, type Fixture } from "./test-helpers.js";
import { createWorktree, removeWorktree } from "./worktree.js";

let fx: Fixture;
beforeEach(() => {
  fx = makeRepo();
});
afterEach(() => fx.cleanup());

const admin = { name: "Admin", email: "admin@example.com" };

/** A run branch with `files` committed on top of main, its worktree already removed (as after a run). */
async function runBranch(runId: string, files: Record<string, string>): Promise<string> {
  const branch = `agentboard/${runId}`;
  const dir = worktreeDirForRun(fx.worktrees, runId);
  await createWorktree({ repoPath: fx.repo, baseBranch: "main", branch, dir });
  for (const [rel, content] of Object.entries(files)) write(dir, rel, content);
  await commitAll({ dir, message: `work of ${runId}`, author: { name: "Agent", email: "agent@example.com" } });
  await removeWorktree({ repoPath: fx.repo, dir, deleteBranch: false });
  return branch;
}

function worktreeCount(): number {
  return sh(fx.repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")).length;
}

describe("mergeRunBranch", () => {
  it("creates a --no-ff merge on base and updates the clean main checkout", async () => {
    const branch = await runBranch("r1", { "feature.txt": "feature\n", "src/app.ts": "export const a = 10;\nexport const b = 2;\n" });
    const before = sh(fx.repo, "rev-parse", "main");
    const tip = sh(fx.repo, "rev-parse", branch);

    const res = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, message: "Merge run r1", author: admin });

    expect(res).toMatchObject({ status: "merged", baseBefore: before, branchCommit: tip, parents: [before, tip], attempts: 1 });
    expect(res.checkout).toEqual({ path: fx.repo, updated: true });
    expect(sh(fx.repo, "rev-parse", "main")).toBe(res.mergeCommit);
    expect(sh(fx.repo, "log", "-1", "--format=%P|%s|%an|%cn", "main")).toBe(`${before} ${tip}|Merge run r1|Admin|Admin`);
    // The user's checkout shows the merged files and is not left looking dirty.
    expect(readFileSync(path.join(fx.repo, "feature.txt"), "utf8")).toBe("feature\n");
    expect(readFileSync(path.join(fx.repo, "src/app.ts"), "utf8")).toContain("a = 10");
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");
    expect(worktreeCount()).toBe(1);
    expect(existsSync(path.join(sh(fx.repo, "rev-parse", "--git-common-dir"), MERGE_LOCK_FILE))).toBe(false);

    // Merging again is a no-op, not a second merge commit.
    const again = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin });
    expect(again).toMatchObject({ status: "already-merged", mergeCommit: res.mergeCommit, parents: [] });
  });

  it("moves the ref but leaves a dirty main checkout's files alone, and says so", async () => {
    const branch = await runBranch("r2", { "feature.txt": "feature\n" });
    write(fx.repo, "README.md", "user's unsaved edit\n");
    const res = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin });
    expect(res.status).toBe("merged");
    expect(res.checkout).toEqual({ path: fx.repo, updated: false, reason: "dirty" });
    expect(sh(fx.repo, "rev-parse", "main")).toBe(res.mergeCommit);
    expect(readFileSync(path.join(fx.repo, "README.md"), "utf8")).toBe("user's unsaved edit\n");
    expect(existsSync(path.join(fx.repo, "feature.txt"))).toBe(false);
  });

  it("works when the base branch is not checked out anywhere", async () => {
    sh(fx.repo, "branch", "develop", "main");
    const branch = await runBranch("r3", { "feature.txt": "x\n" });
    const res = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "develop", branch, author: admin });
    expect(res.checkout).toBeNull();
    expect(sh(fx.repo, "rev-parse", "develop^2")).toBe(res.branchCommit);
    expect(existsSync(path.join(fx.repo, "feature.txt"))).toBe(false); // main untouched
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");
  });

  it("reports conflicts with their files and leaves base and worktrees untouched", async () => {
    const branch = await runBranch("r4", { "src/app.ts": "export const a = 'run';\n", "only-run.txt": "r\n" });
    write(fx.repo, "src/app.ts", "export const a = 'main';\n");
    sh(fx.repo, "commit", "-q", "-am", "conflicting change on main");
    const before = sh(fx.repo, "rev-parse", "main");

    const err = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeConflictError);
    const conflict = err as MergeConflictError;
    expect(conflict.files).toEqual(["src/app.ts"]);
    expect(conflict.baseCommit).toBe(before);
    expect(sh(fx.repo, "rev-parse", "main")).toBe(before);
    // No temporary worktree is left registered (the machine's temp dir is shared with
    // other tests merging at the same time, so it is not scanned here).
    expect(worktreeCount()).toBe(1);
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");
  });

  it("serializes concurrent merges into one repository so both land", async () => {
    const b1 = await runBranch("c1", { "one.txt": "1\n" });
    const b2 = await runBranch("c2", { "two.txt": "2\n" });
    const start = sh(fx.repo, "rev-parse", "main");
    const [r1, r2] = await Promise.all([
      mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch: b1, author: admin }),
      mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch: b2, author: admin }),
    ]);
    expect([r1.status, r2.status]).toEqual(["merged", "merged"]);
    const firstParents = sh(fx.repo, "rev-list", "--first-parent", `${start}..main`).split("\n");
    expect(firstParents).toHaveLength(2);
    expect(sh(fx.repo, "rev-list", "--merges", "--count", `${start}..main`)).toBe("2");
    // Linear first-parent history: the second merge sits on the first.
    expect(sh(fx.repo, "rev-parse", "main^1")).toBe(firstParents[1]);
    expect(sh(fx.repo, "rev-parse", `${firstParents[1]}^1`)).toBe(start);
    expect(existsSync(path.join(fx.repo, "one.txt")) && existsSync(path.join(fx.repo, "two.txt"))).toBe(true);
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");
    expect(worktreeCount()).toBe(1);
  });

  it("retries once when the base moves during the merge, then gives up safely", async () => {
    const branch = await runBranch("m1", { "m.txt": "m\n" });
    const userCommit = (n: number) => {
      write(fx.repo, `user-${n}.txt`, `${n}\n`);
      sh(fx.repo, "add", "-A");
      sh(fx.repo, "commit", "-q", "-m", `user commit ${n}`);
      return sh(fx.repo, "rev-parse", "main");
    };
    let moved = "";
    const res = await mergeRunBranch({
      repoPath: fx.repo,
      baseBranch: "main",
      branch,
      author: admin,
      beforeRefUpdate: async (attempt) => {
        if (attempt === 1) moved = userCommit(1);
      },
    });
    expect(res.attempts).toBe(2);
    expect(res.baseBefore).toBe(moved);
    expect(sh(fx.repo, "rev-parse", "main^1")).toBe(moved);
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");

    const branch2 = await runBranch("m2", { "m2.txt": "m\n" });
    let last = "";
    const err = await mergeRunBranch({
      repoPath: fx.repo,
      baseBranch: "main",
      branch: branch2,
      author: admin,
      beforeRefUpdate: async (attempt) => {
        last = userCommit(10 + attempt);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaseBranchMovedError);
    // The user's commits are all there and no merge commit was forced on top of them.
    expect(sh(fx.repo, "rev-parse", "main")).toBe(last);
    expect(sh(fx.repo, "log", "-1", "--format=%s", "main")).toBe("user commit 12");
    expect(worktreeCount()).toBe(1);
  });

  it("waits for another process holding the repository's merge lock", async () => {
    const branch = await runBranch("p1", { "p.txt": "p\n" });
    const lockPath = path.join(fx.repo, ".git", MERGE_LOCK_FILE);
    // Another process takes the lock file the way withFileLock does, holds it, then releases.
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("fs"), os = require("os");
         fs.writeFileSync(${JSON.stringify(lockPath)}, JSON.stringify({ pid: process.pid, hostname: os.hostname(), token: "other", acquiredAt: new Date().toISOString() }), { flag: "wx" });
         console.log("locked");
         setTimeout(() => { fs.rmSync(${JSON.stringify(lockPath)}); }, 700);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => holder.once("exit", resolve));
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    const t0 = Date.now();
    const res = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin });
    expect(res.status).toBe("merged");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    await exited;
  });
});

describe("withFileLock", () => {
  it("excludes overlapping holders, reclaims stale locks and times out", async () => {
    const lockPath = path.join(fx.root, "x.lock");
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        withFileLock(lockPath, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 30));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(existsSync(lockPath)).toBe(false);

    // A dead holder on this host is detected by pid.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.once("exit", r));
    writeFileSync(lockPath, JSON.stringify({ pid: dead.pid, hostname: os.hostname(), token: "t", acquiredAt: "x" }));
    expect(await withFileLock(lockPath, async () => "got it", { timeoutMs: 2000 })).toBe("got it");

    // A holder on another host is judged by the file's age.
    writeFileSync(lockPath, JSON.stringify({ pid: 1, hostname: "elsewhere", token: "t", acquiredAt: "x" }));
    await expect(withFileLock(lockPath, async () => "no", { timeoutMs: 300, staleMs: 60_000 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(lockPath, old, old);
    expect(await withFileLock(lockPath, async () => "stale reclaimed", { timeoutMs: 2000, staleMs: 60_000 })).toBe(
      "stale reclaimed",
    );
  });
});

describe("mergeBaseIntoBranchForVerification", () => {
  it("gives a throwaway tree with the base merged into the run branch", async () => {
    const branch = await runBranch("v1", { "run.txt": "run\n" });
    write(fx.repo, "base-only.txt", "base\n");
    sh(fx.repo, "add", "-A");
    sh(fx.repo, "commit", "-q", "-m", "base moves on");
    const mainBefore = sh(fx.repo, "rev-parse", "main");
    const branchBefore = sh(fx.repo, "rev-parse", branch);

    const v = await mergeBaseIntoBranchForVerification({ repoPath: fx.repo, baseBranch: "main", branch });
    try {
      expect(v.conflict).toBeUndefined();
      expect(existsSync(path.join(v.dir, "run.txt")) && existsSync(path.join(v.dir, "base-only.txt"))).toBe(true);
      expect(sh(v.dir, "rev-parse", "HEAD^1")).toBe(branchBefore);
      expect(sh(v.dir, "rev-parse", "HEAD^2")).toBe(mainBefore);
    } finally {
      await v.cleanup();
      await v.cleanup();
    }
    expect(existsSync(v.dir)).toBe(false);
    expect(worktreeCount()).toBe(1);
    expect(sh(fx.repo, "rev-parse", "main")).toBe(mainBefore);
    expect(sh(fx.repo, "rev-parse", branch)).toBe(branchBefore);
  });

  it("reports conflicting files", async () => {
    const branch = await runBranch("v2", { "README.md": "run version\n" });
    write(fx.repo, "README.md", "main version\n");
    sh(fx.repo, "commit", "-q", "-am", "main edit");
    const v = await mergeBaseIntoBranchForVerification({ repoPath: fx.repo, baseBranch: "main", branch });
    try {
      expect(v.conflict).toEqual(["README.md"]);
      expect(v.head).toBe(sh(fx.repo, "rev-parse", branch));
    } finally {
      await v.cleanup();
    }
    expect(worktreeCount()).toBe(1);
  });
});
