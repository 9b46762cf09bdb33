import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";

export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError";
  constructor(
    readonly lockPath: string,
    readonly holder: LockOwner | null,
  ) {
    super(
      `timed out waiting for lock ${lockPath}` +
        (holder ? ` (held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt})` : ""),
    );
  }
}

export interface LockOwner {
  pid: number;
  hostname: string;
  token: string;
  acquiredAt: string;
}

export interface FileLockOptions {
  /** A lock whose file has not been touched for this long is considered abandoned. */
  staleMs?: number;
  /** Give up waiting after this long. */
  timeoutMs?: number;
  /** Base delay between attempts (jittered). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === code;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return !isErrno(err, "ESRCH");
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | null> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(lockPath, "utf8"));
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "pid" in parsed &&
      "hostname" in parsed &&
      "token" in parsed &&
      "acquiredAt" in parsed &&
      typeof parsed.pid === "number" &&
      typeof parsed.hostname === "string" &&
      typeof parsed.token === "string" &&
      typeof parsed.acquiredAt === "string"
    ) {
      return { pid: parsed.pid, hostname: parsed.hostname, token: parsed.token, acquiredAt: parsed.acquiredAt };
    }
    return null;
  } catch {
    // Missing, or caught half-written between O_EXCL create and write.
    return null;
  }
}

/**
 * Cross-process mutual exclusion with an O_EXCL lock file. The holder touches the file
 * every staleMs/4, so only a crashed holder's file goes stale; a dead pid on this host
 * is detected immediately. The stale check and the unlink are not atomic, so two
 * waiters reclaiming the same abandoned lock at the same instant is a (tiny) window
 * this accepts; the in-process mutex in front of it makes that window per-process.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const staleMs = opts.staleMs ?? 60_000;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const pollMs = opts.pollMs ?? 50;
  const me: LockOwner = {
    pid: process.pid,
    hostname: os.hostname(),
    token: randomUUID(),
    acquiredAt: new Date().toISOString(),
  };
  const deadline = Date.now() + timeoutMs;
  let lastOwner: LockOwner | null = null;

  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lockPath, "wx");
      try {
        await handle.writeFile(JSON.stringify({ ...me, acquiredAt: new Date().toISOString() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if (!isErrno(err, "EEXIST")) throw err;
    }

    const owner = await readOwner(lockPath);
    lastOwner = owner ?? lastOwner;
    let stale = false;
    if (owner && owner.hostname === me.hostname && owner.pid !== process.pid && !processAlive(owner.pid)) {
      stale = true;
    } else {
      try {
        const st = await fs.stat(lockPath);
        stale = Date.now() - st.mtimeMs > staleMs;
      } catch (err) {
        if (!isErrno(err, "ENOENT")) throw err;
        continue; // released between our attempts: try again at once
      }
    }
    if (stale) {
      // Only remove the file we judged stale, not one a faster waiter has since created.
      const again = await readOwner(lockPath);
      if (again?.token === owner?.token) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, lastOwner);
    const backoff = Math.min(pollMs * 2 ** Math.min(attempt, 4), 1000);
    await sleep(backoff / 2 + Math.random() * backoff);
  }

  const heartbeat = setInterval(
    () => {
      const now = new Date();
      fs.utimes(lockPath, now, now).catch(() => {
        // The next acquirer will judge staleness; nothing useful to do here.
      });
    },
    Math.max(1000, Math.floor(staleMs / 4)),
  );
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    const owner = await readOwner(lockPath);
    if (owner?.token === me.token) await fs.rm(lockPath, { force: true });
  }
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
