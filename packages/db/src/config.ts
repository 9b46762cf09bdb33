import { isAbsolute, join, resolve } from "node:path";

export type DatabaseConfig = { provider: "sqlite"; file: string } | { provider: "postgresql"; url: string };

export type Provider = DatabaseConfig["provider"];

/**
 * Picks the database from the environment: PostgreSQL when `DATABASE_URL` is a
 * postgres(ql):// URL, otherwise the embedded SQLite file in the data directory
 * (or the file named by a `file:` DATABASE_URL).
 */
export function resolveDatabaseConfig(opts: { databaseUrl?: string; dataDir: string }): DatabaseConfig {
  const url = opts.databaseUrl?.trim();
  if (url && /^postgres(ql)?:\/\//.test(url)) return { provider: "postgresql", url };
  if (url?.startsWith("file:")) {
    const path = url.slice("file:".length);
    return { provider: "sqlite", file: isAbsolute(path) ? path : resolve(path) };
  }
  if (url) throw new Error(`DATABASE_URL must be a postgres:// or file: URL (got scheme "${url.split(":")[0]}")`);
  return { provider: "sqlite", file: join(resolve(opts.dataDir), "agentboard.db") };
}

/** The URL of a config with any password removed, for logs and the health endpoint. */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.provider === "sqlite") return `sqlite:${config.file}`;
  const u = new URL(config.url);
  u.password = "";
  return u.toString();
}
