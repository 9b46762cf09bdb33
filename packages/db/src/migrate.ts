import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { DatabaseConfig, Provider } from "./config.js";

/**
 * Applies the SQL migrations under prisma/ (Prisma's folder layout) and records them in a
 * `_prisma_migrations` table of Prisma's own shape, so `prisma migrate status|deploy` keeps
 * working on the same database for anyone who has Prisma's migrate engine. Our machines
 * cannot download that engine, hence this small migrator.
 */

const prismaDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../../prisma");

/** Prisma's own advisory lock key, so our migrator and `prisma migrate deploy` exclude each other. */
const MIGRATION_LOCK_KEY = 72707369;

export function migrationsDir(provider: Provider): string {
  return provider === "postgresql" ? join(prismaDir, "migrations") : join(prismaDir, "sqlite", "migrations");
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

function plan(migrations: Migration[], applied: AppliedRow[]): Migration[] {
  const done = new Map<string, AppliedRow>();
  for (const row of applied) if (row.rolled_back_at == null) done.set(row.migration_name, row);
  const pending: Migration[] = [];
  for (const m of migrations) {
    const row = done.get(m.name);
    if (!row) {
      pending.push(m);
      continue;
    }
    if (row.finished_at == null) {
      throw new MigrationError(`migration ${m.name} started but never finished; repair the database, then mark it rolled back`);
    }
    if (row.checksum !== m.checksum) {
      throw new MigrationError(`migration ${m.name} was changed after it was applied (checksum mismatch)`);
    }
  }
  return pending;
}

export async function migrate(config: DatabaseConfig, dir = migrationsDir(config.provider)): Promise<MigrateResult> {
  const migrations = readMigrations(dir);
  return config.provider === "postgresql" ? migratePostgres(config.url, migrations) : migrateSqlite(config.file, migrations);
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const { rows } = await client.query<AppliedRow>(`SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`);
    const pending = plan(migrations, rows);
    for (const m of pending) {
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    return { applied: pending.map((m) => m.name), alreadyApplied: migrations.length - pending.length };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

async function migrateSqlite(file: string, migrations: Migration[]): Promise<MigrateResult> {
  mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL,
      "checksum" TEXT NOT NULL,
      "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL,
      "logs" TEXT,
      "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`);
    // Prisma's SQLite migrations rebuild tables; foreign keys must be off while they do.
    db.pragma("foreign_keys = OFF");
    const run = db.transaction(() => {
      const rows = db.prepare(`SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`).all() as AppliedRow[];
      const pending = plan(migrations, rows);
      const record = db.prepare(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES (?, ?, ?, ?, ?, 1)`,
      );
      for (const m of pending) {
        try {
          db.exec(m.sql);
        } catch (err) {
          throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
        const now = Date.now();
        record.run(randomUUID(), m.checksum, now, m.name, now);
      }
      return pending;
    });
    const pending = run.immediate();
    const violations = db.pragma("foreign_key_check") as unknown[];
    if (violations.length > 0) throw new MigrationError(`foreign key check failed after migrating (${violations.length} rows)`);
    return { applied: pending.map((m) => m.name), alreadyApplied: migrations.length - pending.length };
  } finally {
    db.close();
  }
}
