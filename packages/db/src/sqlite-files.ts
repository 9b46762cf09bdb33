import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";

/**
 * The embedded database's files on disk: readable by the server's user alone, and owned by
 * one server process at a time.
 */

/**
 * Creates the database file 0600 if it is new (its directory 0700 if that is new), and
 * narrows an existing one to 0600. SQLite gives its `-wal`, `-shm` and `-journal` files the
 * mode of the database file, so they follow; existing ones are narrowed too.
 */
export function restrictSqliteFiles(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    if (existsSync(path)) chmodSync(path, 0o600);
  }
}

/** Another server process holds the database: the message says which file and what to do. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
}

/**
 * Held locks. A better-sqlite3 connection closes when it is garbage-collected, which would
 * drop the lock with it: the process keeps its locks here until they are released.
 */
const held = new Set<BetterSqlite3.Database>();

export interface SqliteLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the exclusive lock that makes this process the database's one server, held until
 * `release` or the end of the process. It is SQLite's own lock (a POSIX record lock) on a
 * small file beside the database, `<file>.lock`: the kernel drops it when the process ends,
 * however it ends, so a killed server leaves nothing stale behind and a restart succeeds at
 * once. A second server on the same file gets DatabaseInUseError.
 */
export function lockSqliteDatabase(file: string): SqliteLock {
  const lockFile = `${file}.lock`;
  if (!existsSync(lockFile)) closeSync(openSync(lockFile, "a", 0o600));
  const conn = new BetterSqlite3(lockFile, { timeout: 0 });
  try {
    // In exclusive locking mode the lock a write takes is kept until the connection closes;
    // a transaction that writes nothing takes no lock on the file at all.
    conn.pragma("locking_mode = EXCLUSIVE");
    conn.pragma("journal_mode = MEMORY");
    conn.exec("CREATE TABLE IF NOT EXISTS server (pid INTEGER NOT NULL); DELETE FROM server;");
    conn.prepare("INSERT INTO server (pid) VALUES (?)").run(process.pid);
  } catch (err) {
    conn.close();
    if ((err as { code?: unknown }).code === "SQLITE_BUSY") {
      throw new DatabaseInUseError(
        `another agentboard server is already using ${file} (it holds ${lockFile}). ` +
          "Stop that server first, or give this one its own AGENTBOARD_DATA_DIR (or DATABASE_URL).",
        { cause: err },
      );
    }
    throw err;
  }
  held.add(conn);
  return {
    file: lockFile,
    release() {
      held.delete(conn);
      if (conn.open) conn.close();
    },
  };
}
