// Derives provider variants of the canonical schema (prisma/schema.prisma).
// `node prisma/derive-schemas.mjs` writes them; `--check` exits 1 when a file on disk drifts.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export function deriveSqlite(canonical) {
  const out = canonical
    .replace(/^\/\/ agentboard — the canonical data model\.[\s\S]*?\n\n/m, "// GENERATED from prisma/schema.prisma by `npm run db:derive` — do not edit.\n\n")
    .replace('output       = "../packages/db/src/generated/postgresql"', 'output       = "../../packages/db/src/generated/sqlite"')
    .replace('provider = "postgresql"', 'provider = "sqlite"')
    // A field or index that only PostgreSQL has, with the doc comment above it.
    .replace(/^(?:[ \t]*\/\/\/.*\n)*.*\/\/ postgresql only\n/gm, "");
  return out;
}

export const variants = [{ path: join(here, "sqlite/schema.prisma"), derive: deriveSqlite }];

if (import.meta.url === `file://${process.argv[1]}`) {
  const canonical = readFileSync(join(here, "schema.prisma"), "utf8");
  const check = process.argv.includes("--check");
  let drift = false;
  for (const v of variants) {
    const want = v.derive(canonical);
    if (check) {
      let have = "";
      try {
        have = readFileSync(v.path, "utf8");
      } catch {}
      if (have !== want) {
        console.error(`drift: ${v.path}`);
        drift = true;
      }
    } else {
      mkdirSync(dirname(v.path), { recursive: true });
      writeFileSync(v.path, want);
      console.log(`wrote ${v.path}`);
    }
  }
  process.exit(drift ? 1 : 0);
}
