import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * What a program (or a runner on a second machine) gets when it installs
 * `@agentboard/client` and `@agentboard/runner`: their production dependencies, followed
 * recursively through the packages npm installed here (workspace packages through their
 * node_modules links). The server's engines stay out: no Prisma, no SQLite driver, no Next.js.
 */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SERVER_ONLY = /^(prisma|@prisma\/.*|better-sqlite3|next|@next\/.*|pg|@agentboard\/(api|db|web))$/;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The directory of `name` as Node would find it from `fromDir`: the nearest node_modules/name. */
function packageDir(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/** Every package in the production closure of `roots`, each with the chain that brought it in. */
function productionClosure(roots: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visited = new Set<string>();
  const visit = (dir: string, chain: string[]) => {
    if (visited.has(dir)) return;
    visited.add(dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;
    const names = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
      // npm installs peer dependencies unless they are marked optional.
      ...Object.keys(manifest.peerDependencies ?? {}).filter((n) => !manifest.peerDependenciesMeta?.[n]?.optional),
    ];
    for (const name of names) {
      const next = [...chain, name];
      if (!seen.has(name)) seen.set(name, next);
      const found = packageDir(name, dir);
      // An optional dependency for another platform is legitimately absent.
      if (found) visit(found, next);
      else if (!(name in (manifest.optionalDependencies ?? {}))) throw new Error(`${next.join(" → ")} is not installed`);
    }
  };
  for (const root of roots) {
    const dir = packageDir(root, ROOT);
    if (!dir) throw new Error(`${root} is not installed`);
    seen.set(root, [root]);
    visit(dir, [root]);
  }
  return seen;
}

describe("a runner-only install", () => {
  const closure = productionClosure(["@agentboard/client", "@agentboard/runner"]);

  it("walks the real dependency graph (the check can see what it forbids)", () => {
    // The same walk from the server's packages does find the engines: the pattern matches.
    const server = productionClosure(["@agentboard/web"]);
    expect([...server.keys()].filter((n) => SERVER_ONLY.test(n))).toEqual(expect.arrayContaining(["@prisma/client", "better-sqlite3", "next"]));
    expect(closure.has("@trpc/client")).toBe(true);
    expect(closure.has("simple-git")).toBe(true);
  });

  it("brings neither Prisma, a database driver, Next.js nor the server's packages", () => {
    const offenders = [...closure].filter(([name]) => SERVER_ONLY.test(name)).map(([, chain]) => chain.join(" → "));
    expect(offenders).toEqual([]);
  });
});
