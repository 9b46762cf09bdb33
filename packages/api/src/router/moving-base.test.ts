import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { commitAll } from "@agentboard/git";
import { claimAndWork, commitOnMain, git, makeRepo, writeFile, type RepoFixture } from "../testing/git-runs.js";
import { failure } from "../testing/failures.js";

/**
 * The merge gate against a moving base (docs/review-loop.md): the panel is told that the
 * base moved and which files a merge would conflict in before anyone tries; after an update
 * from the base the run's automatic checks, which passed on the old head, are asked for again.
 */

describe.each(testProviders)("a moving base at the merge gate on %s", (provider) => {
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
      name: "Checked",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "tests", title: "Tests pass", required: true, check: "true", autoValidate: true }],
    });
    workflowId = wf.id;
  });
  afterAll(async () => {
    await api.close();
    for (const fx of fixtures) fx.cleanup();
  });

  /** A succeeded run whose automatic check passed on its head (as a runner reports it). */
  async function checkedRun(title: string, files: Record<string, string>, opts: { reportHead?: boolean } = {}) {
    const fx = makeRepo(api);
    fixtures.push(fx);
    const project = await api.admin.project.create({ workspaceId: seed.workspace.id, name: `p-${fixtures.length}`, repoPath: fx.repo, baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title });
    const run = await member.run.create({ cardId: card.id, workflowId });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files });
    const item = started.checks.find((c) => c.key === "tests")!;
    const reported = await runner.dod.reportCheck({
      runId: run.id,
      leaseToken: started.leaseToken,
      itemId: item.id,
      command: "true",
      exitCode: 0,
      durationMs: 3,
      output: "ok\n",
    });
    expect(reported.autoValidated).toBe(true);
    const head = git(fx.repo, "rev-parse", started.branch);
    await runner.run.complete({
      runId: run.id,
      leaseToken: started.leaseToken,
      status: "succeeded",
      output: { summary: "done", ...(opts.reportHead === false ? {} : { headCommit: head }) },
    });
    return { fx, run, started, head };
  }

  it("the base moving is a warning with the count of its new commits; a merge that would conflict lists the files and is not Ready", async () => {
    const { fx, run, started, head } = await checkedRun("Warned", { "feature.txt": "feature\n", "src/app.ts": "export const a = 2;\n" });
    const fresh = await api.admin.run.mergeability({ runId: run.id });
    expect(fresh.canMerge).toBe(true);
    expect(fresh.base).toMatchObject({ behind: 0, conflicts: [], branchCommit: head, branchIsRunHead: true });

    commitOnMain(fx.repo, { "other.txt": "other\n" }, "someone else's work");
    commitOnMain(fx.repo, { "more.txt": "more\n" }, "and more");
    const moved = await api.admin.run.mergeability({ runId: run.id });
    expect(moved.canMerge).toBe(true);
    expect(moved.base).toMatchObject({ behind: 2, conflicts: [], baseCommit: git(fx.repo, "rev-parse", "main") });

    commitOnMain(fx.repo, { "src/app.ts": "export const a = 3;\n" }, "a conflicting change");
    const mainTip = git(fx.repo, "rev-parse", "main");
    const conflicting = await api.admin.run.mergeability({ runId: run.id });
    expect(conflicting.canMerge).toBe(false);
    expect(conflicting.base).toMatchObject({ behind: 3, conflicts: ["src/app.ts"] });
    expect(conflicting.reasons).toContainEqual(
      expect.objectContaining({ reason: "MERGE_CONFLICT", details: { files: ["src/app.ts"], suggestion: "run.resolveConflicts" } }),
    );
    // Looking changed nothing.
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainTip);
    expect(git(fx.repo, "rev-parse", started.branch)).toBe(head);
    // The update from the base says the same files and changes nothing either.
    expect(await failure(member.run.updateFromBase({ runId: run.id }))).toMatchObject({
      code: "CONFLICT",
      reason: "MERGE_CONFLICT",
      details: { files: ["src/app.ts"] },
    });
    expect(git(fx.repo, "rev-parse", started.branch)).toBe(head);
  });

  it("what a runner reported during the run is pinned to the head the run completed with", async () => {
    const { run, head } = await checkedRun("Pinned", { "pinned.txt": "p\n" });
    const shown = await member.run.byId({ runId: run.id });
    expect(shown.dodItems.find((d) => d.key === "tests")?.evidence.map((e) => e.commit)).toEqual([head]);
  });

  it("a run that reported no head: its check is pinned to the branch's old tip when the base is merged in, and asked for again", async () => {
    const { fx, run, started, head } = await checkedRun("No head", { "nohead.txt": "n\n" }, { reportHead: false });
    commitOnMain(fx.repo, { "other.txt": "other\n" }, "someone else's work");
    expect((await api.admin.run.mergeability({ runId: run.id })).canMerge).toBe(true);
    await member.run.updateFromBase({ runId: run.id });
    const gate = await api.admin.run.mergeability({ runId: run.id });
    expect(gate.canMerge).toBe(false);
    expect(gate.reasons.find((r) => r.reason === "DOD_INCOMPLETE")?.details).toMatchObject({
      stale: true,
      checksToRerun: ["tests"],
      missing: [{ key: "tests", validatedOn: head }],
    });
    expect(git(fx.repo, "rev-parse", started.branch)).not.toBe(head);
  });

  it("after a clean update from the base, the check that passed on the old head counts no more until it is given again on the new head", async () => {
    const { fx, run, started, head } = await checkedRun("Updated", { "feature.txt": "feature\n" });
    expect((await api.admin.run.mergeability({ runId: run.id })).canMerge).toBe(true);
    commitOnMain(fx.repo, { "other.txt": "other\n" }, "someone else's work");

    const updated = await member.run.updateFromBase({ runId: run.id });
    expect(updated.status).toBe("updated");
    const newHead = git(fx.repo, "rev-parse", started.branch);
    expect(updated.head).toBe(newHead);
    expect(git(fx.repo, "rev-list", "--parents", "-n", "1", newHead).split(" ")).toHaveLength(3);

    const gate = await api.admin.run.mergeability({ runId: run.id });
    expect(gate.canMerge).toBe(false);
    expect(gate.base).toMatchObject({ behind: 0, conflicts: [], branchCommit: newHead, branchIsRunHead: true });
    const stale = gate.reasons.find((r) => r.reason === "DOD_INCOMPLETE");
    expect(stale?.message).toContain(`its check passed on ${head.slice(0, 7)}, before the branch moved`);
    expect(stale?.details).toMatchObject({ stale: true, checksToRerun: ["tests"], missing: [{ key: "tests", validatedOn: head }] });
    const events = await api.admin.run.events({ runId: run.id });
    expect(events.find((e) => e.type === "run.branch_updated")).toMatchObject({ payload: { from: head, to: newHead, staleChecks: ["tests"] } });

    // Evidence given on the new head counts.
    const shown = await member.run.byId({ runId: run.id });
    const item = shown.dodItems.find((d) => d.key === "tests")!;
    const { evidence } = await member.dod.addEvidence({
      runId: run.id,
      itemId: item.id,
      kind: "text",
      payload: { text: "ran the tests on the updated branch: green" },
    });
    await api.admin.dod.validate({ evidenceId: evidence.id });
    expect(await api.admin.run.mergeability({ runId: run.id })).toMatchObject({ canMerge: true, reasons: [] });
    const merged = await api.admin.run.merge({ runId: run.id });
    expect(merged.status).toBe("merged");
  });

  it("an item with carryOver keeps its validation when the branch moves (a follow-up, an update from the base); the others must be given again", async () => {
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "Carried",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [
        { key: "design", title: "Design approved", required: true, carryOver: true },
        { key: "review", title: "Change reviewed", required: true },
      ],
    });
    expect(wf.dod.map((d) => [d.key, d.carryOver])).toEqual([
      ["design", true],
      ["review", false],
    ]);
    const fx = makeRepo(api);
    fixtures.push(fx);
    const project = await api.admin.project.create({ workspaceId: seed.workspace.id, name: `p-${fixtures.length}`, repoPath: fx.repo, baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title: "Carry over" });
    const run = await member.run.create({ cardId: card.id, workflowId: wf.id });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { "carry.txt": "one\n" } });
    const head = git(fx.repo, "rev-parse", started.branch);
    await runner.run.complete({ runId: run.id, leaseToken: started.leaseToken, status: "succeeded", output: { summary: "done", headCommit: head } });
    const validateAll = async (runId: string, keys: string[]) => {
      for (const key of keys) {
        const { evidence } = await member.dod.addEvidence({ runId, itemKey: key, kind: "text", payload: { text: `looked at ${key}` } });
        await api.admin.dod.validate({ evidenceId: evidence.id });
      }
    };
    await validateAll(run.id, ["design", "review"]);
    expect(await api.admin.run.mergeability({ runId: run.id })).toMatchObject({ canMerge: true });

    // A follow-up moves the branch: its runner works on in the parent's checkout and commits.
    const next = await member.run.followUp({ runId: run.id, message: "one more thing" });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: next.id });
    expect(claim?.run.id).toBe(next.id);
    writeFile(started.worktree, "carry.txt", "two\n");
    await commitAll({ dir: started.worktree, message: "follow-up work" });
    const head2 = git(fx.repo, "rev-parse", started.branch);
    expect(head2).not.toBe(head);
    await runner.run.start({ runId: next.id, leaseToken: claim!.leaseToken, worktreePath: started.worktree, sizeBytes: 1 });
    await runner.run.complete({ runId: next.id, leaseToken: claim!.leaseToken, status: "succeeded", output: { summary: "done", headCommit: head2 } });

    const shown = await member.run.byId({ runId: next.id });
    const design = shown.dodItems.find((d) => d.key === "design")!;
    expect(design).toMatchObject({ carryOver: true, status: "validated" });
    expect(design.evidence.map((e) => [e.commit, e.validatedBy !== null])).toEqual([[head, true]]);
    expect(shown.dodItems.find((d) => d.key === "review")).toMatchObject({ carryOver: false, status: "pending", evidence: [] });
    const gate = await api.admin.run.mergeability({ runId: next.id });
    expect(gate.canMerge).toBe(false);
    expect(gate.reasons.filter((r) => r.reason === "DOD_INCOMPLETE").map((r) => r.details)).toEqual([
      { missing: [expect.objectContaining({ key: "review" })] },
    ]);
    const refused = await failure(api.admin.run.merge({ runId: next.id }));
    expect(refused).toMatchObject({ code: "CONFLICT", reason: "DOD_INCOMPLETE" });
    expect(((refused.details?.missing ?? []) as { key: string }[]).map((m) => m.key)).toEqual(["review"]);

    // Validated again on the follow-up's head; then the base moves and is merged in.
    await validateAll(next.id, ["review"]);
    expect(await api.admin.run.mergeability({ runId: next.id })).toMatchObject({ canMerge: true });
    commitOnMain(fx.repo, { "other.txt": "other\n" }, "someone else's work");
    await member.run.updateFromBase({ runId: next.id });
    const moved = await api.admin.run.mergeability({ runId: next.id });
    expect(moved.reasons.filter((r) => r.reason === "DOD_INCOMPLETE").map((r) => r.details)).toEqual([
      { missing: [expect.objectContaining({ key: "review", validatedOn: head2 })], stale: true, checksToRerun: [] },
    ]);
    const stale = await failure(api.admin.run.merge({ runId: next.id }));
    expect(stale).toMatchObject({ code: "CONFLICT", reason: "DOD_INCOMPLETE" });
    expect(((stale.details?.missing ?? []) as { key: string }[]).map((m) => m.key)).toEqual(["review"]);
    await validateAll(next.id, ["review"]);
    expect((await api.admin.run.merge({ runId: next.id })).status).toBe("merged");
  });
});
