import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeRunBranch } from "@agentboard/git";
import { testProviders } from "@agentboard/testkit";
import { followRunEvents } from "../services/streams.js";
import { CLEANUP_FIRST_RETRY_MS, finishPendingCleanups } from "../services/worktree-cleanup.js";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { branchExists, claimAndWork, complete, git, makeRepo, satisfyDod, type RepoFixture } from "../testing/git-runs.js";

/**
 * What a merge (or abort) does to the run's worktree and branch, and when others can see
 * it: whoever sees a run merged sees its cleanup done or the reason it is not, and what a
 * cleanup had to leave is finished by the sweep.
 */

describe.each(testProviders)("merge cleanup on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;
  let member: Caller;
  let workflowId: string;
  const fixtures: RepoFixture[] = [];

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id, "rig");
    member = await api.as("member", seed.workspace.id, "mia");
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "Reviewed",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "review", title: "Reviewed by a person", required: true }],
    });
    workflowId = wf.id;
  });
  afterAll(async () => {
    await api.close();
    for (const fx of fixtures) fx.cleanup();
  });

  async function succeededRun(title: string) {
    const fx = makeRepo(api);
    fixtures.push(fx);
    const project = await api.admin.project.create({ workspaceId: seed.workspace.id, name: `p-${fixtures.length}`, repoPath: fx.repo, baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title });
    const run = await member.run.create({ cardId: card.id, workflowId });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { [`${title.replace(/\W+/g, "-")}.txt`]: `${title}\n` } });
    await complete(runner, started);
    await satisfyDod(member, member, run.id);
    return { fx, run, started };
  }

  /** A lock file as git itself makes it: whoever holds it is updating that ref right now. */
  function holdRef(fx: RepoFixture, branch: string): () => void {
    const lock = path.join(fx.repo, ".git", "refs", "heads", `${branch}.lock`);
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${git(fx.repo, "rev-parse", branch)}\n`);
    return () => rmSync(lock, { force: true });
  }

  const retryDue = () => new Date(Date.now() + CLEANUP_FIRST_RETRY_MS + 1_000);

  it("whoever sees the run merged sees its worktree and branch gone: run.merged and run.cleaned land together", async () => {
    const { fx, run, started } = await succeededRun("Seen merged");
    // A worktree as runs leave them (dependencies installed): removing it takes a while,
    // which is the window in which the merge was visible while its branch still existed.
    for (let d = 0; d < 40; d++) {
      const dir = path.join(started.worktree, "node_modules", `m${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(path.join(dir, `f${f}.js`), "x");
    }

    const watcher = new AbortController();
    const seen = (async () => {
      // The run page's way of learning about the merge: the run's event stream.
      for await (const e of followRunEvents(api.core.deps, run.id, 0, watcher.signal)) {
        if (e.type === "run.merged") return { branch: branchExists(fx.repo, started.branch), worktree: existsSync(started.worktree) };
      }
      return null;
    })();
    const result = await api.admin.run.merge({ runId: run.id });
    const atMerged = await seen;
    watcher.abort();

    expect(result.cleanup).toMatchObject({ pending: false, branch: { deleted: true }, worktrees: [expect.objectContaining({ outcome: "removed" })] });
    expect(atMerged).toEqual({ branch: false, worktree: false });
    const events = await api.admin.run.events({ runId: run.id });
    const merged = events.find((e) => e.type === "run.merged")!;
    const cleaned = events.find((e) => e.type === "run.cleaned")!;
    expect(cleaned.seq).toBe(merged.seq + 1);
    expect(cleaned.payload).toMatchObject({ pending: false, branch: { name: started.branch, deleted: true } });
    expect((await api.core.deps.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).cleanupRetryAt).toBeNull();
  });

  it("a branch still held by the runner's last git step: the answer and run.cleaned say so, and the sweep finishes the job", async () => {
    const { fx, run, started } = await succeededRun("Held branch");
    const release = holdRef(fx, started.branch);

    const result = await api.admin.run.merge({ runId: run.id });
    expect(result.run.status).toBe("merged");
    expect(result.cleanup).toMatchObject({
      pending: true,
      worktrees: [expect.objectContaining({ outcome: "removed" })],
      branch: { name: started.branch, deleted: false, kept: "failed", error: expect.stringContaining(".lock") },
    });
    expect(branchExists(fx.repo, started.branch)).toBe(true);
    const cleaned = (await api.admin.run.events({ runId: run.id })).filter((e) => e.type === "run.cleaned");
    expect(cleaned).toHaveLength(1);
    expect(cleaned[0]!.payload).toMatchObject({ pending: true, branch: { kept: "failed" } });
    const marked = (await api.core.deps.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).cleanupRetryAt;
    expect(marked).toBeInstanceOf(Date);

    // Not due yet: nothing happens.
    expect(await finishPendingCleanups(api.core.deps)).toEqual({ finished: [], left: [] });
    // Due, but still held: nothing changes, no new event, the next try moves on.
    expect(await finishPendingCleanups(api.core.deps, { now: retryDue() })).toEqual({ finished: [], left: [run.id] });
    expect((await api.admin.run.events({ runId: run.id })).filter((e) => e.type === "run.cleaned")).toHaveLength(1);
    const moved = (await api.core.deps.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).cleanupRetryAt!;
    expect(moved.getTime()).toBeGreaterThan(marked!.getTime());

    release();
    expect(await finishPendingCleanups(api.core.deps, { now: new Date(moved.getTime() + 1) })).toEqual({ finished: [run.id], left: [] });
    expect(branchExists(fx.repo, started.branch)).toBe(false);
    const last = (await api.admin.run.events({ runId: run.id })).at(-1)!;
    expect(last).toMatchObject({ type: "run.cleaned", actor: "system:sweeper", payload: { pending: false, branch: { deleted: true } } });
    expect((await api.core.deps.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).cleanupRetryAt).toBeNull();
  });

  it("a worktree git refuses to remove keeps the branch checked out there: both reasons are reported, then finished", async () => {
    const { fx, run, started } = await succeededRun("Locked worktree");
    git(fx.repo, "worktree", "lock", "--reason", "still in use", started.worktree);

    const result = await api.admin.run.merge({ runId: run.id });
    expect(result.cleanup).toMatchObject({
      pending: true,
      worktrees: [expect.objectContaining({ path: started.worktree, outcome: "failed", error: expect.stringContaining("locked") })],
      branch: { deleted: false, kept: "checked-out", checkedOutAt: started.worktree },
    });
    const row = await api.core.deps.db.prisma.worktree.findFirstOrThrow({ where: { runId: run.id } });
    expect(row.removedAt).toBeNull();

    git(fx.repo, "worktree", "unlock", started.worktree);
    expect(await finishPendingCleanups(api.core.deps, { now: retryDue() })).toEqual({ finished: [run.id], left: [] });
    expect(existsSync(started.worktree)).toBe(false);
    expect(branchExists(fx.repo, started.branch)).toBe(false);
    expect((await api.core.deps.db.prisma.worktree.findFirstOrThrow({ where: { runId: run.id } })).removedAt).toBeInstanceOf(Date);
  });

  it("an abort whose branch is held by the runner's last steps is finished by the sweep too", async () => {
    const fx = makeRepo(api);
    fixtures.push(fx);
    const project = await api.admin.project.create({ workspaceId: seed.workspace.id, name: `p-${fixtures.length}`, repoPath: fx.repo, baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title: "Aborted while committing" });
    const run = await member.run.create({ cardId: card.id, workflowId });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "partial.txt": "p\n" } });
    // The runner, told to stop, is committing the partial work: it holds the branch's ref.
    const release = holdRef(fx, started.branch);
    const aborted = await member.run.abort({ runId: run.id, reason: "wrong card" });
    expect(aborted.cleanup).toMatchObject({ pending: true, branch: { kept: "failed" } });
    release();
    expect(await finishPendingCleanups(api.core.deps, { now: retryDue() })).toEqual({ finished: [run.id], left: [] });
    expect(branchExists(fx.repo, started.branch)).toBe(false);
  });

  it("a merge whose branch was deleted before its record was written is recorded again from the merge commit's trailer", async () => {
    const { fx, run, started } = await succeededRun("Lost record");
    // What the server did before it stopped: merged (with the trailer), removed the worktree, deleted the branch.
    const landed = await mergeRunBranch({
      repoPath: fx.repo,
      baseBranch: "main",
      branch: started.branch,
      message: `Merge\n\nAgentboard-Run: ${run.id}\nMerged-by: admin:bootstrap`,
    });
    git(fx.repo, "worktree", "remove", "--force", started.worktree);
    git(fx.repo, "branch", "-D", started.branch);

    expect((await api.admin.run.mergeability({ runId: run.id })).canMerge).toBe(true);
    const result = await api.admin.run.merge({ runId: run.id });
    expect(result.merge).toMatchObject({ status: "already-merged", mergeCommit: landed.mergeCommit, parents: landed.parents });
    expect(result.run).toMatchObject({ status: "merged", mergeCommit: landed.mergeCommit });
    expect(result.cleanup).toMatchObject({ pending: false, branch: { deleted: false, kept: "missing" } });
    expect(git(fx.repo, "rev-parse", "main")).toBe(landed.mergeCommit);

    // A branch that is gone without a merge is still BRANCH_MISSING.
    const other = await succeededRun("Really missing");
    git(other.fx.repo, "worktree", "remove", "--force", other.started.worktree);
    git(other.fx.repo, "branch", "-D", other.started.branch);
    await expect(api.admin.run.merge({ runId: other.run.id })).rejects.toMatchObject({ cause: { reason: "BRANCH_MISSING" } });
  });
});
