import { promises as fs } from "node:fs";
import path from "node:path";
import { LockTimeoutError, repositoryKey, withFileLock, withMutex } from "@agentboard/git";
import { conflict } from "../errors.js";

/** Longest a merge or abort waits for another one on the same repository. */
export const PIPELINE_LOCK_TIMEOUT_MS = 15 * 60_000;
const PIPELINE_LOCK_FILE = "agentboard-run-pipeline.lock";

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
 * cleanup — and aborts of succeeded runs, per repository. `mergeRunBranch` alone only
 * serializes the ref update; holding this around the pipeline means a re-verification is
 * of the very base the merge lands on, and an abort can never slip between a run's git
 * merge and its `merged` row. Same two layers as the git package's lock (in-process FIFO,
 * then an O_EXCL file in the git dir for other processes), under a different name so that
 * `mergeRunBranch` can take its own lock inside this one.
 *
 * A repository that is not on this machine gets the in-process mutex only: there is no
 * git dir to hold a file, and no git work will be done on it either.
 */
export async function withRunPipelineLock<T>(repoPath: string, fn: () => Promise<T>): Promise<T> {
  const key = await repositoryKey(repoPath).catch(() => null);
  if (key === null) return withMutex(`agentboard-pipeline:path:${path.resolve(repoPath)}`, fn);
  try {
    return await withMutex(`agentboard-pipeline:${key}`, () =>
      withFileLock(path.join(key, PIPELINE_LOCK_FILE), fn, { timeoutMs: PIPELINE_LOCK_TIMEOUT_MS }),
    );
  } catch (err) {
    if (err instanceof LockTimeoutError) {
      throw conflict("MERGE_BUSY", "another merge into this repository is taking long; retry later", { retryable: true });
    }
    throw err;
  }
}
