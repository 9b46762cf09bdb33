import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { claimAndWork, commitOnMain, git, makeRepo, type RepoFixture } from "../testing/git-runs.js";
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
});
