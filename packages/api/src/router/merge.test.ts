import { existsSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { reapExpiredLeases } from "../services/reaper.js";
import { sweepStaleWorktrees } from "../services/worktrees.js";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { branchExists, claimAndWork, commitOnMain, complete, git, makeRepo, satisfyDod, type RepoFixture } from "../testing/git-runs.js";
import { failure } from "../testing/failures.js";

/** Merge, abort and worktrees against real git repositories, on every provider. */

describe.each(testProviders)("merge and abort on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;
  let member: Caller;
  let reviewWorkflowId: string;
  const fixtures: RepoFixture[] = [];

  beforeAll(async () => {
    // The fixtures' repositories are made in the system's temporary directory.
    api = await startTestApi(provider, { repoRoots: [realpathSync(tmpdir())] });
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
    reviewWorkflowId = wf.id;
  });
  afterAll(async () => {
    await api.close();
    for (const fx of fixtures) fx.cleanup();
  });

  function repo() {
    const fx = makeRepo();
    fixtures.push(fx);
    return fx;
  }

  /** A card of a project whose repository is no longer on this server (as a remote runner's would be). */
  async function cardWithoutRepository(title: string) {
    const fx = repo();
    const project = await projectFor(fx);
    rmSync(fx.repo, { recursive: true, force: true });
    return api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title });
  }

  async function projectFor(fx: RepoFixture, extra: { setupScript?: string } = {}) {
    return api.admin.project.create({ workspaceId: seed.workspace.id, name: `p-${fixtures.length}`, repoPath: fx.repo, baseBranch: "main", ...extra });
  }

  async function newRun(projectId: string, title: string, workflowId = reviewWorkflowId) {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId, title });
    const run = await member.run.create({ cardId: card.id, workflowId });
    return { card, run };
  }

  /** A succeeded run whose branch carries `files`, with its worktree left in place. */
  async function succeededRun(fx: RepoFixture, projectId: string, title: string, files: Record<string, string | null>, workflowId?: string) {
    const { card, run } = await newRun(projectId, title, workflowId);
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files });
    await complete(runner, started);
    return { card, run, started };
  }

  it("merges with --no-ff: a two-parent commit on main, run merged, card in Done, worktree and branch gone", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { card, run, started } = await succeededRun(fx, project.id, "Add feature", { "src/feature.ts": "export const f = 1;\n" });
    const mainBefore = git(fx.repo, "rev-parse", "main");
    const branchTip = git(fx.repo, "rev-parse", started.branch);
    await satisfyDod(member, member, run.id);

    const result = await api.admin.run.merge({ runId: run.id });
    expect(result.merge?.status).toBe("merged");
    const parents = git(fx.repo, "rev-list", "--parents", "-n", "1", "main").split(" ");
    expect(parents).toEqual([result.merge?.mergeCommit, mainBefore, branchTip]);
    expect(git(fx.repo, "show", "main:src/feature.ts")).toBe("export const f = 1;");
    expect(git(fx.repo, "log", "-1", "--format=%B", "main")).toContain("Merged-by: admin:bootstrap");

    const after = await api.admin.run.byId({ runId: run.id });
    expect(after).toMatchObject({ status: "merged", mergedBy: "admin:bootstrap", mergeCommit: result.merge?.mergeCommit });
    expect(after.mergedAt).toBeInstanceOf(Date);
    expect((await api.admin.card.byId({ cardId: card.id })).column).toBe("done");

    expect(existsSync(started.worktree)).toBe(false);
    expect(branchExists(fx.repo, started.branch)).toBe(false);
    const rows = await api.core.deps.db.prisma.worktree.findMany({ where: { runId: run.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.removedAt).toBeInstanceOf(Date);

    const events = await api.admin.run.events({ runId: run.id });
    const merged = events.find((e) => e.type === "run.merged")!;
    expect(merged.actor).toBe("admin:bootstrap");
    expect(merged.payload).toMatchObject({ by: "admin:bootstrap", mergeCommit: result.merge?.mergeCommit, parents: [mainBefore, branchTip] });
    expect(events.map((e) => e.type)).toContain("run.cleaned");

    // Merging again is refused: the run is already merged.
    expect(await failure(api.admin.run.merge({ runId: run.id }))).toMatchObject({ code: "CONFLICT", reason: "INVALID_STATE" });
  });

  it("the gate blocks an incomplete DoD with DOD_INCOMPLETE listing what is missing; mergeability says the same", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    // The default workflow: tests + review, both required.
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title: "Gate" });
    const run = await member.run.create({ cardId: card.id });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "gate.txt": "x\n" } });
    await complete(runner, started);
    const detail = await api.admin.run.byId({ runId: run.id });
    const tests = detail.dodItems.find((i) => i.key === "tests")!;
    const { evidence } = await member.dod.addEvidence({ runId: run.id, itemId: tests.id, kind: "text", payload: { text: "142 passed" } });
    await member.dod.validate({ evidenceId: evidence.id });
    // Unvalidated evidence does not count.
    await member.dod.addEvidence({ runId: run.id, itemKey: "review", kind: "url", payload: { url: "https://example.com/review/1" } });

    const mainBefore = git(fx.repo, "rev-parse", "main");
    const f = await failure(api.admin.run.merge({ runId: run.id }));
    expect(f).toMatchObject({ code: "CONFLICT", reason: "DOD_INCOMPLETE" });
    expect(f.details?.missing).toEqual([expect.objectContaining({ key: "review", title: "Change reviewed by a person", status: "done" })]);
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainBefore);

    const m = await api.admin.run.mergeability({ runId: run.id });
    expect(m.canMerge).toBe(false);
    expect(m.reasons.map((r) => r.reason)).toEqual(["DOD_INCOMPLETE"]);
    expect(m.missing.map((x) => x.key)).toEqual(["review"]);
    const asMember = await member.run.mergeability({ runId: run.id });
    expect(asMember.reasons.map((r) => r.reason)).toEqual(["FORBIDDEN", "DOD_INCOMPLETE"]);
    expect(asMember.canAbort).toBe(true);

    // A member cannot merge, even with the gate satisfied.
    await satisfyDod(member, member, run.id);
    expect((await api.admin.run.mergeability({ runId: run.id })).canMerge).toBe(true);
    expect(await failure(member.run.merge({ runId: run.id }))).toMatchObject({ code: "FORBIDDEN" });
    const viewer = await api.as("viewer", seed.workspace.id);
    expect(await failure(viewer.run.merge({ runId: run.id }))).toMatchObject({ code: "FORBIDDEN" });
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainBefore);
    expect((await api.admin.run.merge({ runId: run.id })).run.status).toBe("merged");
  });

  it("refuses to merge a run that has not succeeded", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { run } = await newRun(project.id, "Not yet");
    await satisfyDod(member, member, run.id);
    const f = await failure(api.admin.run.merge({ runId: run.id }));
    expect(f).toMatchObject({ code: "CONFLICT", reason: "INVALID_STATE", details: { status: "queued" } });
    const m = await api.admin.run.mergeability({ runId: run.id });
    expect(m.reasons.map((r) => r.reason)).toEqual(["INVALID_STATE"]);
  });

  it("a missing branch or a repository that is not on this server blocks the merge with its own reason", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { run, started } = await succeededRun(fx, project.id, "Branch vanishes", { "v.txt": "v\n" });
    await satisfyDod(member, member, run.id);
    git(fx.repo, "worktree", "remove", "--force", started.worktree);
    git(fx.repo, "branch", "-D", started.branch);
    expect(await failure(api.admin.run.merge({ runId: run.id }))).toMatchObject({ code: "CONFLICT", reason: "BRANCH_MISSING" });
    expect((await api.admin.run.mergeability({ runId: run.id })).reasons.map((r) => r.reason)).toEqual(["BRANCH_MISSING"]);

    const remote = await member.run.create({ cardId: (await cardWithoutRepository("Remote")).id, workflowId: reviewWorkflowId });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: remote.id });
    await runner.run.complete({ runId: remote.id, leaseToken: claim!.leaseToken, status: "succeeded" });
    await satisfyDod(member, member, remote.id);
    expect(await failure(api.admin.run.merge({ runId: remote.id }))).toMatchObject({ code: "CONFLICT", reason: "REPOSITORY_UNAVAILABLE" });
    expect((await api.admin.run.mergeability({ runId: remote.id })).reasons.map((r) => r.reason)).toEqual(["REPOSITORY_UNAVAILABLE"]);
  });

  it("a conflict answers MERGE_CONFLICT with the files and leaves the base branch untouched", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { run, started } = await succeededRun(fx, project.id, "Edit readme", { "README.md": "# demo\n\nline two, by the agent\n" });
    await satisfyDod(member, member, run.id);
    const mainTip = commitOnMain(fx.repo, { "README.md": "# demo\n\nline two, by a human\n" }, "human edit");

    const f = await failure(api.admin.run.merge({ runId: run.id }));
    expect(f).toMatchObject({ code: "CONFLICT", reason: "MERGE_CONFLICT", details: { files: ["README.md"] } });
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainTip);
    expect(git(fx.repo, "status", "--porcelain")).toBe("");
    expect((await api.admin.run.byId({ runId: run.id })).status).toBe("succeeded");
    expect(existsSync(started.worktree)).toBe(true);
    expect(branchExists(fx.repo, started.branch)).toBe(true);
    const events = await api.admin.run.events({ runId: run.id });
    expect(events.at(-1)).toMatchObject({ type: "run.merge_conflict", payload: { files: ["README.md"] } });
  });

  it("two concurrent merges into one repository are serialized and both land", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const a = await succeededRun(fx, project.id, "Feature A", { "a.txt": "a\n" });
    const b = await succeededRun(fx, project.id, "Feature B", { "b.txt": "b\n" });
    await satisfyDod(member, member, a.run.id);
    await satisfyDod(member, member, b.run.id);
    const mainBefore = git(fx.repo, "rev-parse", "main");

    const [ra, rb] = await Promise.all([api.admin.run.merge({ runId: a.run.id }), api.admin.run.merge({ runId: b.run.id })]);
    expect(ra.merge?.status).toBe("merged");
    expect(rb.merge?.status).toBe("merged");
    // One after the other: the second merge's first parent is the first merge.
    const merges = git(fx.repo, "rev-list", "--merges", "--first-parent", "main").split("\n");
    expect(merges).toHaveLength(2);
    const [second, first] = merges as [string, string];
    expect(git(fx.repo, "rev-parse", `${second}^1`)).toBe(first);
    expect(git(fx.repo, "rev-parse", `${first}^1`)).toBe(mainBefore);
    expect(new Set([ra.merge?.mergeCommit, rb.merge?.mergeCommit])).toEqual(new Set([first, second]));
    expect(git(fx.repo, "show", "main:a.txt")).toBe("a");
    expect(git(fx.repo, "show", "main:b.txt")).toBe("b");
  });

  it("cleanup: false keeps the worktree and the branch", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { run, started } = await succeededRun(fx, project.id, "Keep it", { "keep.txt": "k\n" });
    await satisfyDod(member, member, run.id);
    const result = await api.admin.run.merge({ runId: run.id, cleanup: false });
    expect(result.cleanup).toBeNull();
    expect(existsSync(started.worktree)).toBe(true);
    expect(branchExists(fx.repo, started.branch)).toBe(true);
    const listed = await api.admin.worktree.list({ workspaceId: seed.workspace.id });
    expect(listed.find((w) => w.runId === run.id)).toMatchObject({ status: "idle", removedAt: null });
  });

  it("re-verification is work for a runner: the merge waits, a failing report refuses it, a passing one on the same commits merges", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "Checked",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "integrated", title: "No BROKEN marker", required: true, check: "test ! -e BROKEN", autoValidate: true }],
    });
    const { run } = await newRun(project.id, "Checked change", wf.id);
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "c.txt": "c\n" } });
    const item = started.checks.find((c) => c.key === "integrated")!;
    const reported = await runner.dod.reportCheck({
      runId: run.id,
      leaseToken: started.leaseToken,
      itemId: item.id,
      command: item.check!,
      exitCode: 0,
      durationMs: 12,
      output: "ok\n",
    });
    expect(reported.autoValidated).toBe(true);
    await complete(runner, started);
    const branchTip = git(fx.repo, "rev-parse", started.branch);
    const mainTip = git(fx.repo, "rev-parse", "main");

    // The merge answers at once: a request waits for a runner; nothing is merged yet.
    const pending = await api.admin.run.merge({ runId: run.id, reverify: true });
    expect(pending).toMatchObject({
      status: "verifying",
      merge: null,
      verification: { status: "queued", baseCommit: mainTip, branchCommit: branchTip, attempt: 1 },
    });
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainTip);
    // Asking again is the same request.
    expect((await api.admin.run.merge({ runId: run.id, reverify: true })).verification?.id).toBe(pending.verification?.id);
    const waiting = await api.admin.run.mergeability({ runId: run.id });
    expect(waiting.canMerge).toBe(false);
    expect(waiting.reasons.map((r) => r.reason)).toContain("VERIFYING");
    expect(waiting.verification).toMatchObject({ status: "queued" });

    const claim = await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 });
    expect(claim).toMatchObject({
      verification: { id: pending.verification?.id, baseCommit: mainTip, branchCommit: branchTip },
      run: { id: run.id, branch: started.branch, baseBranch: "main" },
      checks: [expect.objectContaining({ key: "integrated", check: "test ! -e BROKEN", required: true })],
    });
    // Held: nobody else gets it.
    expect(await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 })).toBeNull();
    const lease = { runId: run.id, verificationId: claim!.verification.id, leaseToken: claim!.verification.leaseToken };
    await runner.run.heartbeatVerification(lease);
    const check = (exitCode: number) => ({
      key: "integrated",
      title: "No BROKEN marker",
      required: true,
      command: "test ! -e BROKEN",
      exitCode,
      passed: exitCode === 0,
      timedOut: false,
      durationMs: 5,
      output: exitCode ? "BROKEN is there\n" : "",
    });
    const head = "a".repeat(40);

    // A failing required check refuses the merge, with the evidence on the request and the run.
    const failed = await runner.run.completeVerification({ ...lease, baseCommit: mainTip, branchCommit: branchTip, head, setup: null, checks: [check(1)] });
    expect(failed).toMatchObject({
      status: "failed",
      reason: "REVERIFY_FAILED",
      report: { passed: false, checks: [expect.objectContaining({ key: "integrated", exitCode: 1, output: "BROKEN is there\n" })] },
    });
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainTip);
    expect((await api.admin.run.byId({ runId: run.id })).status).toBe("succeeded");
    const events = await api.admin.run.events({ runId: run.id });
    expect(events.at(-1)).toMatchObject({ type: "run.reverified", payload: { passed: false } });
    expect((await api.admin.run.mergeability({ runId: run.id })).verification).toMatchObject({ status: "failed", reason: "REVERIFY_FAILED" });
    expect(await failure(runner.run.heartbeatVerification(lease))).toMatchObject({ reason: "LEASE_LOST" });

    // A report that leaves out a required check does not pass, whatever it says.
    await api.admin.run.merge({ runId: run.id, reverify: true });
    const c2 = (await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 }))!;
    const lease2 = { runId: run.id, verificationId: c2.verification.id, leaseToken: c2.verification.leaseToken };
    expect(await runner.run.completeVerification({ ...lease2, baseCommit: mainTip, branchCommit: branchTip, head, setup: null, checks: [] })).toMatchObject({
      status: "failed",
      reason: "REVERIFY_FAILED",
    });

    // The base moves while a runner verifies: the passing report is for old commits, so it verifies again.
    await api.admin.run.merge({ runId: run.id, reverify: true });
    const c3 = (await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 }))!;
    const moved = commitOnMain(fx.repo, { "other.txt": "o\n" }, "meanwhile");
    const lease3 = { runId: run.id, verificationId: c3.verification.id, leaseToken: c3.verification.leaseToken };
    const again = await runner.run.completeVerification({ ...lease3, baseCommit: mainTip, branchCommit: branchTip, head, setup: null, checks: [check(0)] });
    expect(again).toMatchObject({ status: "queued", attempt: 2, baseCommit: moved, branchCommit: branchTip });
    expect(git(fx.repo, "rev-parse", "main")).toBe(moved);

    // On the new commits it passes: merged, exactly those.
    const c4 = (await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 }))!;
    expect(c4.verification).toMatchObject({ id: c3.verification.id, baseCommit: moved });
    const done = await runner.run.completeVerification({
      runId: run.id,
      verificationId: c4.verification.id,
      leaseToken: c4.verification.leaseToken,
      baseCommit: moved,
      branchCommit: branchTip,
      head,
      setup: null,
      checks: [check(0)],
    });
    expect(done).toMatchObject({ status: "merged" });
    const after = await api.admin.run.byId({ runId: run.id });
    expect(after.status).toBe("merged");
    expect(git(fx.repo, "rev-list", "--parents", "-n", "1", "main").split(" ")).toEqual([after.mergeCommit, moved, branchTip]);
    expect((await api.admin.run.events({ runId: run.id })).find((e) => e.type === "run.merged")?.payload).toMatchObject({
      reverified: true,
      by: "admin:bootstrap",
    });
  });

  it("a waiting re-verification can be cancelled; an expired lease is claimed again", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "Checked twice",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "ok", title: "True", required: true, check: "true", autoValidate: true }],
    });
    const { run } = await newRun(project.id, "Cancellable", wf.id);
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "d.txt": "d\n" } });
    const item = started.checks.find((c) => c.key === "ok")!;
    await runner.dod.reportCheck({ runId: run.id, leaseToken: started.leaseToken, itemId: item.id, command: "true", exitCode: 0, durationMs: 1, output: "" });
    await complete(runner, started);

    await api.admin.run.merge({ runId: run.id, reverify: true });
    expect(await failure(member.run.cancelVerification({ runId: run.id }))).toMatchObject({ code: "FORBIDDEN" });
    expect(await api.admin.run.cancelVerification({ runId: run.id })).toMatchObject({ status: "cancelled" });
    expect(await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 })).toBeNull();
    expect(await failure(api.admin.run.cancelVerification({ runId: run.id }))).toMatchObject({ reason: "NOT_CANCELLABLE" });

    // A runner that claimed and went silent: once its lease runs out another claim takes it over.
    await api.admin.run.merge({ runId: run.id, reverify: true });
    const first = (await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 }))!;
    await api.core.deps.db.prisma.mergeVerification.update({ where: { id: first.verification.id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    const second = (await runner.run.claimVerification({ workspaceId: seed.workspace.id, waitMs: 0 }))!;
    expect(second.verification.id).toBe(first.verification.id);
    expect(second.verification.leaseToken).not.toBe(first.verification.leaseToken);
    expect(
      await failure(runner.run.heartbeatVerification({ runId: run.id, verificationId: first.verification.id, leaseToken: first.verification.leaseToken })),
    ).toMatchObject({ reason: "LEASE_LOST" });
    await api.admin.run.cancelVerification({ runId: run.id });
  });

  it("abort with a live runner: cancel requested, worktree and branch gone, the runner's later writes refused", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { card, run } = await newRun(project.id, "Abort live");
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "wip.txt": "wip\n" } });
    expect(existsSync(started.worktree)).toBe(true);

    const res = await member.run.abort({ runId: run.id, reason: "wrong approach" });
    expect(res.run).toMatchObject({ status: "aborted", closedBy: "member:mia", closedReason: "wrong approach" });
    expect(res.run.cancelRequestedAt).toBeInstanceOf(Date);
    expect(res.cleanup.worktrees).toEqual([expect.objectContaining({ outcome: "removed" })]);
    expect(res.cleanup.branch).toMatchObject({ deleted: true });
    expect(existsSync(started.worktree)).toBe(false);
    expect(branchExists(fx.repo, started.branch)).toBe(false);
    expect(git(fx.repo, "worktree", "list", "--porcelain")).not.toContain(started.worktree);

    const types = (await api.admin.run.events({ runId: run.id })).map((e) => e.type);
    expect(types.slice(-3)).toEqual(["run.cancel_requested", "run.aborted", "run.cleaned"]);
    const lease = { runId: run.id, leaseToken: started.leaseToken };
    expect(await failure(runner.run.heartbeat(lease))).toMatchObject({ reason: "LEASE_LOST" });
    expect(await failure(runner.run.appendEvents({ ...lease, events: [{ type: "agent.text" }] }))).toMatchObject({ reason: "LEASE_LOST" });
    expect(await failure(runner.run.complete({ ...lease, status: "succeeded" }))).toMatchObject({ reason: "LEASE_LOST" });
    expect(await failure(runner.dod.reportCheck({ ...lease, itemKey: "tests", command: "true", exitCode: 0, durationMs: 1 }))).toMatchObject({
      reason: "LEASE_LOST",
    });
    expect((await api.admin.run.byId({ runId: run.id })).status).toBe("aborted");
    // Nothing else carries the card: it goes back to be picked up.
    expect((await api.admin.card.byId({ cardId: card.id })).column).toBe("todo");

    expect(await failure(member.run.abort({ runId: run.id }))).toMatchObject({ code: "CONFLICT", reason: "NOT_ABORTABLE" });
    const provenance = await api.admin.run.provenance({ runId: run.id });
    expect(provenance.closed).toEqual({ by: "member:mia", reason: "wrong approach", status: "aborted" });
  });

  it("abort with a dead runner: after the reaper failed the run, and before the runner ever recorded its worktree", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const lost = await newRun(project.id, "Runner died");
    const started = await claimAndWork(runner, seed.workspace.id, lost.run.id, fx, { files: { "x.txt": "x\n" } });
    await api.core.deps.db.prisma.run.update({ where: { id: lost.run.id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    await reapExpiredLeases(api.core.deps);
    expect((await api.admin.run.byId({ runId: lost.run.id })).status).toBe("failed");
    const res = await member.run.abort({ runId: lost.run.id });
    expect(res.run.status).toBe("aborted");
    expect(existsSync(started.worktree)).toBe(false);
    expect(branchExists(fx.repo, started.branch)).toBe(false);

    // Claimed, worktree made, then the runner died before `start` recorded it: the
    // worktree is found through git by the run's branch.
    const silent = await newRun(project.id, "Never started");
    const unrecorded = await claimAndWork(runner, seed.workspace.id, silent.run.id, fx, { files: { "y.txt": "y\n" } }, { start: false });
    const r2 = await member.run.abort({ runId: silent.run.id });
    expect(r2.cleanup.worktrees).toEqual([expect.objectContaining({ worktreeId: null, outcome: "removed" })]);
    expect(existsSync(unrecorded.worktree)).toBe(false);
    expect(branchExists(fx.repo, unrecorded.branch)).toBe(false);
  });

  it("abort of a succeeded run and of a queued one; a merged run is NOT_ABORTABLE", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const done = await succeededRun(fx, project.id, "Finished but unwanted", { "z.txt": "z\n" });
    expect((await member.run.abort({ runId: done.run.id })).run.status).toBe("aborted");
    expect(existsSync(done.started.worktree)).toBe(false);
    expect(branchExists(fx.repo, done.started.branch)).toBe(false);
    expect((await api.admin.run.mergeability({ runId: done.run.id })).canAbort).toBe(false);

    const queued = await newRun(project.id, "Queued only");
    const q = await member.run.abort({ runId: queued.run.id });
    expect(q.run.status).toBe("aborted");
    expect(q.cleanup.worktrees).toEqual([]);

    const merged = await succeededRun(fx, project.id, "Merged one", { "m.txt": "m\n" });
    await satisfyDod(member, member, merged.run.id);
    await api.admin.run.merge({ runId: merged.run.id });
    expect(await failure(member.run.abort({ runId: merged.run.id }))).toMatchObject({
      code: "CONFLICT",
      reason: "NOT_ABORTABLE",
      details: { status: "merged" },
    });
    const viewer = await api.as("viewer", seed.workspace.id);
    expect(await failure(viewer.run.abort({ runId: queued.run.id }))).toMatchObject({ code: "FORBIDDEN" });
  });

  it("abort works when the repository is not on this server (a remote runner's)", async () => {
    const run = await member.run.create({ cardId: (await cardWithoutRepository("Remote abort")).id, workflowId: reviewWorkflowId });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await runner.run.start({ runId: run.id, leaseToken: claim!.leaseToken, worktreePath: "/elsewhere/worktrees/x" });
    const res = await member.run.abort({ runId: run.id });
    expect(res.run.status).toBe("aborted");
    expect(res.cleanup).toMatchObject({ repository: "unavailable", worktrees: [expect.objectContaining({ outcome: "skipped" })] });
    expect(await failure(runner.run.heartbeat({ runId: run.id, leaseToken: claim!.leaseToken }))).toMatchObject({ reason: "LEASE_LOST" });
  });

  it("worktree.list shows state and size; worktree.remove is admin only, refused while active, keeps the branch", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { run } = await newRun(project.id, "Worktree listing");
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "big.txt": "x".repeat(10_000) } });
    const listed = (await member.worktree.list({ workspaceId: seed.workspace.id })).find((w) => w.runId === run.id)!;
    expect(listed).toMatchObject({
      status: "active",
      path: started.worktree,
      branch: started.branch,
      sizeMeasured: true,
      run: { id: run.id, status: "running" },
    });
    expect(listed.sizeBytes).toBeGreaterThan(10_000);
    expect(listed.run.card.title).toBe("Worktree listing");

    expect(await failure(member.worktree.remove({ worktreeId: listed.id }))).toMatchObject({ code: "FORBIDDEN" });
    expect(await failure(api.admin.worktree.remove({ worktreeId: listed.id }))).toMatchObject({ code: "CONFLICT", reason: "RUN_ACTIVE" });
    await complete(runner, started);
    const removed = await api.admin.worktree.remove({ worktreeId: listed.id });
    expect(removed.worktree.removedAt).toBeInstanceOf(Date);
    expect(existsSync(started.worktree)).toBe(false);
    expect(branchExists(fx.repo, started.branch)).toBe(true);
    expect((await member.worktree.list({ workspaceId: seed.workspace.id })).find((w) => w.id === listed.id)).toBeUndefined();
    expect((await member.worktree.list({ workspaceId: seed.workspace.id, includeRemoved: true })).find((w) => w.id === listed.id)).toMatchObject({
      status: "removed",
    });
    expect(await failure(api.admin.worktree.remove({ worktreeId: "nope" }))).toMatchObject({ code: "NOT_FOUND" });

    // The run can still be merged from its branch alone.
    await satisfyDod(member, member, run.id);
    expect((await api.admin.run.merge({ runId: run.id })).run.status).toBe("merged");
  });

  it("a recorded path that is not a worktree of the repository is never deleted", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const { run } = await newRun(project.id, "Bogus path");
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    // A runner (or anyone holding its token) records some unrelated directory.
    await runner.run.start({ runId: run.id, leaseToken: claim!.leaseToken, worktreePath: fx.repo });
    const res = await member.run.abort({ runId: run.id });
    expect(res.cleanup.worktrees).toEqual([expect.objectContaining({ path: fx.repo, outcome: "refused" })]);
    expect(existsSync(`${fx.repo}/README.md`)).toBe(true);
    expect(git(fx.repo, "rev-parse", "--abbrev-ref", "HEAD")).toBe("main");
  });

  it("the stale sweep removes worktrees of runs finished long enough ago and keeps active ones", async () => {
    const fx = repo();
    const project = await projectFor(fx);
    const old = await succeededRun(fx, project.id, "Old run", { "o.txt": "o\n" });
    const live = await newRun(project.id, "Live run");
    const liveStarted = await claimAndWork(runner, seed.workspace.id, live.run.id, fx, { files: { "l.txt": "l\n" } });
    const later = new Date(Date.now() + 2 * 3600_000);

    expect((await sweepStaleWorktrees(api.core.deps, { olderThanMs: 3 * 3600_000, now: later })).removed).not.toContain(old.started.worktree);
    const report = await sweepStaleWorktrees(api.core.deps, { olderThanMs: 3600_000, now: later });
    const oldRow = await api.core.deps.db.prisma.worktree.findFirstOrThrow({ where: { runId: old.run.id } });
    expect(report.removed).toContain(oldRow.id);
    expect(existsSync(old.started.worktree)).toBe(false);
    // The branch stays: the run can still be merged.
    expect(branchExists(fx.repo, old.started.branch)).toBe(true);
    expect(existsSync(liveStarted.worktree)).toBe(true);
    expect((await api.core.deps.db.prisma.worktree.findFirstOrThrow({ where: { runId: live.run.id } })).removedAt).toBeNull();
  });
});
