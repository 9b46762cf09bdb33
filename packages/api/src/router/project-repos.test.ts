import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { git, initRepo, testProviders } from "@agentboard/testkit";
import { seedBoard, seedRepo, startTestApi, type Caller, type TestApi } from "../testing/harness.js";

/**
 * A project's repository is confined: inside a root the server's administrator declared,
 * a repository's top level, and one workspace's only; a local remote is held to the same.
 */

async function refusal(p: Promise<unknown>): Promise<{ code: string; field?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    const cause = err.cause as { details?: { field?: string }; issues?: { path: PropertyKey[] }[] } | undefined;
    return { code: err.code, field: cause?.details?.field ?? cause?.issues?.[0]?.path.join("."), message: err.message };
  }
  throw new Error("expected the call to be refused");
}

describe.each(testProviders)("project repositories on %s", (provider) => {
  let api: TestApi;
  let x: Awaited<ReturnType<typeof seedBoard>>;
  let y: Awaited<ReturnType<typeof seedBoard>>;
  let xAdmin: Caller;
  let outside: string;
  let extraRoot: string;

  beforeAll(async () => {
    outside = realpathSync(mkdtempSync(join(tmpdir(), "agentboard-outside-")));
    extraRoot = realpathSync(mkdtempSync(join(tmpdir(), "agentboard-extra-root-")));
    api = await startTestApi(provider, { repoRoots: [extraRoot] });
    x = await seedBoard(api, "x");
    y = await seedBoard(api, "y");
    xAdmin = await api.as("admin", x.workspace.id);
  });
  afterAll(async () => {
    await api.close();
    rmSync(outside, { recursive: true, force: true });
    rmSync(extraRoot, { recursive: true, force: true });
  });

  const create = (repoPath: string, remoteUrl?: string) =>
    xAdmin.project.create({ workspaceId: x.workspace.id, name: "p", repoPath, baseBranch: "main", remoteUrl });

  it("refuses another workspace's repository, by path and as a file:// remote", async () => {
    const before = await api.core.deps.db.prisma.project.count();
    expect(await refusal(create(y.project.repoPath))).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    expect(await refusal(xAdmin.project.update({ projectId: x.project.id, repoPath: y.project.repoPath }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "repoPath",
    });
    const own = seedRepo(api, "x-second");
    expect(await refusal(create(own, pathToFileURL(y.project.repoPath).href))).toMatchObject({ code: "BAD_REQUEST", field: "remoteUrl" });
    expect(await refusal(create(own, pathToFileURL(join(y.project.repoPath, ".git")).href))).toMatchObject({ code: "BAD_REQUEST", field: "remoteUrl" });
    // Nothing was written, and X's project still points at X's repository.
    expect(await api.core.deps.db.prisma.project.count()).toBe(before);
    expect((await api.admin.project.byId({ projectId: x.project.id })).repoPath).toBe(x.project.repoPath);
  });

  it("refuses a directory inside a repository: it would silently mean the enclosing one", async () => {
    const repo = seedRepo(api, "nested");
    mkdirSync(join(repo, "src"), { recursive: true });
    const answer = await refusal(create(join(repo, "src")));
    expect(answer).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    expect(answer.message).toContain("top level");
  });

  it("refuses what is outside the roots, also through a symlink, and what does not exist", async () => {
    const stray = initRepo(join(outside, "stray"), { "a.txt": "a\n" });
    expect(await refusal(create(stray))).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    const link = join(api.db.dir, "repos", "escape");
    symlinkSync(stray, link);
    expect(await refusal(create(link))).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    expect(await refusal(create(join(api.db.dir, "repos", "missing")))).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    expect(await refusal(create(seedRepo(api, "x-third"), pathToFileURL(stray).href))).toMatchObject({ code: "BAD_REQUEST", field: "remoteUrl" });
  });

  it("accepts a repository under a configured root, stored by its real path, with a local remote inside the roots", async () => {
    const repo = initRepo(join(extraRoot, "app"), { "a.txt": "a\n" });
    const bare = join(extraRoot, "app.git");
    git(extraRoot, "clone", "-q", "--bare", repo, bare);
    const link = join(extraRoot, "app-link");
    symlinkSync(repo, link);
    const project = await create(link, pathToFileURL(bare).href);
    expect(project.repoPath).toBe(repo);
  });

  it("refuses a remote that does not answer as a repository, or lacks the base branch, on its field", async () => {
    const repo = seedRepo(api, "x-remote");
    const before = await api.core.deps.db.prisma.project.count();
    // A directory inside the roots that is no repository.
    const empty = join(extraRoot, "not-a-repo");
    mkdirSync(empty, { recursive: true });
    const notRepo = await refusal(create(repo, pathToFileURL(empty).href));
    expect(notRepo).toMatchObject({ code: "BAD_REQUEST", field: "remoteUrl" });
    expect(notRepo.message).toContain("did not answer as a git repository");
    // A real HTTP server that is no git host, and a port nothing listens on.
    const http = createServer((_req, res) => res.writeHead(404).end("no such repository"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    try {
      expect(await refusal(create(repo, `http://127.0.0.1:${port}/team/app.git`))).toMatchObject({ code: "BAD_REQUEST", field: "remoteUrl" });
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
    expect(await refusal(create(repo, `http://127.0.0.1:${port}/team/app.git`))).toMatchObject({ code: "BAD_REQUEST", field: "remoteUrl" });
    // A repository without the branch the project names.
    const bare = join(extraRoot, "x-remote.git");
    git(extraRoot, "clone", "-q", "--bare", repo, bare);
    git(bare, "branch", "-m", "main", "trunk");
    const noBranch = await refusal(create(repo, pathToFileURL(bare).href));
    expect(noBranch).toMatchObject({ code: "BAD_REQUEST", field: "baseBranch" });
    expect(noBranch.message).toContain("has no branch main");
    expect(await api.core.deps.db.prisma.project.count()).toBe(before);

    // At edit: a working remote is kept, a bad one refused and nothing changed.
    git(bare, "branch", "trunk-copy", "trunk");
    git(bare, "branch", "-m", "trunk-copy", "main");
    const project = await create(repo, pathToFileURL(bare).href);
    expect(project.remoteUrl).toBe(pathToFileURL(bare).href);
    expect(await refusal(xAdmin.project.update({ projectId: project.id, remoteUrl: pathToFileURL(empty).href }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "remoteUrl",
    });
    expect(await refusal(xAdmin.project.update({ projectId: project.id, baseBranch: "develop" }))).toMatchObject({ code: "BAD_REQUEST", field: "baseBranch" });
    expect((await xAdmin.project.byId({ projectId: project.id })).remoteUrl).toBe(pathToFileURL(bare).href);
    // Saving other fields does not ask the remote again; removing the remote is allowed.
    expect((await xAdmin.project.update({ projectId: project.id, testCommand: "true" })).testCommand).toBe("true");
    expect((await xAdmin.project.update({ projectId: project.id, remoteUrl: null })).remoteUrl).toBeNull();
  });
});
