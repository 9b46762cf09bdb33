import { gitTry } from "./exec.js";
import { assertSafeRefName } from "./names.js";

export interface FoundMerge {
  commit: string;
  /** The base before the merge, then the merged branch tip. */
  parents: string[];
}

const TRAILER_KEY_RE = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const TRAILER_VALUE_RE = /^[A-Za-z0-9._:@/-]{1,200}$/;

/**
 * The newest merge commit on `baseBranch`'s first-parent history whose message carries the
 * trailer line `<key>: <value>`, or null. Lets a caller that deleted a branch after merging
 * it (and lost its own record of the merge) find the merge again from git alone.
 */
export async function findMergeByTrailer(input: { repoPath: string; baseBranch: string; key: string; value: string }): Promise<FoundMerge | null> {
  assertSafeRefName(input.baseBranch, "base branch");
  if (!TRAILER_KEY_RE.test(input.key) || !TRAILER_VALUE_RE.test(input.value)) throw new Error("unsupported trailer");
  // A basic regular expression anchored to a whole line, so one run id never matches a longer one.
  const pattern = `^${input.key}: ${input.value.replace(/[.\\[\]*^$/]/g, "\\$&")}$`;
  const res = await gitTry(input.repoPath, [
    "log",
    "--first-parent",
    "--merges",
    "--max-count=1",
    "--format=%H %P",
    `--grep=${pattern}`,
    `refs/heads/${input.baseBranch}`,
    "--",
  ]);
  if (!res.ok) return null;
  const [commit, ...parents] = res.stdout.trim().split(" ").filter(Boolean);
  return commit ? { commit, parents } : null;
}
