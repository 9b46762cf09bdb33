import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const prismaDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../../prisma");

describe("provider schemas", () => {
  it("the SQLite schema is exactly what `npm run db:derive` makes of the canonical one", async () => {
    const { deriveSqlite } = (await import(resolve(prismaDir, "derive-schemas.mjs"))) as { deriveSqlite: (s: string) => string };
    const canonical = readFileSync(resolve(prismaDir, "schema.prisma"), "utf8");
    const onDisk = readFileSync(resolve(prismaDir, "sqlite/schema.prisma"), "utf8");
    expect(onDisk).toBe(deriveSqlite(canonical));
    expect(onDisk).toContain('provider = "sqlite"');
  });

  it("each provider's latest migration snapshot matches the current schema's models", () => {
    // The migration tooling stores the datamodel each migration produces; a schema edit
    // without a new migration shows up here.
    const strip = (s: string) =>
      s
        .replace(/^\s*\/\/.*$/gm, "")
        .replace(/generator client \{[\s\S]*?\}/, "")
        .replace(/datasource db \{[\s\S]*?\}/, "")
        .replace(/\s+/g, " ")
        .trim();
    for (const dir of ["migrations", "sqlite/migrations"]) {
      const root = resolve(prismaDir, dir);
      const latest = latestSnapshot(root);
      const schema = readFileSync(resolve(prismaDir, dir === "migrations" ? "schema.prisma" : "sqlite/schema.prisma"), "utf8");
      expect(strip(latest), dir).toBe(strip(schema));
    }
  });
});

function latestSnapshot(root: string): string {
  const names = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return readFileSync(resolve(root, names.at(-1)!, "schema.snapshot.prisma"), "utf8");
}
