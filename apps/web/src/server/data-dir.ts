import { chmodSync, mkdirSync } from "node:fs";
import { lockSqliteDatabase, restrictSqliteFiles, type DatabaseConfig } from "@agentboard/db";

/**
 * The server's claim on its data directory, made before the database opens. The directory
 * (admin token, evidence files, the SQLite database) is the server user's alone: 0700, and
 * the database's files 0600. On SQLite the process also becomes the database's one server:
 * a second server on the same file stops here with DatabaseInUseError, instead of running
 * beside the first with wake-ups that never reach it. PostgreSQL replicas share a database
 * by design and take no lock.
 */
export function claimDataDir(dataDir: string, database: DatabaseConfig): { release(): void } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dataDir, 0o700);
  } catch (err) {
    console.warn(`[agentboard] could not make ${dataDir} private (0700): ${(err as Error).message}`);
  }
  if (database.provider !== "sqlite") return { release() {} };
  restrictSqliteFiles(database.file);
  return lockSqliteDatabase(database.file);
}
