// Generates the Prisma clients for both providers.
// The Prisma CLI would try to download its schema-engine binary, which `generate` never
// uses; pointing PRISMA_SCHEMA_ENGINE_BINARY at an existing file keeps it offline.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const require = createRequire(import.meta.url);
const prismaCli = require.resolve("prisma/build/index.js");

for (const schema of ["prisma/schema.prisma", "prisma/sqlite/schema.prisma"]) {
  const result = spawnSync(process.execPath, [prismaCli, "generate", "--schema", schema], {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
      CHECKPOINT_DISABLE: "1",
    },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
