import { gitTry } from "./exec.js";

/**
 * The top level of the working tree that contains `dir` (git's own answer, symlinks
 * resolved), or null when `dir` is in no working tree (not a repository, or a bare one).
 */
export async function repositoryTopLevel(dir: string): Promise<string | null> {
  const result = await gitTry(dir, ["rev-parse", "--show-toplevel"], { timeoutMs: 10_000 });
  return result.ok && result.stdout.trim() !== "" ? result.stdout.trim() : null;
}
