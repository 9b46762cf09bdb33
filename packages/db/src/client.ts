import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { setFlagsFromString } from "node:v8";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { DatabaseConfig, Provider } from "./config.js";
import { PrismaClient } from "./generated/postgresql/client.js";
import { PrismaClient as SqlitePrismaClient } from "./generated/sqlite/client.js";
import { createPostgresqlSql } from "./sql/postgresql.js";
import { createSqliteSql } from "./sql/sqlite.js";
import { retryingAdapter } from "./transient.js";
import type { DialectSql } from "./sql/types.js";

export { PrismaClient };

/**
 * Fields no answer may carry, left out of every read unless a query asks for them by
 * name (`omit: { leaseToken: false }`): a run's lease token goes only to the runner that
 * claimed it (in the claim's answer, written by the queue's own SQL), and a token's hash
 * nowhere.
 */
export const secretFields = {
  run: { leaseToken: true },
  mergeVerification: { leaseToken: true },
  apiToken: { tokenHash: true },
} as const;

/** The client every service uses: secrets omitted by default. */
export type AppPrismaClient = PrismaClient<never, typeof secretFields>;

export interface Database {
  readonly provider: Provider;
  readonly config: DatabaseConfig;
  readonly prisma: AppPrismaClient;
  readonly sql: DialectSql;
  /** The PostgreSQL pool (for LISTEN/NOTIFY); undefined on SQLite. */
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

/**
 * Prisma's query compiler is a WebAssembly module (about 3.4 MB) that each client compiles at
 * its first query. V8 compiles it with its baseline compiler and then again with its optimizing
 * one; that second copy and the memory of compiling it stayed resident: about 60 MB of an idle
 * server's 230. The compiler's query plans are cached, so it runs little once the server is
 * warm, and the baseline code measured as fast (about 8,900 SQLite and 3,100 PostgreSQL
 * queries/s through the client, with and without this flag). Set before the first client
 * compiles the module, it applies to this process's WebAssembly compiles from then on.
 */
function compileWasmOnce(): void {
  setFlagsFromString("--liftoff-only");
}

export function createDatabase(config: DatabaseConfig, opts: CreateDatabaseOptions = {}): Database {
  compileWasmOnce();
  if (config.provider === "postgresql") {
    const pool = new pg.Pool({ connectionString: config.url, max: opts.poolSize ?? 10 });
    // A client that loses its connection must not crash the process: an idle one is
    // reported on the pool, one checked out (inside a transaction) on itself. Its query in
    // flight fails either way, and the pool replaces it.
    pool.on("error", () => undefined);
    pool.on("connect", (client) => client.on("error", () => undefined));
    const prisma: AppPrismaClient = new PrismaClient({ adapter: retryingAdapter(new PrismaPg(pool)), omit: secretFields });
    return {
      provider: "postgresql",
      config,
      prisma,
      sql: createPostgresqlSql(pool),
      pool,
      async close() {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  }

  mkdirSync(dirname(config.file), { recursive: true });
  const adapter = new PrismaBetterSqlite3({ url: config.file, timeout: 5000 }, { timestampFormat: "unixepoch-ms" });
  // Both clients are generated from one schema (prisma/sqlite is derived from it and a test
  // guards the derivation), so the SQLite client has the PostgreSQL client's shape; the
  // services are written once against that shape.
  const prisma = new SqlitePrismaClient({ adapter, omit: secretFields }) as unknown as AppPrismaClient;
  const sql = createSqliteSql(prisma, config.file);
  return {
    provider: "sqlite",
    config,
    prisma,
    sql,
    async close() {
      sql.close();
      await prisma.$disconnect();
    },
  };
}

/** Pragmas for the embedded database: WAL for concurrent readers, NORMAL sync under WAL. */
export async function tuneSqlite(db: Database): Promise<void> {
  if (db.provider !== "sqlite") return;
  await db.prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await db.prisma.$queryRawUnsafe("PRAGMA synchronous = NORMAL");
  await db.prisma.$queryRawUnsafe("PRAGMA busy_timeout = 5000");
  await db.prisma.$queryRawUnsafe("PRAGMA foreign_keys = ON");
}
