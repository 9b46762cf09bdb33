import path from "node:path";
import lockfile from "proper-lockfile";
import { repositoryKey } from "./repository.js";

/**
 * The repository lock: one per repository (its git common dir, so every worktree of it
 * shares one), for the work that moves its refs — merges, updates from the base, the API's
 * whole merge pipeline around them, cleanups.
 *
 * Two layers, each for what the other cannot do:
 * - an in-process FIFO ({@link withMutex}): callers of this process queue in order instead
 *   of polling a file;
 * - proper-lockfile's lock directory in the git dir, for other processes (several API
 *   servers on one machine, a CLI beside the server, or machines sharing the repository over
 *   a network file system). `mkdir` is atomic on every file system, the holder refreshes
 *   the directory's mtime, and a lock left by a crashed holder is taken over once stale.
 *
 * Why not a PostgreSQL advisory lock: what is guarded is a directory on a disk, and only
 * processes that reach that disk can move its refs; they all see the lock directory, with
 * the SQLite provider too. Replicas on separate machines that share one database but not
 * the disk have separate repositories and need no common lock. And every ref move under
 * this lock is itself a compare-and-swap (`git update-ref <ref> <new> <old>`), so even a
 * lock lost to a stall longer than `staleMs` can cost a retry, never a commit.
 */

/** Name of the lock directory in the git common dir. */
export const REPOSITORY_LOCK_NAME = "agentboard-repository.lock";

export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError";
  constructor(readonly lockPath: string) {
    super(`timed out waiting for lock ${lockPath}`);
  }
}

export interface RepositoryLockOptions {
  /** Give up waiting after this long (LockTimeoutError). Default 10 minutes. */
  timeoutMs?: number;
  /** A lock not refreshed for this long is abandoned and may be taken over. Default 30 s (at least 2 s). */
  staleMs?: number;
  /** Base delay between attempts while another process holds it (jittered, doubling to 1 s). */
  pollMs?: number;
  /** `repositoryKey(repoPath)` when the caller has it already: saves the `git rev-parse`. */
  key?: string;
}

/** Proof that the caller holds a repository's lock; pass it to work that would otherwise take the lock itself. */
export interface RepositoryLock {
  /** The path the lock was taken for. */
  readonly repoPath: string;
  /** Absolute, symlink-resolved git common dir. */
  readonly key: string;
  /** False once the lock's callback has returned. */
  readonly held: boolean;
}

const genuine = new WeakSet<RepositoryLock>();

/** True when `lock` came from {@link withRepoLock} for `repoPath` and is still held. */
export function holdsRepoLock(lock: RepositoryLock | undefined, repoPath: string): lock is RepositoryLock {
  return lock !== undefined && genuine.has(lock) && lock.held && lock.repoPath === repoPath;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === code;
}

async function acquire(key: string, opts: RepositoryLockOptions): Promise<() => Promise<void>> {
  const lockPath = path.join(key, REPOSITORY_LOCK_NAME);
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const pollMs = opts.pollMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(key, {
        lockfilePath: lockPath,
        realpath: false,
        stale: opts.staleMs ?? 30_000,
        retries: 0,
        // The work under the lock cannot be stopped half-way, and its ref moves are
        // compare-and-swaps; the default (throwing from a timer) would crash the server.
        onCompromised: () => undefined,
      });
    } catch (err) {
      if (!isErrno(err, "ELOCKED")) throw err;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath);
    const backoff = Math.min(pollMs * 2 ** Math.min(attempt, 5), 1000);
    await sleep(Math.min(backoff / 2 + Math.random() * backoff, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Runs `fn` holding the repository's lock (see the top of this file). One `git rev-parse`
 * finds the repository; `fn` gets the held lock to hand to `mergeRunBranch` and
 * `updateBranchFromBase`, which then take no lock of their own.
 */
export async function withRepoLock<T>(repoPath: string, fn: (lock: RepositoryLock) => Promise<T>, opts: RepositoryLockOptions = {}): Promise<T> {
  const key = opts.key ?? (await repositoryKey(repoPath));
  return withMutex(key, async () => {
    const release = await acquire(key, opts);
    let held = true;
    const lock: RepositoryLock = {
      repoPath,
      key,
      get held() {
        return held;
      },
    };
    genuine.add(lock);
    try {
      return await fn(lock);
    } finally {
      held = false;
      // Rejects only when the lock was compromised (taken over as stale): nothing left to release.
      await release().catch(() => undefined);
    }
  });
}

const tails = new Map<string, Promise<void>>();

/** In-process FIFO mutex per key. Callers queue behind every earlier caller with the same key. */
export async function withMutex<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  tails.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
