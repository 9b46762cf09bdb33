#!/usr/bin/env node
// Generates the next migration for both providers from prisma/schema.prisma (and its derived
// SQLite variant), offline, with Prisma 6.19.3's WebAssembly schema engine.
//
//   node tooling/migration-diff/new-migration.mjs <name>   writes prisma/migrations/<ts>_<name>/
//                                                          and prisma/sqlite/migrations/<ts>_<name>/
//
// The previous state of the schema is the `schema.snapshot.prisma` stored next to the latest
// migration's migration.sql, so no shadow database is needed. See README.md beside this file.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const SNAPSHOT = "schema.snapshot.prisma";
/** Where temporary databases are created and dropped; never the user's DATABASE_URL. */
const PG_ADMIN_URL = process.env.MIGRATION_DIFF_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const providers = [
  { provider: "postgresql", schema: join(root, "prisma/schema.prisma"), dir: join(root, "prisma/migrations") },
  { provider: "sqlite", schema: join(root, "prisma/sqlite/schema.prisma"), dir: join(root, "prisma/sqlite/migrations") },
];

class Failure extends Error {}
/** Throws, so that temporary databases and directories are cleaned up on the way out. */
function fail(message) {
  throw new Failure(message);
}

// ---------------------------------------------------------------------------------------------
// Schema conversion: Prisma 7 schema -> datamodel Prisma 6 accepts for `migrate diff`.

/** Prisma 7 keeps connection URLs in prisma.config.ts; Prisma 6 needs `url` in the datasource.
 *  Generator blocks are dropped: `migrate diff` does not use them, and Prisma 7-only generator
 *  settings need not be understood by Prisma 6. */
function toPrisma6Datamodel(schema, provider) {
  let out = schema.replace(/^generator\s+\w+\s*\{[\s\S]*?^\}[ \t]*\r?\n(\s*\r?\n)*/gm, "");
  let found = 0;
  out = out.replace(/^datasource\s+(\w+)\s*\{([\s\S]*?)^\}/gm, (_, name, body) => {
    found++;
    const kept = body.split("\n").filter((l) => l.trim() !== "" && !/^\s*(url|directUrl|shadowDatabaseUrl)\s*=/.test(l));
    const p = kept.find((l) => /^\s*provider\s*=/.test(l));
    if (!p?.includes(`"${provider}"`)) fail(`datasource provider is not "${provider}": ${p?.trim()}`);
    return `datasource ${name} {\n${kept.join("\n")}\n  url      = env("DATABASE_URL")\n}`;
  });
  if (found !== 1) fail(`expected exactly one datasource block, found ${found}`);
  return (
    "// Snapshot of the datamodel after this migration, in the form Prisma 6 accepts.\n" +
    "// Written by tooling/migration-diff/new-migration.mjs; the next migration is diffed against it.\n" +
    "// Do not edit.\n\n" +
    out.replace(/^(\s*\/\/.*\n|\s*\n)*/, "").trimEnd() + // the source file's header comment
    "\n"
  );
}

// ---------------------------------------------------------------------------------------------
// Migrations on disk.

function listMigrations(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort();
}

/** The datamodel the latest migration leads to, or null when there is no migration yet. */
function previousSnapshot(dir) {
  const names = listMigrations(dir);
  if (names.length === 0) return { name: null, path: null };
  const last = names[names.length - 1];
  const path = join(dir, last, SNAPSHOT);
  if (!existsSync(path)) {
    fail(
      `${relative(root, join(dir, last))} has no ${SNAPSHOT}; cannot tell what the schema was after it.\n` +
        `  Restore it (it is the Prisma-6 form of the schema that migration leads to).`,
    );
  }
  return { name: last, path };
}

function timestamp(date = new Date()) {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** A timestamp after every existing migration's, so the new one sorts last in both folders. */
function nextTimestamp() {
  let ts = timestamp();
  for (const { dir } of providers) {
    for (const name of listMigrations(dir)) {
      const prefix = name.slice(0, 14);
      if (/^\d{14}$/.test(prefix) && prefix >= ts) ts = String(BigInt(prefix) + 1n);
    }
  }
  return ts;
}

// ---------------------------------------------------------------------------------------------
// Running Prisma 6's `migrate diff` through the wasm schema engine.

function prismaEnv(databaseUrl) {
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    // Without a generator block the CLI assumes the Node-API query engine and tries to download
    // it; "client" (the Rust-free query compiler) needs no binary.
    PRISMA_CLIENT_ENGINE_TYPE: "client",
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  };
}

const CONFIG = {
  postgresql: `import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "./new.prisma",
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
`,
  sqlite: `import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "./new.prisma",
  adapter: async () => new PrismaBetterSQLite3({ url: process.env.DATABASE_URL }),
});
`,
};

function runDiff(work, provider, oldPath, databaseUrl) {
  const cli = join(here, "node_modules/prisma/build/index.js");
  if (!existsSync(cli)) fail(`Prisma 6 is not installed: run \`npm --prefix tooling/migration-diff install\``);
  writeFileSync(join(work, "prisma.config.ts"), CONFIG[provider]);
  const from = oldPath ? ["--from-schema-datamodel", oldPath] : ["--from-empty"];
  const args = [cli, "migrate", "diff", "--config", "prisma.config.ts", ...from, "--to-schema-datamodel", "new.prisma", "--script", "--exit-code"];
  const r = spawnSync(process.execPath, args, { cwd: work, env: prismaEnv(databaseUrl), encoding: "utf8" });
  // --exit-code: 0 = no difference, 2 = difference, anything else = error.
  if (r.status !== 0 && r.status !== 2) {
    fail(`prisma migrate diff (${provider}) failed with exit code ${r.status}:\n${r.stderr}\n${r.stdout}`);
  }
  return r.status === 2 ? r.stdout : "";
}

/** Prisma 6.19 renders SQLite Json defaults unquoted (`DEFAULT []`, `DEFAULT {}`), which SQLite
 *  rejects (`{`) or misreads (`[]` is an empty identifier, i.e. the text ''). prisma/prisma#26571.
 *  Quote them as the string literal Prisma meant. */
function fixSqliteJsonDefaults(sql) {
  return sql.replace(/^(.*\bJSONB(?: NOT NULL)? DEFAULT )(.+?)([,;]?)$/gm, (line, head, value, tail) => {
    if (value.startsWith("'")) return line; // already a literal (fixed upstream)
    try {
      JSON.parse(value);
    } catch {
      fail(`cannot repair the SQLite Json default in:\n  ${line}\n  Fix the migration by hand.`);
    }
    return `${head}'${value.replace(/'/g, "''")}'${tail}`;
  });
}

/** A diff from nothing starts with `CREATE SCHEMA IF NOT EXISTS "public"`, which `prisma migrate
 *  dev` never writes (its shadow database has that schema) and which fails for a role without
 *  CREATE on the database, even though the schema exists. */
function dropCreatePublicSchema(sql) {
  return sql.replace(/^-- CreateSchema\r?\nCREATE SCHEMA IF NOT EXISTS "public";\r?\n\r?\n?/m, "");
}

function postProcess(provider, sql) {
  sql = provider === "sqlite" ? fixSqliteJsonDefaults(sql) : dropCreatePublicSchema(sql);
  return `${sql.trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// Temporary databases, and applying every migration to them as a check.

const require = createRequire(import.meta.url);

async function withTempPostgres(fn) {
  const { default: pg } = await import("pg");
  const name = `agentboard_migdiff_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    fail(`cannot reach PostgreSQL at ${PG_ADMIN_URL} (set MIGRATION_DIFF_PG_URL): ${err.message}`);
  }
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin
      .query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      .catch((err) => console.error(`new-migration: could not drop temporary database ${name}: ${err.message}`));
    await admin.end();
  }
}

async function applyPostgres(url, sqls) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const { name, sql } of sqls) {
      try {
        await client.query("BEGIN");
        await client.query(sql);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw new Error(`${name}: ${err.message}`);
      }
    }
  } finally {
    await client.end();
  }
}

function applySqlite(file, sqls) {
  const Database = require("better-sqlite3");
  const db = new Database(file);
  try {
    db.pragma("foreign_keys = OFF"); // as the project's migrator does: SQLite rebuilds tables
    for (const { name, sql } of sqls) {
      try {
        db.transaction(() => db.exec(sql)).immediate();
      } catch (err) {
        throw new Error(`${name}: ${err.message}`);
      }
    }
    const violations = db.pragma("foreign_key_check");
    if (violations.length) throw new Error(`foreign_key_check reports ${violations.length} rows`);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------

function convertAll() {
  return providers.map((p) => {
    if (!existsSync(p.schema)) fail(`${relative(root, p.schema)} not found`);
    return { ...p, datamodel: toPrisma6Datamodel(readFileSync(p.schema, "utf8"), p.provider) };
  });
}

function checkDerived() {
  const r = spawnSync(process.execPath, [join(root, "prisma/derive-schemas.mjs"), "--check"], { encoding: "utf8" });
  if (r.status !== 0) fail(`prisma/sqlite/schema.prisma is out of date with prisma/schema.prisma: run \`npm run db:derive\` first.\n${r.stderr}`);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 1 || args[0].startsWith("-")) {
    fail("usage: new-migration.mjs <name>   (e.g. `npm run db:new-migration add_card_due_date`)");
  }
  const name = args[0]
    .trim()
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
  if (!name) fail(`invalid migration name "${args[0]}"`);
  checkDerived();

  const ts = nextTimestamp();
  const results = [];
  for (const p of convertAll()) {
    const prev = previousSnapshot(p.dir);
    const work = mkdtempSync(join(tmpdir(), `migdiff-${p.provider}-`));
    try {
      // The temporary prisma.config.ts imports prisma/config and the adapter from here.
      symlinkSync(join(here, "node_modules"), join(work, "node_modules"), "dir");
      writeFileSync(join(work, "new.prisma"), p.datamodel);
      let oldPath = null;
      if (prev.path) {
        oldPath = join(work, "old.prisma");
        writeFileSync(oldPath, readFileSync(prev.path, "utf8"));
      }
      const existing = listMigrations(p.dir).map((m) => ({ name: m, sql: readFileSync(join(p.dir, m, "migration.sql"), "utf8") }));
      const run = async (url, apply) => {
        const raw = runDiff(work, p.provider, oldPath, url);
        if (!raw.trim()) return null;
        const sql = postProcess(p.provider, raw);
        // Check: the existing migrations plus the new one apply cleanly to an empty database.
        await apply(url, [...existing, { name: `${ts}_${name}`, sql }]);
        return sql;
      };
      const sql =
        p.provider === "postgresql"
          ? await withTempPostgres((url) => run(url, applyPostgres))
          : await run(`file:${join(work, "diff.db")}`, (_url, sqls) => applySqlite(join(work, "apply.db"), sqls));
      results.push({ ...p, prev, sql });
    } catch (err) {
      fail(`${p.provider}: ${err.message}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  if (results.every((r) => !r.sql)) {
    console.log("no changes");
    return;
  }
  for (const r of results) {
    if (!r.sql) {
      console.log(`${r.provider}: no changes`);
      continue;
    }
    const lock = join(r.dir, "migration_lock.toml");
    mkdirSync(r.dir, { recursive: true });
    if (existsSync(lock)) {
      if (!readFileSync(lock, "utf8").includes(`provider = "${r.provider}"`)) fail(`${relative(root, lock)} is not for ${r.provider}`);
    } else {
      writeFileSync(
        lock,
        `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${r.provider}"\n`,
      );
    }
    const out = join(r.dir, `${ts}_${name}`);
    mkdirSync(out);
    writeFileSync(join(out, "migration.sql"), r.sql);
    writeFileSync(join(out, SNAPSHOT), r.datamodel);
    const from = r.prev.name ? ` (from ${r.prev.name})` : " (from empty)";
    console.log(`${r.provider}: wrote ${relative(root, join(out, "migration.sql"))}${from}`);
  }
}

try {
  await main();
} catch (err) {
  console.error(`new-migration: ${err instanceof Failure ? err.message : err.stack}`);
  process.exit(1);
}
