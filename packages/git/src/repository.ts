import { promises as fs } from "node:fs";
import { git, gitTry } from "./exec.js";

/**
 * The top level of the working tree that contains `dir` (git's own answer, symlinks
 * resolved), or null when `dir` is in no working tree (not a repository, or a bare one).
 */
export async function repositoryTopLevel(dir: string): Promise<string | null> {
  const result = await gitTry(dir, ["rev-parse", "--show-toplevel"], { timeoutMs: 10_000 });
  return result.ok && result.stdout.trim() !== "" ? result.stdout.trim() : null;
}

/** Absolute, symlink-resolved git common dir: the same key for every worktree of one repository. */
export async function repositoryKey(repoPath: string): Promise<string> {
  const out = await git(repoPath, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  return fs.realpath(out.trim());
}
