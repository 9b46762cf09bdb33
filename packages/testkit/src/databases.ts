import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

// Structurally the same as @agentboard/db's DatabaseConfig; declared here so that the
// database package can test itself with this kit without a dependency cycle.
export type Provider = "sqlite" | "postgresql";
export type DatabaseConfig = { provider: "sqlite"; file: string } | { provider: "postgresql"; url: string };

/**
 * Real databases for tests: a fresh SQLite file, or a fresh database on the machine's
 * PostgreSQL (created here and dropped on cleanup). `AGENTBOARD_TEST_PG_URL` names the
 * server's maintenance database (default postgres://postgres@127.0.0.1:5432/postgres).
 */
export const TEST_PG_URL = process.env.AGENTBOARD_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** Providers under test; `AGENTBOARD_TEST_PROVIDERS=sqlite` narrows a local run. */
export const testProviders: Provider[] = (process.env.AGENTBOARD_TEST_PROVIDERS ?? "sqlite,postgresql")
  .split(",")
  .map((p) => p.trim())
  .filter((p): p is Provider => p === "sqlite" || p === "postgresql");

export interface TestDatabase {
  config: DatabaseConfig;
  /** A scratch directory beside the database (data dir, worktrees). */
  dir: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(provider: Provider): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "agentboard-test-"));
  if (provider === "sqlite") {
    return {
      config: { provider: "sqlite", file: join(dir, "test.db") },
      dir,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `agentboard_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    config: { provider: "postgresql", url: url.toString() },
    dir,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
