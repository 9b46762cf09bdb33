export { createDatabase, tuneSqlite, PrismaClient, secretFields, type AppPrismaClient, type Database, type CreateDatabaseOptions } from "./client.js";
export { resolveDatabaseConfig, describeDatabase, type DatabaseConfig, type Provider } from "./config.js";
export { migrate, migrationsDir, readMigrations, MigrationError, type MigrateResult } from "./migrate.js";
export {
  InvalidCursorError,
  RowLockedError,
  PREFERRED_GRACE_S,
  type BoardEvent,
  type BoardEventsPage,
  type BoardSnapshotRows,
  type RunEventsPage,
  type DialectSql,
  type LeaseState,
  type ExpiredLease,
  type Claimed,
  type PublicRun,
  type ClaimCheck,
  type ClaimantLease,
  type AppendedEvents,
  type CardSearchArchived,
  type CardSearch,
  type CardRunStatus,
} from "./sql/types.js";
export { fromRowJson, rawPayload } from "./sql/rows.js";
export { DatabaseInUseError, lockSqliteDatabase, restrictSqliteFiles, type SqliteLock } from "./sqlite-files.js";
export * from "./generated/postgresql/enums.js";
export type {
  Workspace,
  Board,
  Project,
  Card,
  Workflow,
  Run,
  RunEvent,
  Runner,
  Worktree,
  DodItem,
  DodEvidence,
  ApiToken,
  ApprovalRequest,
  MergeVerification,
  ReviewComment,
  RunTranscript,
} from "./generated/postgresql/client.js";
export { Prisma } from "./generated/postgresql/client.js";

import type { Database } from "./client.js";
import { createDatabase, tuneSqlite } from "./client.js";
import type { DatabaseConfig } from "./config.js";
import { migrate } from "./migrate.js";

/** Migrates, connects and tunes: what a server does at start. */
export async function openDatabase(config: DatabaseConfig, opts?: { poolSize?: number }): Promise<Database> {
  await migrate(config);
  const db = createDatabase(config, opts);
  await tuneSqlite(db);
  return db;
}
export { isTransientDatabaseError, trackWrites, type WriteTracker } from "./transient.js";
