import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** A card's thread of runs through the API (docs/review-loop.md), on every provider. */

const HEAD = "a".repeat(40);
const DIFF = [
  "diff --git a/src/app.ts b/src/app.ts",
  "--- a/src/app.ts",
  "+++ b/src/app.ts",
  "@@ -1,2 +1,3 @@",
  " export const a = 1;",
  "-export const b = 2;",
  "+export const b = 3;",
  "+export const c = 4;",
  "",
].join("\n");

describe.each(testProviders)("threads of runs on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let rig1: Caller;
  let rig2: Caller;
  let member: Caller;
  let viewer: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    rig1 = await api.as("runner", seed.workspace.id, "rig-1");
    rig2 = await api.as("runner", seed.workspace.id, "rig-2");
    member = await api.as("member", seed.workspace.id, "mia");
    viewer = await api.as("viewer", seed.workspace.id, "vic");
  });
  afterAll(() => api.close());

  async function drain() {
    await api.core.deps.db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
  }

  /** A run taken through claim → start → complete by `who`, with a diff and a head commit. */
  async function finishedRun(who: Caller, cardId = seed.card.id) {
    await drain();
    const run = await api.admin.run.create({ cardId, engine: "command", command: "true" });
    const claim = await who.run.claim({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(run.id);
    const lease = claim!.leaseToken;
    await who.run.start({ runId: run.id, leaseToken: lease, worktreePath: `/tmp/agentboard-thread-test/${run.id}` });
    await who.run.complete({
      runId: run.id,
      leaseToken: lease,
      status: "succeeded",
      output: {
        diff: DIFF,
        filesChanged: ["src/app.ts"],
        headCommit: HEAD,
        transcript: [
          { role: "user", content: "do it" },
          { role: "assistant", content: [{ type: "text", text: "done" }] },
        ],
      },
      metrics: { costUsd: 0.5 },
    });
    return run;
  }

  it("a follow-up keeps the branch and settings, starts at the parent's head, brings the DoD, goes first to the runner holding the checkout", async () => {
    const parent = await finishedRun(rig1);
    const items = await api.admin.run.byId({ runId: parent.id });
    const next = await member.run.followUp({ runId: parent.id, message: "Also handle c." });
    expect(next).toMatchObject({
      kind: "follow_up",
      parentRunId: parent.id,
      branch: parent.branch,
      engine: "command",
      command: "true",
      startCommit: HEAD,
      prompt: "Also handle c.",
      createdBy: "member:mia",
    });
    const shown = await api.admin.run.byId({ runId: next.id });
    expect(shown.dodItems.map((d) => [d.key, d.status])).toEqual(items.dodItems.map((d) => [d.key, "pending"]));
    const queued = (await api.admin.run.events({ runId: next.id }))[0];
    expect(queued).toMatchObject({ type: "run.queued", actor: "member:mia", payload: { kind: "follow_up", parentRunId: parent.id } });

    // Another runner does not get it while the holder may still come for it…
    expect(await rig2.run.claim({ workspaceId: seed.workspace.id })).toBeNull();
    // …the holder does, and reads where to start and the conversation to resume.
    const claim = await rig1.run.claim({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(next.id);
    const ctx = await rig1.run.resumeContext({ runId: next.id, leaseToken: claim!.leaseToken });
    expect(ctx).toMatchObject({
      parentRunId: parent.id,
      startCommit: HEAD,
      transcript: { engine: "command", messages: [{ role: "user", content: "do it" }, { role: "assistant" }] },
    });
    expect(ctx.seed).toContain("## The task");
    // Only with the lease.
    expect(await failure(rig1.run.resumeContext({ runId: next.id, leaseToken: "not-the-lease" }))).toMatchObject({ code: "CONFLICT", reason: "LEASE_LOST" });
    // The transcript is kept out of every run answer.
    expect(Object.keys(await api.admin.run.byId({ runId: parent.id }))).not.toContain("transcript");
  });

  it("after the grace, any runner takes a follow-up whose holder did not come", async () => {
    const parent = await finishedRun(rig1);
    const next = await member.run.followUp({ runId: parent.id, message: "go on" });
    expect(await rig2.run.claim({ workspaceId: seed.workspace.id })).toBeNull();
    await api.core.deps.db.prisma.run.update({ where: { id: next.id }, data: { createdAt: new Date(Date.now() - 60_000) } });
    expect((await rig2.run.claim({ workspaceId: seed.workspace.id }))?.run.id).toBe(next.id);
  });

  it("refuses what cannot be continued, and a viewer entirely", async () => {
    const parent = await finishedRun(rig1);
    expect(await failure(viewer.run.followUp({ runId: parent.id, message: "x" }))).toMatchObject({ code: "FORBIDDEN" });
    expect(await failure(member.run.followUp({ runId: parent.id, message: "  " }))).toMatchObject({ code: "CONFLICT", reason: "INVALID_STATE" });
    const next = await member.run.followUp({ runId: parent.id, message: "x" });
    expect(await failure(member.run.followUp({ runId: next.id, message: "y" }))).toMatchObject({ code: "CONFLICT", reason: "RUN_ACTIVE" });
    expect(await failure(member.run.followUp({ runId: parent.id, message: "y" }))).toMatchObject({
      code: "CONFLICT",
      reason: "NOT_THREAD_HEAD",
      details: { headRunId: next.id },
    });
    expect(await failure(viewer.run.sendMessage({ runId: next.id, text: "hi" }))).toMatchObject({ code: "FORBIDDEN" });
    expect(await failure(member.run.sendMessage({ runId: next.id, text: "hi" }))).toMatchObject({ code: "CONFLICT", reason: "RUN_NOT_RUNNING" });
  });

  it("a card budget refuses a follow-up once the card's runs have reached it", async () => {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Budgeted" });
    await member.card.update({ cardId: card.id, budgetUsd: 0.5 });
    const parent = await finishedRun(rig1, card.id);
    expect(await failure(member.run.followUp({ runId: parent.id, message: "more" }))).toMatchObject({
      code: "CONFLICT",
      reason: "BUDGET_EXCEEDED",
      details: { budgetUsd: 0.5, spentUsd: 0.5 },
    });
    await member.card.update({ cardId: card.id, budgetUsd: 2 });
    expect((await member.run.followUp({ runId: parent.id, message: "more" })).parentRunId).toBe(parent.id);
    const thread = await viewer.run.thread({ cardId: card.id });
    expect(thread).toMatchObject({ budgetUsd: 2, spentUsd: 0.5 });
    expect(thread.threads[0]!.runs.map((r) => r.kind)).toEqual(["run", "follow_up"]);
  });

  it("a card budget refuses a new run of the card at create too, on a new thread as well", async () => {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Budget at create" });
    await member.card.update({ cardId: card.id, budgetUsd: 0.5 });
    await finishedRun(rig1, card.id);
    const before = await api.core.deps.db.prisma.run.count({ where: { cardId: card.id } });
    expect(await failure(member.run.create({ cardId: card.id, engine: "command", command: "true" }))).toMatchObject({
      code: "CONFLICT",
      reason: "BUDGET_EXCEEDED",
      details: { budgetUsd: 0.5, spentUsd: 0.5 },
    });
    expect(await api.core.deps.db.prisma.run.count({ where: { cardId: card.id } })).toBe(before);
    await member.card.update({ cardId: card.id, budgetUsd: 2 });
    expect((await member.run.create({ cardId: card.id, engine: "command", command: "true" })).status).toBe("queued");
  });

  it("a card budget is checked at claim too: a run queued before the budget was reached waits until it is raised", async () => {
    await drain();
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Budget at claim" });
    await member.card.update({ cardId: card.id, budgetUsd: 1 });
    const first = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    const second = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    const claim = await rig1.run.claim({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(first.id);
    await rig1.run.start({ runId: first.id, leaseToken: claim!.leaseToken });
    await rig1.run.complete({ runId: first.id, leaseToken: claim!.leaseToken, status: "succeeded", metrics: { costUsd: 1 } });
    expect(await rig2.run.claim({ workspaceId: seed.workspace.id })).toBeNull();
    expect(await failure(rig2.run.claim({ workspaceId: seed.workspace.id, runId: second.id }))).toMatchObject({
      code: "CONFLICT",
      reason: "BUDGET_EXCEEDED",
      details: { budgetUsd: 1, spentUsd: 1 },
    });
    await member.card.update({ cardId: card.id, budgetUsd: 3 });
    expect((await rig2.run.claim({ workspaceId: seed.workspace.id }))?.run.id).toBe(second.id);
  });

  it("the runner holding a follow-up's checkout does not claim it either once the card's budget is reached", async () => {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Budget at preferred claim" });
    await member.card.update({ cardId: card.id, budgetUsd: 1 });
    const parent = await finishedRun(rig1, card.id);
    const other = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    const next = await member.run.followUp({ runId: parent.id, message: "more" });
    const claim = await rig2.run.claim({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(other.id);
    await rig2.run.start({ runId: other.id, leaseToken: claim!.leaseToken });
    await rig2.run.complete({ runId: other.id, leaseToken: claim!.leaseToken, status: "succeeded", metrics: { costUsd: 0.5 } });
    expect(await rig1.run.claim({ workspaceId: seed.workspace.id })).toBeNull();
    await member.card.update({ cardId: card.id, budgetUsd: 2 });
    expect((await rig1.run.claim({ workspaceId: seed.workspace.id }))?.run.id).toBe(next.id);
  });

  it("a message to a running agent is a user.message event by its author", async () => {
    await drain();
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const claim = await rig1.run.claim({ workspaceId: seed.workspace.id });
    await rig1.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    const sent = await member.run.sendMessage({ runId: run.id, text: "use the helper in util.ts" });
    expect(sent).toMatchObject({ runId: run.id, status: "running", messageId: expect.any(String) });
    const ev = (await api.admin.run.events({ runId: run.id })).find((e) => e.type === "user.message");
    expect(ev).toMatchObject({ actor: "member:mia", payload: { messageId: sent.messageId, text: "use the helper in util.ts" } });
    // A runner may not forge one.
    expect(
      await failure(rig1.run.appendEvents({ runId: run.id, leaseToken: claim!.leaseToken, events: [{ type: "user.message", payload: { text: "x" } }] })),
    ).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("retry keeps the settings: on the same branch from where the run started, or on a fresh branch", async () => {
    const run = await finishedRun(rig1);
    const same = await member.run.retry({ runId: run.id, model: "claude-opus-4-1" });
    expect(same).toMatchObject({
      kind: "retry",
      branch: run.branch,
      parentRunId: null,
      startCommit: null,
      engine: "command",
      command: "true",
      model: "claude-opus-4-1",
      prompt: run.prompt,
      preferredRunnerId: null,
    });
    expect(await failure(member.run.retry({ runId: run.id }))).toMatchObject({ code: "CONFLICT", reason: "NOT_THREAD_HEAD", details: { headRunId: same.id } });
    expect(await failure(member.run.retry({ runId: same.id }))).toMatchObject({ code: "CONFLICT", reason: "RUN_ACTIVE" });
    await api.admin.run.cancel({ runId: same.id });
    const fresh = await member.run.retry({ runId: same.id, freshBranch: true });
    expect(fresh.branch).not.toBe(run.branch);
    expect(fresh.branch).toMatch(/^agentboard\/fix-the-bug-/);
    expect(fresh).toMatchObject({ kind: "retry", parentRunId: null, command: "true" });
    expect(await failure(viewer.run.retry({ runId: fresh.id }))).toMatchObject({ code: "FORBIDDEN" });
  });

  it("the gate follows the code: only the thread's latest run merges, and a validation given on an older head does not count", async () => {
    const parent = await finishedRun(rig1);
    const child = await member.run.followUp({ runId: parent.id, message: "more" });
    const gate = await api.admin.run.mergeability({ runId: parent.id });
    expect(gate.reasons.find((r) => r.reason === "NOT_THREAD_HEAD")?.details).toEqual({ headRunId: child.id });
    expect(await failure(api.admin.run.merge({ runId: parent.id }))).toMatchObject({ code: "CONFLICT" });

    const run = await finishedRun(rig1);
    for (const item of (await api.admin.run.byId({ runId: run.id })).dodItems) {
      const { evidence } = await api.admin.dod.addEvidence({ runId: run.id, itemKey: item.key, kind: "text", payload: { text: "looked" } });
      expect(evidence.commit).toBe(HEAD);
      await api.admin.dod.validate({ evidenceId: evidence.id });
    }
    expect((await api.admin.run.mergeability({ runId: run.id })).reasons.filter((r) => r.reason === "DOD_INCOMPLETE")).toEqual([]);
    // The branch moves (what run.updateFromBase records): the validations were for the old head.
    await api.core.deps.db.prisma.run.update({ where: { id: run.id }, data: { headCommit: "c".repeat(40) } });
    const stale = (await api.admin.run.mergeability({ runId: run.id })).reasons.find((r) => r.reason === "DOD_INCOMPLETE");
    expect(stale?.message).toContain(`validated on ${HEAD.slice(0, 7)}`);
  });
});
