import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../testing.js";
import { openWorkspace, resolveInWorkspace, type Workspace } from "./paths.js";
import { ToolError } from "./tool-error.js";

let base: string;
let root: string;
let outside: string;
let ws: Workspace;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir: base, cleanup } = await makeTempDir("paths"));
  root = path.join(base, "wt");
  outside = path.join(base, "outside");
  await mkdir(path.join(root, "src"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, "src/a.ts"), "a");
  ws = await openWorkspace(root);
});
afterEach(async () => {
  await cleanup();
});

async function refused(input: string): Promise<string> {
  const err = await resolveInWorkspace(ws, input).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ToolError);
  return (err as ToolError).message;
}

describe("resolveInWorkspace", () => {
  it("accepts relative and absolute paths inside, existing or not", async () => {
    expect(await resolveInWorkspace(ws, "src/a.ts")).toBe(path.join(root, "src/a.ts"));
    expect(await resolveInWorkspace(ws, "./src/../src/a.ts")).toBe(path.join(root, "src/a.ts"));
    expect(await resolveInWorkspace(ws, path.join(root, "new/dir/file.ts"))).toBe(path.join(root, "new/dir/file.ts"));
    expect(await resolveInWorkspace(ws, ".")).toBe(root);
  });

  it("accepts the worktree reached through a symlinked path, and links that stay inside", async () => {
    const alias = path.join(base, "alias");
    await symlink(root, alias);
    const aliased = await openWorkspace(alias);
    expect(await resolveInWorkspace(aliased, path.join(alias, "src/a.ts"))).toBe(path.join(root, "src/a.ts"));
    await symlink("src", path.join(root, "code"));
    expect(await resolveInWorkspace(ws, "code/a.ts")).toBe(path.join(root, "src/a.ts"));
    await symlink("src/later.ts", path.join(root, "later"));
    expect(await resolveInWorkspace(ws, "later")).toBe(path.join(root, "src/later.ts"));
  });

  it("refuses .. escapes, absolute paths outside and escaping symlinks", async () => {
    expect(await refused("../outside/x")).toMatch(/outside the worktree/);
    expect(await refused("src/../../x")).toMatch(/outside the worktree/);
    expect(await refused("/etc/passwd")).toMatch(/outside the worktree/);
    await symlink(outside, path.join(root, "out"));
    expect(await refused("out/new-file")).toMatch(/symlink/);
    await symlink(path.join(outside, "target"), path.join(root, "dangling"));
    expect(await refused("dangling")).toMatch(/symlink/);
    await symlink("../../outside", path.join(root, "src/rel"));
    expect(await refused("src/rel/x/y")).toMatch(/symlink/);
    await symlink("loop2", path.join(root, "loop1"));
    await symlink("loop1", path.join(root, "loop2"));
    expect(await refused("loop1")).toMatch(/symlink/);
    expect(await refused("")).toMatch(/non-empty/);
  });
});
