import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAll } from "./changes.js";
import { LockTimeoutError, REPOSITORY_LOCK_NAME, withRepoLock } from "./lock.js";
import { BaseBranchMovedError, MergeConflictError, mergeBaseIntoBranchForVerification, mergeRunBranch, mergeRunBranchWith } from "./merge.js";
import { updateBranchFromBase } from "./update-from-base.js";
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
  return sh(fx.repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree ")).length;
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
    expect(existsSync(path.join(fx.repo, ".git", REPOSITORY_LOCK_NAME))).toBe(false);

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
    // A person committing is not under agentboard's lock: the seam stands for that moment.
    const res = await mergeRunBranchWith(
      { repoPath: fx.repo, baseBranch: "main", branch, author: admin },
      {
        beforeRefUpdate: async (attempt) => {
          if (attempt === 1) moved = userCommit(1);
        },
      },
    );
    expect(res.attempts).toBe(2);
    expect(res.baseBefore).toBe(moved);
    expect(sh(fx.repo, "rev-parse", "main^1")).toBe(moved);
    expect(sh(fx.repo, "status", "--porcelain")).toBe("");

    const branch2 = await runBranch("m2", { "m2.txt": "m\n" });
    let last = "";
    const err = await mergeRunBranchWith(
      { repoPath: fx.repo, baseBranch: "main", branch: branch2, author: admin },
      {
        beforeRefUpdate: async (attempt) => {
          last = userCommit(10 + attempt);
        },
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaseBranchMovedError);
    // The user's commits are all there and no merge commit was forced on top of them.
    expect(sh(fx.repo, "rev-parse", "main")).toBe(last);
    expect(sh(fx.repo, "log", "-1", "--format=%s", "main")).toBe("user commit 12");
    expect(worktreeCount()).toBe(1);
  });

  it("waits for another process holding the repository's lock", async () => {
    const branch = await runBranch("p1", { "p.txt": "p\n" });
    const gitDir = path.join(fx.repo, ".git");
    // Another process takes the lock the way withRepoLock does (proper-lockfile), holds it, then releases.
    const lib = createRequire(import.meta.url).resolve("proper-lockfile");
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const lockfile = require(${JSON.stringify(lib)});
         lockfile.lock(${JSON.stringify(gitDir)}, {
           lockfilePath: ${JSON.stringify(path.join(gitDir, REPOSITORY_LOCK_NAME))},
           realpath: false,
         }).then((release) => {
           console.log("locked");
           setTimeout(() => release(), 700);
         });`,
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

  it("takes no lock of its own under a held one, and refuses a lock that is not held", async () => {
    const branch = await runBranch("h1", { "h.txt": "h\n" });
    const res = await withRepoLock(fx.repo, (heldLock) =>
      // Would wait forever on its own lock if it took one here.
      mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin, heldLock, lock: { timeoutMs: 500 } }),
    );
    expect(res.status).toBe("merged");
    const stale = await withRepoLock(fx.repo, async (lock) => lock);
    expect(stale.held).toBe(false);
    await expect(mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin, heldLock: stale })).rejects.toThrow(/not a held lock/);
    const forged = { repoPath: fx.repo, key: path.join(fx.repo, ".git"), held: true };
    await expect(mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin, heldLock: forged })).rejects.toThrow(/not a held lock/);
  });

  it("makes the merge with no worktree and a handful of git processes", async () => {
    const branch = await runBranch("n1", { "n.txt": "n\n" });
    write(fx.repo, "base.txt", "base moved on\n");
    sh(fx.repo, "add", "-A");
    sh(fx.repo, "commit", "-q", "-m", "base work");
    // A `git` on PATH that logs each call, then runs the real one.
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    const bin = mkdtempSync(path.join(os.tmpdir(), "agentboard-git-log-"));
    const log = path.join(bin, "calls.log");
    writeFileSync(path.join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
    chmodSync(path.join(bin, "git"), 0o755);
    writeFileSync(log, "");
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ""}`;
    try {
      const res = await mergeRunBranch({ repoPath: fx.repo, baseBranch: "main", branch, author: admin });
      expect(res.checkout).toEqual({ path: fx.repo, updated: true });
    } finally {
      process.env.PATH = savedPath;
    }
    const calls = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== "");
    rmSync(bin, { recursive: true, force: true });
    expect(calls.some((c) => /\bworktree add\b|\bmerge --no-ff\b/.test(c))).toBe(false);
    expect(calls.filter((c) => c.includes("--git-common-dir"))).toHaveLength(1);
    expect(calls.length).toBeLessThanOrEqual(10);
    expect(readFileSync(path.join(fx.repo, "n.txt"), "utf8")).toBe("n\n");
  });
});

describe("updateBranchFromBase", () => {
  it("merges the base into the branch in the object store, or lists the conflicts and changes nothing", async () => {
    const branch = await runBranch("u1", { "run.txt": "run\n" });
    write(fx.repo, "base.txt", "base\n");
    sh(fx.repo, "add", "-A");
    sh(fx.repo, "commit", "-q", "-m", "base moves on");
    const base = sh(fx.repo, "rev-parse", "main");
    const tip = sh(fx.repo, "rev-parse", branch);
    const res = await updateBranchFromBase({ repoPath: fx.repo, baseBranch: "main", branch, author: admin });
    expect(res).toMatchObject({ status: "updated", branchBefore: tip, baseCommit: base });
    expect(sh(fx.repo, "log", "-1", "--format=%P|%an", branch)).toBe(`${tip} ${base}|Admin`);
    expect(sh(fx.repo, "show", `${branch}:base.txt`)).toBe("base");
    expect(await updateBranchFromBase({ repoPath: fx.repo, baseBranch: "main", branch })).toMatchObject({ status: "up-to-date", head: res.head });

    const b2 = await runBranch("u2", { "README.md": "run version\n" });
    write(fx.repo, "README.md", "main version\n");
    sh(fx.repo, "commit", "-q", "-am", "main edit");
    const tip2 = sh(fx.repo, "rev-parse", b2);
    const err = await updateBranchFromBase({ repoPath: fx.repo, baseBranch: "main", branch: b2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeConflictError);
    expect((err as MergeConflictError).files).toEqual(["README.md"]);
    expect(sh(fx.repo, "rev-parse", b2)).toBe(tip2);
    expect(worktreeCount()).toBe(1);
  });
});

describe("withRepoLock", () => {
  it("excludes overlapping holders, takes over a stale lock and times out on a live one", async () => {
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        withRepoLock(fx.repo, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 30));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    const lockDir = path.join(fx.repo, ".git", REPOSITORY_LOCK_NAME);
    expect(existsSync(lockDir)).toBe(false);

    // Left by a holder that is still refreshing it (fresh mtime): waited for, then given up on.
    mkdirSync(lockDir);
    await expect(withRepoLock(fx.repo, async () => "no", { timeoutMs: 300, staleMs: 60_000 })).rejects.toBeInstanceOf(LockTimeoutError);
    // Left by a holder that crashed (not refreshed for longer than staleMs): taken over.
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(lockDir, old, old);
    expect(await withRepoLock(fx.repo, async () => "stale taken over", { timeoutMs: 2000, staleMs: 60_000 })).toBe("stale taken over");
    expect(existsSync(lockDir)).toBe(false);
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
