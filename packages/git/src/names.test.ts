import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { assertInside, assertSafeRefName, assertSafeRevision, branchNameForRun, isSafeRefName, slugify, UnsafeNameError, worktreeDirForRun } from "./names.js";

function gitAcceptsBranch(name: string): boolean {
  try {
    execFileSync("git", ["check-ref-format", "--branch", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("safe names", () => {
  const hostile = [
    "../x",
    "-rf",
    "a..b",
    "has space",
    "tab\tname",
    "new\nline",
    "nul\0byte",
    "tilde~1",
    "caret^",
    "colon:x",
    "q?",
    "star*",
    "br[acket",
    "back\\slash",
    "trailing/",
    "/leading",
    "double//slash",
    "x.lock",
    "a/.hidden",
    "ends.",
    "@{-1}",
    "HEAD",
    "refs/heads/main",
    "",
    "x".repeat(201),
  ];

  it.each(hostile)("rejects %j as a ref name", (name) => {
    expect(isSafeRefName(name)).toBe(false);
    expect(() => assertSafeRefName(name)).toThrow(UnsafeNameError);
  });

  it.each(["main", "feature/login", "release/v1.2.3", "agentboard/fix-bug-abc123", "under_score"])("accepts %j, which git accepts too", (name) => {
    expect(isSafeRefName(name)).toBe(true);
    expect(gitAcceptsBranch(name)).toBe(true);
  });

  it("accepts object ids as revisions but not option-looking strings", () => {
    expect(() => assertSafeRevision("0123456789abcdef0123456789abcdef01234567")).not.toThrow();
    expect(() => assertSafeRevision("--output=/tmp/x")).toThrow(UnsafeNameError);
    expect(() => assertSafeRevision("HEAD~1")).toThrow(UnsafeNameError);
  });

  const titles = [
    "Fix the login bug",
    "../../etc/passwd",
    "-rf --force; rm -rf / `whoami` $(id)",
    "a..b~^:?*[\\ \t\n\u0000\u007f",
    "HEAD",
    "x.lock",
    "Corrige la sesión del usuario — ñandú",
    "🚀🔥💥",
    "",
    "   ",
    ".hidden.",
    "@{upstream}",
    "A".repeat(500),
    "refs/heads/main",
  ];

  it.each(titles)("makes a valid branch for hostile title %j", (title) => {
    const name = branchNameForRun({ runId: "clx9k2m3n0000abcd1234efgh", title });
    expect(name).toMatch(/^agentboard\/[a-z0-9-]+-[a-z0-9]+$/);
    expect(name.length).toBeLessThanOrEqual(11 + 40 + 1 + 12);
    expect(isSafeRefName(name)).toBe(true);
    expect(gitAcceptsBranch(name)).toBe(true);
  });

  it("builds readable names from the title and the run id tail", () => {
    expect(branchNameForRun({ runId: "run-1", title: "Fix the Login bug!" })).toBe("agentboard/fix-the-login-bug-run1");
    expect(branchNameForRun({ runId: "550e8400-e29b-41d4-a716-446655440000", title: "x" })).toBe("agentboard/x-446655440000");
    expect(slugify("Corrige la sesión")).toBe("corrige-la-sesion");
    expect(slugify("🚀")).toBe("run");
  });

  it("rejects bad run ids", () => {
    for (const runId of ["../x", "-rf", "a/b", "", "a b", ".x", "x".repeat(65)]) {
      expect(() => branchNameForRun({ runId, title: "t" })).toThrow(UnsafeNameError);
      expect(() => worktreeDirForRun("/tmp/wt", runId)).toThrow(UnsafeNameError);
    }
  });

  it("keeps worktree dirs strictly inside the root", () => {
    expect(worktreeDirForRun("/srv/worktrees", "run_1")).toBe(path.resolve("/srv/worktrees/run_1"));
    expect(() => assertInside("/srv/worktrees", "/srv/worktrees")).toThrow(UnsafeNameError);
    expect(() => assertInside("/srv/worktrees", "/srv/worktrees-evil/x")).toThrow(UnsafeNameError);
    expect(() => assertInside("/srv/worktrees", "/srv/worktrees/../x")).toThrow(UnsafeNameError);
    expect(() => assertInside("/srv/worktrees", "../x")).toThrow(UnsafeNameError);
    expect(assertInside("/srv/worktrees", "/srv/worktrees/..a")).toBe(path.resolve("/srv/worktrees/..a"));
  });
});
