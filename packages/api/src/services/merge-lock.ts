import { promises as fs } from "node:fs";
import path from "node:path";
import { LockTimeoutError, repositoryKey, withMutex, withRepoLock, type RepositoryLock } from "@agentboard/git";
import { conflict } from "../errors.js";

/** Longest a merge or abort waits for another one on the same repository. */
export const PIPELINE_LOCK_TIMEOUT_MS = 15 * 60_000;

/** The repository exists on this machine and git can open it. */
export async function repositoryAvailable(repoPath: string): Promise<boolean> {
  const st = await fs.stat(repoPath).catch(() => null);
  if (!st?.isDirectory()) return false;
  return repositoryKey(repoPath).then(
    () => true,
    () => false,
  );
}

/**
 * Serializes the whole merge of a run — gate, re-verification, merge, database update,
 * cleanup — and aborts of succeeded runs, per repository. It is the git package's
 * repository lock itself (in-process FIFO, then proper-lockfile's lock in the git dir for
 * other processes; see packages/git/src/lock.ts), held once: `fn` gets the held lock and
 * hands it to `mergeRunBranch`/`updateBranchFromBase`, which then take none of their own.
 * Holding it around the pipeline means a re-verification is of the very base the merge
 * lands on, and an abort can never slip between a run's git merge and its `merged` row.
 *
 * A repository that is not on this machine gets an in-process mutex only (`fn` gets no
 * lock): there is no git dir to hold one in, and no git work will be done on it either.
 */
export async function withRunPipelineLock<T>(repoPath: string, fn: (lock: RepositoryLock | undefined) => Promise<T>): Promise<T> {
  const key = await repositoryKey(repoPath).catch(() => null);
  if (key === null) return withMutex(`agentboard-pipeline:path:${path.resolve(repoPath)}`, () => fn(undefined));
  try {
    return await withRepoLock(repoPath, fn, { key, timeoutMs: PIPELINE_LOCK_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof LockTimeoutError) {
      throw conflict("MERGE_BUSY", "another merge into this repository is taking long; retry later", { retryable: true });
    }
    throw err;
  }
}
