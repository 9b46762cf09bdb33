import { existsSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { claimAndWork, commitOnMain, complete, makeRepo, type RepoFixture } from "../testing/git-runs.js";

/**
 * Re-verification at merge time runs repository code — the project's setup script and the
 * workflow's checks — and that code is hostile here: it tries to read the server's data
 * directory (the database file, the admin token), the server's environment through /proc,
 * a secret in the server's environment (one the project even declares for its runs), the
 * run's own worktree on the server, and to write into the data directory. It gets nothing,
 * and an honest check still decides the merge.
 */

const SECRET_NAME = "STRIPE_SK";

async function failure(p: Promise<unknown>): Promise<{ reason?: string; details?: Record<string, unknown> | null }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    const cause = err.cause as { reason?: string; details?: Record<string, unknown> } | undefined;
    return { reason: cause?.reason, details: cause?.details ?? null };
  }
  throw new Error("expected the call to fail");
}

describe.each(testProviders)("re-verification runs confined on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;
  const fixtures: RepoFixture[] = [];
  const secret = `sk_live_reverify_${process.pid}_${Date.now()}`;
  let before: string | undefined;

  beforeAll(async () => {
    // The server is this process: a secret in its environment is one a check must not see.
    before = process.env[SECRET_NAME];
    process.env[SECRET_NAME] = secret;
    api = await startTestApi(provider, { repoRoots: [realpathSync(tmpdir())] });
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id, "rig");
  });
  afterAll(async () => {
    if (before === undefined) delete process.env[SECRET_NAME];
    else process.env[SECRET_NAME] = before;
    await api.close();
    for (const fx of fixtures) fx.cleanup();
  });

  async function succeededRun(check: string, setupScript?: string) {
    const fx = makeRepo();
    fixtures.push(fx);
    const project = await api.admin.project.create({
      workspaceId: seed.workspace.id,
      name: `p-${fixtures.length}`,
      repoPath: fx.repo,
      baseBranch: "main",
      ...(setupScript ? { setupScript } : {}),
      sandbox: { secrets: [SECRET_NAME] },
    });
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: `Checked ${fixtures.length}`,
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "integrated", title: "The project's check", required: true, check, autoValidate: true }],
    });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title: "Checked change" });
    const run = await api.admin.run.create({ cardId: card.id, workflowId: wf.id });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "c.txt": "c\n" } });
    const item = started.checks.find((c) => c.key === "integrated")!;
    await runner.dod.reportCheck({ runId: run.id, leaseToken: started.leaseToken, itemId: item.id, command: item.check!, exitCode: 0, durationMs: 12, output: "ok\n" });
    await complete(runner, started);
    return { fx, run, started };
  }

  it("a hostile check reads nothing of the server, writes nothing of it, and its failure still blocks the merge", async () => {
    const dataDir = api.db.dir;
    const adminToken = readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
    const hostile = (worktree: string) =>
      [
        'echo "H0 who: $(id -un) on $(hostname)"',
        `echo "H1 data dir: $(ls -a ${dataDir} 2>&1)"`,
        `echo "H2 admin token: $(cat ${dataDir}/admin-token 2>&1)"`,
        `echo "H3 database: $(head -c 200 ${dataDir}/*.db 2>&1 | tr -dc '[:print:]')"`,
        `echo "H4 server environ: $(cat /proc/${process.pid}/environ 2>&1 | tr '\\0' ' ')"`,
        `echo "H5 secret: [\${${SECRET_NAME}:-}]"`,
        'echo "H6 environment:"; env',
        `echo "H7 run worktree: $(ls ${worktree} 2>&1)"`,
        `echo pwned > ${dataDir}/pwned 2>&1; echo "H8 write data dir: $?"`,
        'echo "H9 the end"',
        "exit 1",
      ].join("\n");
    // Another run's worktree on the server, for the check to look for.
    const other = await succeededRun("true");
    const { run } = await succeededRun(hostile(other.started.worktree));
    expect(existsSync(other.started.worktree)).toBe(true);

    const f = await failure(api.admin.run.merge({ runId: run.id, reverify: true }));
    expect(f.reason).toBe("REVERIFY_FAILED");
    const [failed] = f.details?.failed as Array<{ key: string; exitCode: number; output: string }>;
    expect(failed).toMatchObject({ key: "integrated", exitCode: 1 });
    const out = failed!.output;
    expect(out).toContain("H9 the end");
    // It ran as the sandbox's unprivileged user in its own namespaces, not as the server.
    expect(out).toMatch(/H0 who: agent on sandbox/);
    expect(out).toMatch(/H1 data dir: ls: cannot access .*No such file or directory/);
    expect(out).toMatch(/H2 admin token: cat: .*No such file or directory/);
    expect(out).toMatch(/H3 database: head: cannot open/);
    expect(out).toMatch(/H4 server environ: .*(No such file or directory|Permission denied)/);
    expect(out).toContain("H5 secret: []");
    expect(out).toMatch(/H7 run worktree: ls: cannot access .*No such file or directory/);
    expect(out).toMatch(/H8 write data dir: [1-9]/);
    // Nothing of the server's: not the token, not the secret, not its database settings.
    for (const leaked of [adminToken, secret, "DATABASE_URL"]) expect(out).not.toContain(leaked);
    const env = out.slice(out.indexOf("H6 environment:"), out.indexOf("H7 "));
    expect(env).toContain("AGENTBOARD_REVERIFY=1");
    expect(env).not.toContain(SECRET_NAME);
    expect(existsSync(path.join(dataDir, "pwned"))).toBe(false);
    expect((await api.admin.run.byId({ runId: run.id })).status).toBe("succeeded");
  });

  it("an honest check on the integrated state still blocks a merge that would break, and lets the fixed one through", async () => {
    const { fx, run } = await succeededRun("test ! -e BROKEN && git status --porcelain >/dev/null && git log -1 --format=%s", "echo set up > .setup-ran");
    commitOnMain(fx.repo, { BROKEN: "yes\n" }, "break it");
    const f = await failure(api.admin.run.merge({ runId: run.id, reverify: true }));
    expect(f.reason).toBe("REVERIFY_FAILED");
    commitOnMain(fx.repo, { BROKEN: null }, "fix it");
    const ok = await api.admin.run.merge({ runId: run.id, reverify: true });
    expect(ok.reverify).toMatchObject({ passed: true, setup: { exitCode: 0 }, checks: [expect.objectContaining({ key: "integrated", exitCode: 0 })] });
    // Git works inside (the check read the integrated commit's message).
    expect(ok.reverify?.checks[0]?.output).toContain("Verify");
    expect(ok.run.status).toBe("merged");
  });
});
