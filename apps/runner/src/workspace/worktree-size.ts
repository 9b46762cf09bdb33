/**
 * The size recorded for a new worktree: the bytes of the files checked out, read from the
 * commit's tree by the git package (`treeBytes`, one git process) rather than by walking
 * the directory — a stat per file, which on a large repository costs as much as the
 * checkout itself and would sit between the claim and the agent's start.
 */
import { treeBytes } from "@agentboard/git";

/**
 * Read in the source repository (whose configuration is trusted), not in the run's
 * checkout. The checkout adds little else: its objects are borrowed through alternates.
 */
export function worktreeBytes(sourceRepo: string, commit: string): Promise<number | undefined> {
  return treeBytes(sourceRepo, commit).catch(() => undefined);
}
