/**
 * A run's checkout as a private clone of the project's repository, so that an agent in a
 * sandbox owns a whole `.git` of its own and nothing of the project's: it can status,
 * diff, log and commit, but cannot move the base branch, install hooks or write config
 * that the runner's or the server's later git commands would honour.
 *
 * - `createRunClone`: `git clone --shared --no-checkout` of the base branch (objects are
 *   read through alternates from the repository's object store, which the sandbox binds
 *   read-only; nothing is copied), then a new branch at the base commit, checked out.
 * - `fetchRunBundle`: after the run, the work comes back as a git bundle made inside the
 *   sandbox (pure data: a pack and one ref) and fetched into the repository, objects
 *   checked, under the run's branch name. No git command outside the sandbox ever reads
 *   the clone's config, hooks or attributes.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { git } from "./exec.js";
import { assertSafeRefName, assertSafeRevision } from "./names.js";
import { branchCommit, missingBase } from "./worktree.js";

/** The ref a run's result is bundled under inside its clone. */
export const RESULT_REF = "refs/agentboard/result";

export interface RunCloneInput {
  /** The repository to clone: the project's, or a runner-owned clone of its remote. */
  repoPath: string;
  baseBranch: string;
  branch: string;
  dir: string;
  /**
   * A follow-up's start: the thread's branch tip (a commit of `repoPath`). The checkout is
   * made there, and `baseCommit` is where the branch forked from the base.
   */
  startCommit?: string | null;
}

export interface RunClone {
  path: string;
  branch: string;
  /** Where the branch forked from the base branch: what the run's diff is taken against. */
  baseCommit: string;
  /** What was checked out: the base commit, or a follow-up's start. */
  startCommit: string;
  /** Object directories the clone reads through alternates (bind them read-only). */
  objectDirs: string[];
}

/** The repository's object directory and those it borrows from itself, recursively. */
export async function objectDirsOf(repoPath: string): Promise<string[]> {
  const common = (await git(repoPath, ["rev-parse", "--path-format=absolute", "--git-common-dir"])).trim();
  const dirs: string[] = [];
  const visit = async (objects: string) => {
    const real = await fs.realpath(objects).catch(() => null);
    if (real === null || dirs.includes(real)) return;
    dirs.push(real);
    const alternates = await fs.readFile(path.join(real, "info", "alternates"), "utf8").catch(() => "");
    for (const line of alternates.split("\n").map((l) => l.trim())) {
      if (line !== "" && !line.startsWith("#")) await visit(path.resolve(real, line));
    }
  };
  await visit(path.join(common, "objects"));
  return dirs;
}

export async function createRunClone({ repoPath, baseBranch, branch, dir, startCommit }: RunCloneInput): Promise<RunClone> {
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRefName(branch);
  const target = path.resolve(dir);
  const baseTip = await branchCommit(repoPath, baseBranch);
  if (baseTip === null) throw await missingBase(repoPath, baseBranch);
  const { start, fork } = await startOf(repoPath, baseTip, startCommit ?? null);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await git(path.dirname(target), [
    "clone",
    "--quiet",
    "--shared",
    "--no-checkout",
    "--single-branch",
    "--branch",
    baseBranch,
    "--no-tags",
    "--",
    repoPath,
    target,
  ]);
  // A commit rather than a branch name: what is returned is exactly what was checked out.
  // A follow-up's start is read through the shared object store (it is on no cloned branch).
  await git(target, ["checkout", "--quiet", "-b", branch, start]);
  return { path: target, branch, baseCommit: fork, startCommit: start, objectDirs: await objectDirsOf(repoPath) };
}

/** Where a run starts and what its diff is taken against. */
async function startOf(repoPath: string, baseTip: string, startCommit: string | null): Promise<{ start: string; fork: string }> {
  if (startCommit === null) return { start: baseTip, fork: baseTip };
  assertSafeRevision(startCommit, "start commit");
  const start = (await git(repoPath, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${startCommit}^{commit}`])).trim();
  const fork = (await git(repoPath, ["merge-base", "--end-of-options", baseTip, start])).trim();
  return { start, fork: fork || baseTip };
}

/** Where `head` forked from `baseBranch` in `repoPath` (the merge base), or null when unrelated. */
export async function forkPoint(repoPath: string, baseBranch: string, head: string): Promise<string | null> {
  assertSafeRefName(baseBranch, "base branch");
  assertSafeRevision(head, "commit");
  const baseTip = await branchCommit(repoPath, baseBranch);
  if (baseTip === null) return null;
  const out = await git(repoPath, ["merge-base", "--end-of-options", baseTip, head]).catch(() => "");
  return out.trim() || null;
}

export interface FetchBundleInput {
  repoPath: string;
  /** A bundle holding RESULT_REF, made in the run's clone. */
  bundle: string;
  branch: string;
}

/** Fetches a run's bundle into the repository as `refs/heads/<branch>` (forced: a retried run re-creates it). */
export async function fetchRunBundle({ repoPath, bundle, branch }: FetchBundleInput): Promise<string> {
  assertSafeRefName(branch);
  await git(repoPath, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", bundle, `+${RESULT_REF}:refs/heads/${branch}`], {
    // The agent wrote these objects: they are checked before they enter the repository.
    config: ["fetch.fsckObjects=true", "transfer.fsckObjects=true"],
  });
  const tip = await branchCommit(repoPath, branch);
  if (tip === null) throw new Error(`fetching the run's bundle did not create ${branch}`);
  return tip;
}

/** Points `refs/heads/<branch>` at `commit` (a run that changed nothing still has its branch). */
export async function setBranch(repoPath: string, branch: string, commit: string): Promise<void> {
  assertSafeRefName(branch);
  assertSafeRevision(commit, "commit");
  await git(repoPath, ["update-ref", `refs/heads/${branch}`, commit]);
}

/**
 * Whether `dir` is the run clone of `repoPath` made for `runId`: named by the run id, with
 * a `.git` directory (not a link) whose alternates lead to the repository's objects. The
 * server removes only such directories besides the repository's linked worktrees.
 */
export async function isRunCloneOf(dir: string, repoPath: string, runId: string): Promise<boolean> {
  if (path.basename(dir) !== runId) return false;
  const dotGit = await fs.lstat(path.join(dir, ".git")).catch(() => null);
  if (!dotGit?.isDirectory()) return false;
  const file = path.join(dir, ".git", "objects", "info", "alternates");
  const st = await fs.lstat(file).catch(() => null);
  if (!st?.isFile() || st.size > 64 * 1024) return false;
  const first = (await fs.readFile(file, "utf8")).split("\n")[0]?.trim() ?? "";
  const target = await fs.realpath(path.resolve(path.join(dir, ".git", "objects"), first)).catch(() => null);
  const repoObjects = await objectDirsOf(repoPath).catch(() => []);
  return target !== null && repoObjects[0] === target;
}
