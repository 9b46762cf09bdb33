// `npm run db:migrate`: applies pending migrations to the configured database.
import { resolve } from "node:path";
import { describeDatabase, resolveDatabaseConfig } from "../config.js";
import { migrate } from "../migrate.js";

const config = resolveDatabaseConfig({
  databaseUrl: process.env.DATABASE_URL,
  // npm runs workspace scripts in the package folder; paths are relative to where npm was invoked.
  dataDir: resolve(process.env.INIT_CWD ?? process.cwd(), process.env.AGENTBOARD_DATA_DIR ?? ".agentboard"),
});
try {
  const result = await migrate(config);
  console.log(
    `${describeDatabase(config)}: applied ${result.applied.length} migration(s)` +
      (result.applied.length ? `: ${result.applied.join(", ")}` : "") +
      `; ${result.alreadyApplied} already applied`,
  );
} catch (err) {
  console.error(`migration failed: ${(err as Error).message}`);
  process.exit(1);
}
