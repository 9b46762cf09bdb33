import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { initRepo, testProviders } from "@agentboard/testkit";
import { procedurePaths } from "../root.js";
import { startTestApi, type Caller, type TestApi } from "../testing/harness.js";

/**
 * No answer but run.claim's carries a lease token (and none carries a token's hash): every
 * procedure of the router is called once, in an order that takes a run through its whole
 * life, and each answer is searched for the secrets. A procedure added to the router
 * without a step here fails the test.
 */

type Step = { path: string; call: () => Promise<unknown>; refuses?: string };

/** Every key anywhere in a value (answers are plain data: objects, arrays, Dates). */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) keysOf(v, into);
  } else if (value && typeof value === "object" && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  }
  return into;
}

async function firstOf(iterable: unknown): Promise<unknown> {
  const it = (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const first = await it.next();
  await it.return?.();
  return first.value;
}

describe.each(testProviders)("secrets in answers on %s", (provider) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(provider);
  });
  afterAll(() => api.close());

  it("only run.claim answers with a lease token; nothing answers with a token hash", async () => {
    const admin = api.admin;
    const ws = await admin.workspace.create({ name: "Secrets", slug: "secrets" });
    const repo = initRepo(join(api.db.dir, "repos", "app"), { "README.md": "# app\n" });
    const runner: Caller = await api.as("runner", ws.id, "sweeper");
    const ids: Record<string, string> = {};
    let folks: { ada: Awaited<ReturnType<TestApi["person"]>>; bob: Awaited<ReturnType<TestApi["person"]>> } | undefined;
    const people = async () => (folks ??= { ada: await api.person("ada@example.com", { [ws.id]: "admin" }), bob: await api.person("bob@example.com", {}) });
    let lease = "";
    const steps: Step[] = [
      { path: "health.check", call: () => api.anonymous.health.check() },
      { path: "workspace.create", call: () => admin.workspace.create({ name: "Other", slug: "other" }) },
      { path: "workspace.list", call: () => admin.workspace.list() },
      { path: "workspace.byId", call: () => admin.workspace.byId({ workspaceId: ws.id }) },
      { path: "workspace.update", call: () => admin.workspace.update({ workspaceId: ws.id, name: "Secrets!" }) },
      { path: "board.create", call: async () => (ids.board = (await admin.board.create({ workspaceId: ws.id, name: "Main" })).id) },
      { path: "board.list", call: () => admin.board.list({ workspaceId: ws.id }) },
      { path: "board.byId", call: () => admin.board.byId({ boardId: ids.board! }) },
      { path: "board.cursor", call: () => admin.board.cursor({ boardId: ids.board! }) },
      {
        path: "project.create",
        call: async () => (ids.project = (await admin.project.create({ workspaceId: ws.id, name: "app", repoPath: repo, baseBranch: "main" })).id),
      },
      { path: "project.update", call: () => admin.project.update({ projectId: ids.project!, testCommand: "true" }) },
      { path: "project.list", call: () => admin.project.list({ workspaceId: ws.id }) },
      { path: "project.byId", call: () => admin.project.byId({ projectId: ids.project! }) },
      { path: "card.create", call: async () => (ids.card = (await admin.card.create({ boardId: ids.board!, projectId: ids.project!, title: "Fix it" })).id) },
      { path: "card.update", call: () => admin.card.update({ cardId: ids.card!, description: "carefully" }) },
      { path: "card.move", call: () => admin.card.move({ cardId: ids.card!, column: "todo" }) },
      { path: "card.list", call: () => admin.card.list({ boardId: ids.board! }) },
      { path: "card.listColumn", call: () => admin.card.listColumn({ boardId: ids.board!, column: "backlog" }) },
      { path: "card.search", call: () => admin.card.search({ boardId: ids.board!, query: "a" }) },
      { path: "card.byId", call: () => admin.card.byId({ cardId: ids.card! }) },
      {
        path: "card.delete",
        call: async () => admin.card.delete({ cardId: (await admin.card.create({ boardId: ids.board!, projectId: ids.project!, title: "Gone" })).id }),
      },
      { path: "token.create", call: async () => (ids.token = (await admin.token.create({ workspaceId: ws.id, role: "viewer", name: "v" })).id) },
      { path: "token.list", call: () => admin.token.list({ workspaceId: ws.id }) },
      { path: "token.revoke", call: () => admin.token.revoke({ tokenId: ids.token! }) },
      { path: "token.whoami", call: () => runner.token.whoami() },
      { path: "token.createPersonal", call: async () => (await people()).ada.caller.token.createPersonal({ name: "ci", role: "member" }) },
      { path: "token.listPersonal", call: async () => (await people()).ada.caller.token.listPersonal() },
      {
        path: "invitation.create",
        call: async () => {
          const made = await admin.invitation.create({ workspaceId: ws.id, role: "member" });
          ids.invitation = made.id;
          ids.code = made.code;
          return made;
        },
      },
      { path: "invitation.list", call: () => admin.invitation.list({ workspaceId: ws.id }) },
      { path: "invitation.preview", call: () => api.anonymous.invitation.preview({ code: ids.code! }) },
      { path: "invitation.accept", call: async () => (await people()).bob.caller.invitation.accept({ code: ids.code! }) },
      {
        path: "invitation.revoke",
        call: async () => admin.invitation.revoke({ invitationId: (await admin.invitation.create({ workspaceId: ws.id, role: "viewer" })).id }),
      },
      { path: "member.list", call: () => admin.member.list({ workspaceId: ws.id }) },
      { path: "member.changeRole", call: async () => admin.member.changeRole({ workspaceId: ws.id, userId: (await people()).bob.userId, role: "viewer" }) },
      { path: "member.remove", call: async () => admin.member.remove({ workspaceId: ws.id, userId: (await people()).bob.userId }) },
      { path: "runner.register", call: async () => (ids.runner = (await runner.runner.register({ workspaceId: ws.id, name: "box-1" })).id) },
      { path: "runner.list", call: () => admin.runner.list({ workspaceId: ws.id }) },
      {
        path: "workflow.create",
        call: async () =>
          (ids.workflow = (
            await admin.workflow.create({
              workspaceId: ws.id,
              name: "wf",
              promptTemplate: "Do {{card.title}}",
              engine: "command",
              command: "true",
              dod: [{ key: "tests", title: "Tests pass" }],
            })
          ).id),
      },
      { path: "workflow.update", call: () => admin.workflow.update({ workflowId: ids.workflow!, name: "wf2" }) },
      { path: "workflow.list", call: () => admin.workflow.list({ workspaceId: ws.id }) },
      { path: "workflow.byId", call: () => admin.workflow.byId({ workflowId: ids.workflow! }) },
      { path: "workflow.archive", call: () => admin.workflow.archive({ workflowId: ids.workflow! }) },
      { path: "workflow.restore", call: () => admin.workflow.restore({ workflowId: ids.workflow! }) },
      {
        path: "workflow.previewTemplate",
        call: () => admin.workflow.previewTemplate({ workspaceId: ws.id, cardId: ids.card!, promptTemplate: "Do {{card.title}}" }),
      },
      {
        path: "agentProfile.create",
        call: async () => (ids.profile = (await admin.agentProfile.create({ workspaceId: ws.id, name: "agent", command: "my-agent" })).id),
      },
      { path: "agentProfile.update", call: () => admin.agentProfile.update({ profileId: ids.profile!, args: ["--acp"] }) },
      { path: "agentProfile.list", call: () => admin.agentProfile.list({ workspaceId: ws.id }) },
      { path: "agentProfile.byId", call: () => admin.agentProfile.byId({ profileId: ids.profile! }) },
      { path: "agentProfile.delete", call: () => admin.agentProfile.delete({ profileId: ids.profile! }) },
      { path: "run.previewPrompt", call: () => admin.run.previewPrompt({ cardId: ids.card!, workflowId: ids.workflow! }) },
      { path: "run.create", call: async () => (ids.run = (await admin.run.create({ cardId: ids.card!, workflowId: ids.workflow! })).id) },
      {
        path: "run.claim",
        call: async () => {
          const claim = await runner.run.claim({ workspaceId: ws.id, runnerId: ids.runner! });
          lease = claim!.leaseToken;
          return claim;
        },
      },
      { path: "run.start", call: () => runner.run.start({ runId: ids.run!, leaseToken: lease, worktreePath: join(api.db.dir, "wt"), sizeBytes: 10 }) },
      { path: "run.heartbeat", call: () => runner.run.heartbeat({ runId: ids.run!, leaseToken: lease }) },
      {
        path: "run.appendEvents",
        call: () => runner.run.appendEvents({ runId: ids.run!, leaseToken: lease, events: [{ type: "agent.message", payload: { text: "hi" } }] }),
      },
      { path: "run.sendMessage", call: () => admin.run.sendMessage({ runId: ids.run!, text: "also check the README" }) },
      { path: "run.resumeContext", call: () => runner.run.resumeContext({ runId: ids.run!, leaseToken: lease }) },
      { path: "run.events", call: () => runner.run.events({ runId: ids.run! }) },
      { path: "run.eventsPage", call: () => runner.run.eventsPage({ runId: ids.run! }) },
      { path: "run.onEvents", call: async () => firstOf(await runner.run.onEvents({ runId: ids.run! })) },
      { path: "board.onChanges", call: async () => firstOf(await admin.board.onChanges({ boardId: ids.board! })) },
      {
        path: "dod.reportCheck",
        call: () => runner.dod.reportCheck({ runId: ids.run!, leaseToken: lease, itemKey: "tests", command: "true", exitCode: 0, durationMs: 5 }),
      },
      {
        path: "dod.addEvidence",
        call: async () =>
          (ids.evidence = (await admin.dod.addEvidence({ runId: ids.run!, itemKey: "tests", kind: "text", payload: { text: "ran them" } })).evidence.id),
      },
      { path: "dod.validate", call: () => admin.dod.validate({ evidenceId: ids.evidence! }) },
      {
        path: "dod.reject",
        call: async () => {
          const { evidence } = await admin.dod.addEvidence({ runId: ids.run!, itemKey: "tests", kind: "file", payload: { name: "log.txt", content: "ok" } });
          ids.file = evidence.id;
          return admin.dod.reject({ evidenceId: evidence.id, reason: "not enough" });
        },
      },
      { path: "dod.file", call: () => admin.dod.file({ evidenceId: ids.file! }) },
      {
        path: "run.requestApproval",
        call: () =>
          runner.run.requestApproval({
            runId: ids.run!,
            leaseToken: lease,
            requestId: "req-1",
            tool: "run_command",
            subject: { kind: "command", command: "make" },
          }),
      },
      { path: "run.approvals", call: () => admin.run.approvals({ runId: ids.run! }) },
      { path: "run.approve", call: () => admin.run.approve({ runId: ids.run!, requestId: "req-1", decision: "approve" }) },
      {
        path: "run.expireApproval",
        call: async () => {
          await runner.run.requestApproval({
            runId: ids.run!,
            leaseToken: lease,
            requestId: "req-2",
            tool: "run_command",
            subject: { kind: "command", command: "make" },
          });
          return runner.run.expireApproval({ runId: ids.run!, leaseToken: lease, requestId: "req-2" });
        },
      },
      { path: "run.byId", call: () => admin.run.byId({ runId: ids.run! }) },
      { path: "run.list", call: () => admin.run.list({ workspaceId: ws.id }) },
      { path: "run.mergeability", call: () => admin.run.mergeability({ runId: ids.run! }) },
      { path: "run.provenance", call: () => admin.run.provenance({ runId: ids.run! }) },
      { path: "run.cancel", call: () => admin.run.cancel({ runId: ids.run!, reason: "enough" }) },
      {
        path: "run.complete",
        call: () =>
          runner.run.complete({
            runId: ids.run!,
            leaseToken: lease,
            status: "cancelled",
            output: {
              diff: "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# app\n+# app!\n",
              headCommit: "b".repeat(40),
              transcript: [{ role: "user", content: "Do it" }],
            },
          }),
      },
      { path: "run.thread", call: () => admin.run.thread({ cardId: ids.card! }) },
      {
        path: "review.comment",
        call: async () => (ids.comment = (await admin.review.comment({ runId: ids.run!, path: "README.md", line: 1, side: "new", body: "louder" })).id),
      },
      { path: "review.list", call: () => admin.review.list({ runId: ids.run! }) },
      { path: "review.resolve", call: () => admin.review.resolve({ commentId: ids.comment! }) },
      {
        path: "run.followUp",
        call: async () => (ids.followUp = (await admin.run.followUp({ runId: ids.run!, message: "again", commentIds: [ids.comment!] })).id),
      },
      { path: "review.delete", call: () => admin.review.delete({ commentId: ids.comment! }) },
      {
        path: "run.retry",
        call: async () => admin.run.cancel({ runId: (await admin.run.retry({ runId: ids.followUp!, command: "true" })).id }).catch(() => null),
        refuses: "RUN_ACTIVE",
      },
      { path: "run.updateFromBase", call: () => admin.run.updateFromBase({ runId: ids.followUp! }), refuses: "RUN_ACTIVE" },
      { path: "run.resolveConflicts", call: () => admin.run.resolveConflicts({ runId: ids.followUp! }), refuses: "RUN_ACTIVE" },
      { path: "worktree.list", call: async () => (ids.worktree = (await admin.worktree.list({ workspaceId: ws.id }))[0]!.id) },
      { path: "worktree.remove", call: () => admin.worktree.remove({ worktreeId: ids.worktree! }) },
      { path: "worktree.markRemoved", call: () => runner.worktree.markRemoved({ runId: ids.run!, path: join(api.db.dir, "wt") }) },
      { path: "run.merge", call: () => admin.run.merge({ runId: ids.run! }), refuses: "INVALID_STATE" },
      // No merge is waiting for its re-verification here: nothing to claim, a lease nobody holds.
      { path: "run.claimVerification", call: () => runner.run.claimVerification({ workspaceId: ws.id, waitMs: 0 }) },
      {
        path: "run.heartbeatVerification",
        call: () => runner.run.heartbeatVerification({ runId: ids.run!, verificationId: ids.run!, leaseToken: lease }),
        refuses: "LEASE_LOST",
      },
      {
        path: "run.completeVerification",
        call: () =>
          runner.run.completeVerification({
            runId: ids.run!,
            verificationId: ids.run!,
            leaseToken: lease,
            baseCommit: "a".repeat(40),
            branchCommit: "b".repeat(40),
            head: null,
            setup: null,
            checks: [],
          }),
        refuses: "LEASE_LOST",
      },
      { path: "run.cancelVerification", call: () => admin.run.cancelVerification({ runId: ids.run! }), refuses: "NOT_CANCELLABLE" },
      { path: "run.abort", call: () => admin.run.abort({ runId: ids.run!, reason: "done" }) },
      { path: "card.archive", call: () => admin.card.archive({ cardId: ids.card! }) },
      { path: "card.restore", call: () => admin.card.restore({ cardId: ids.card! }) },
      {
        path: "card.purge",
        call: async () => {
          const card = await admin.card.create({ boardId: ids.board!, projectId: ids.project!, title: "Purged" });
          await admin.card.archive({ cardId: card.id });
          return admin.card.purge({ cardId: card.id, confirm: "Purged" });
        },
      },
      { path: "board.rename", call: () => admin.board.rename({ boardId: ids.board!, name: "Main board" }) },
      { path: "board.archive", call: () => admin.board.archive({ boardId: ids.board! }) },
      { path: "board.restore", call: () => admin.board.restore({ boardId: ids.board! }) },
      {
        path: "board.purge",
        call: async () => {
          const board = await admin.board.create({ workspaceId: ws.id, name: "Gone" });
          await admin.board.archive({ boardId: board.id });
          return admin.board.purge({ boardId: board.id, confirm: "Gone" });
        },
      },
      { path: "project.archive", call: () => admin.project.archive({ projectId: ids.project! }) },
      { path: "project.restore", call: () => admin.project.restore({ projectId: ids.project! }) },
      {
        path: "project.purge",
        call: async () => {
          const project = await admin.project.create({ workspaceId: ws.id, name: "gone", repoPath: repo, baseBranch: "main" });
          await admin.project.archive({ projectId: project.id });
          return admin.project.purge({ projectId: project.id, confirm: "gone" });
        },
      },
    ];

    const all = [...procedurePaths("query"), ...procedurePaths("mutation"), ...procedurePaths("subscription")].sort();
    expect(steps.map((s) => s.path).sort()).toEqual(all);

    const carriers: string[] = [];
    for (const step of steps) {
      let answer: unknown;
      try {
        answer = await step.call();
      } catch (err) {
        if (!(err instanceof TRPCError) || !step.refuses) throw new Error(`${step.path} failed`, { cause: err });
        expect((err.cause as { reason?: string } | undefined)?.reason, step.path).toBe(step.refuses);
        answer = { error: err.message, cause: err.cause };
      }
      const keys = keysOf(answer);
      if (keys.has("tokenHash")) carriers.push(`${step.path}: tokenHash`);
      if (keys.has("password")) carriers.push(`${step.path}: password`);
      // A claim hands its lease to the claimant (a verification's only when there was one to claim).
      if (keys.has("leaseToken") !== (step.path === "run.claim") && step.path !== "run.claimVerification") carriers.push(`${step.path}: leaseToken`);
    }
    expect(carriers).toEqual([]);
  });
});
