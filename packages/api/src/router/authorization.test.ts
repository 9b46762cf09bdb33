import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** Who may do what, and what bad input gets back. */

describe.each(testProviders)("authorization and input on %s", (provider) => {
  let api: TestApi;
  let a: Awaited<ReturnType<typeof seedBoard>>;
  let b: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi(provider);
    a = await seedBoard(api, "alpha");
    b = await seedBoard(api, "beta");
  });
  afterAll(() => api.close());

  it("refuses anonymous callers everywhere but health", async () => {
    expect((await failure(api.anonymous.workspace.list())).code).toBe("UNAUTHORIZED");
    expect((await failure(api.anonymous.run.claim({ workspaceId: a.workspace.id }))).code).toBe("UNAUTHORIZED");
    expect((await failure(api.anonymous.card.list({ boardId: a.board.id }))).code).toBe("UNAUTHORIZED");
    expect(await api.anonymous.health.check()).toEqual({ status: "ok", db: provider, version: expect.any(String) });
  });

  it("a revoked token stops working at once", async () => {
    const { caller: member, token } = await api.withToken("member", a.workspace.id);
    const tokens = await api.admin.token.list({ workspaceId: a.workspace.id });
    const row = tokens.find((t) => token.startsWith(t.prefix))!;
    expect(await member.board.list({ workspaceId: a.workspace.id })).toHaveLength(1);
    await api.admin.token.revoke({ tokenId: row.id });
    const again = api.core.callerFor((await api.core.createContext({ authorization: `Bearer ${token}` })).principal);
    expect((await failure(again.board.list({ workspaceId: a.workspace.id }))).code).toBe("UNAUTHORIZED");
    // Tokens are stored hashed: the secret is nowhere in the table.
    const stored = await api.core.deps.db.prisma.apiToken.findMany();
    expect(stored.some((t) => JSON.stringify(t).includes(token))).toBe(false);
  });

  it("viewers read but cannot create; members create but cannot administer", async () => {
    const viewer = await api.as("viewer", a.workspace.id);
    expect(await viewer.card.list({ boardId: a.board.id })).toHaveLength(1);
    expect((await failure(viewer.card.create({ boardId: a.board.id, projectId: a.project.id, title: "x" }))).code).toBe("FORBIDDEN");
    expect((await failure(viewer.run.create({ cardId: a.card.id }))).code).toBe("FORBIDDEN");
    expect((await failure(viewer.run.claim({ workspaceId: a.workspace.id }))).code).toBe("FORBIDDEN");

    const member = await api.as("member", a.workspace.id);
    const card = await member.card.create({ boardId: a.board.id, projectId: a.project.id, title: "by member" });
    expect(card.title).toBe("by member");
    expect((await failure(member.token.create({ workspaceId: a.workspace.id, role: "admin", name: "escalate" }))).code).toBe("FORBIDDEN");
    expect((await failure(member.workspace.create({ name: "n", slug: "n" }))).code).toBe("FORBIDDEN");
    expect((await failure(member.project.create({ workspaceId: a.workspace.id, name: "p", repoPath: "/x", baseBranch: "main" }))).code).toBe("FORBIDDEN");

    const wsAdmin = await api.as("admin", a.workspace.id);
    expect((await failure(wsAdmin.workspace.create({ name: "n", slug: "n2" }))).code).toBe("FORBIDDEN");
    const t = await wsAdmin.token.create({ workspaceId: a.workspace.id, role: "member", name: "ok" });
    expect(t.token).toMatch(/^ab_/);
  });

  it("a runner token only claims and reports in its own workspace and sees nothing of another", async () => {
    const runnerA = await api.as("runner", a.workspace.id);
    const runB = await api.admin.run.create({ cardId: b.card.id, engine: "command", command: "true" });
    // Another workspace's objects do not exist for it.
    expect((await failure(runnerA.run.claim({ workspaceId: b.workspace.id }))).code).toBe("NOT_FOUND");
    expect((await failure(runnerA.run.byId({ runId: runB.id }))).code).toBe("NOT_FOUND");
    expect((await failure(runnerA.board.list({ workspaceId: b.workspace.id }))).code).toBe("NOT_FOUND");
    expect((await failure(runnerA.run.cancel({ runId: runB.id }))).code).toBe("NOT_FOUND");
    // Nor may it read or change its own workspace's board.
    expect((await failure(runnerA.card.list({ boardId: a.board.id }))).code).toBe("FORBIDDEN");
    expect((await failure(runnerA.run.create({ cardId: a.card.id }))).code).toBe("FORBIDDEN");
    expect((await failure(runnerA.run.list({ workspaceId: a.workspace.id }))).code).toBe("FORBIDDEN");
    // B's run is untouched.
    expect((await api.admin.run.byId({ runId: runB.id })).status).toBe("queued");
    // Its own workspace's work it may claim, and then read that run.
    const runA = await api.admin.run.create({ cardId: a.card.id, engine: "command", command: "true" });
    const claim = await runnerA.run.claim({ workspaceId: a.workspace.id });
    expect(claim?.run.id).toBe(runA.id);
    expect((await runnerA.run.byId({ runId: runA.id })).status).toBe("claimed");
  });

  it("merge re-verification: runners of the workspace claim and report it, admins cancel it, nobody else", async () => {
    const runB = await api.admin.run.create({ cardId: b.card.id, engine: "command", command: "true" });
    const runnerA = await api.as("runner", a.workspace.id);
    const member = await api.as("member", a.workspace.id);
    const viewer = await api.as("viewer", a.workspace.id);
    const lease = { runId: runB.id, verificationId: runB.id, leaseToken: "00000000-0000-4000-8000-000000000000" };
    const report = { ...lease, baseCommit: "a".repeat(40), branchCommit: "b".repeat(40), head: null, setup: null, checks: [] };
    expect((await failure(api.anonymous.run.claimVerification({ workspaceId: a.workspace.id }))).code).toBe("UNAUTHORIZED");
    for (const who of [member, viewer]) {
      expect((await failure(who.run.claimVerification({ workspaceId: a.workspace.id }))).code).toBe("FORBIDDEN");
      expect((await failure(who.run.cancelVerification({ runId: runB.id }))).code).toBe("NOT_FOUND");
    }
    expect((await failure(member.run.heartbeatVerification(lease))).code).toBe("NOT_FOUND");
    // Another workspace's runs do not exist for a runner of A.
    expect((await failure(runnerA.run.claimVerification({ workspaceId: b.workspace.id }))).code).toBe("NOT_FOUND");
    expect((await failure(runnerA.run.heartbeatVerification(lease))).code).toBe("NOT_FOUND");
    expect((await failure(runnerA.run.completeVerification(report))).code).toBe("NOT_FOUND");
    expect((await failure(runnerA.run.cancelVerification({ runId: runB.id }))).code).toBe("NOT_FOUND");
    // In its own workspace a runner may not cancel (an admin's decision), nor a member.
    const runA = await api.admin.run.create({ cardId: a.card.id, engine: "command", command: "true" });
    expect((await failure(runnerA.run.cancelVerification({ runId: runA.id }))).code).toBe("FORBIDDEN");
    expect((await failure(member.run.cancelVerification({ runId: runA.id }))).code).toBe("FORBIDDEN");
    expect(await runnerA.run.claimVerification({ workspaceId: a.workspace.id, waitMs: 0 })).toBeNull();
    // Reports are validated: a commit must be a full commit id.
    expect(await failure(runnerA.run.completeVerification({ ...report, runId: runA.id, baseCommit: "main" }))).toMatchObject({ code: "BAD_REQUEST", field: "baseCommit" });
  });

  it("the review loop: a viewer can read a thread and its comments but do none of it; another workspace sees nothing", async () => {
    const runnerA = await api.as("runner", a.workspace.id, "loop-rig");
    await api.core.deps.db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
    const run = await api.admin.run.create({ cardId: a.card.id, engine: "command", command: "true" });
    const claim = await runnerA.run.claim({ workspaceId: a.workspace.id, runId: run.id });
    await runnerA.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    const diff = "diff --git a/x.ts b/x.ts\n--- a/x.ts\n+++ b/x.ts\n@@ -1 +1 @@\n-a\n+b\n";
    await runnerA.run.complete({ runId: run.id, leaseToken: claim!.leaseToken, status: "succeeded", output: { diff } });
    const comment = await api.admin.review.comment({ runId: run.id, path: "x.ts", line: 1, side: "new", body: "why b?" });

    const viewer = await api.as("viewer", a.workspace.id);
    expect((await viewer.review.list({ runId: run.id })).map((c) => c.id)).toEqual([comment.id]);
    expect((await viewer.run.thread({ cardId: a.card.id })).threads.length).toBeGreaterThan(0);
    for (const call of [
      () => viewer.run.followUp({ runId: run.id, message: "x" }),
      () => viewer.run.sendMessage({ runId: run.id, text: "x" }),
      () => viewer.review.comment({ runId: run.id, path: "x.ts", line: 1, side: "new", body: "x" }),
      () => viewer.review.resolve({ commentId: comment.id }),
      () => viewer.review.delete({ commentId: comment.id }),
      () => runnerA.run.followUp({ runId: run.id, message: "x" }),
      () => viewer.run.retry({ runId: run.id }),
      () => viewer.run.updateFromBase({ runId: run.id }),
      () => viewer.run.resolveConflicts({ runId: run.id }),
    ]) expect((await failure(call())).code).toBe("FORBIDDEN");
    // Only its author or an admin deletes a comment.
    const member = await api.as("member", a.workspace.id, "other-member");
    expect((await failure(member.review.delete({ commentId: comment.id }))).code).toBe("FORBIDDEN");

    const memberB = await api.as("member", b.workspace.id);
    for (const call of [
      () => memberB.run.followUp({ runId: run.id, message: "x" }),
      () => memberB.run.sendMessage({ runId: run.id, text: "x" }),
      () => memberB.review.list({ runId: run.id }),
      () => memberB.review.resolve({ commentId: comment.id }),
      () => memberB.run.thread({ cardId: a.card.id }),
    ]) expect((await failure(call())).code).toBe("NOT_FOUND");
    // A comment must point at a line of the diff; paths are relative and stay inside.
    expect(await failure(api.admin.review.comment({ runId: run.id, path: "x.ts", line: 9, side: "new", body: "x" }))).toMatchObject({ code: "BAD_REQUEST", field: "line" });
    expect(await failure(api.admin.review.comment({ runId: run.id, path: "../etc/passwd", line: 1, side: "new", body: "x" }))).toMatchObject({ code: "BAD_REQUEST", field: "path" });
  });

  it("a member of workspace A cannot see workspace B", async () => {
    const memberA = await api.as("member", a.workspace.id);
    expect((await memberA.workspace.list()).map((w) => w.id)).toEqual([a.workspace.id]);
    expect((await failure(memberA.card.byId({ cardId: b.card.id }))).code).toBe("NOT_FOUND");
    expect((await failure(memberA.card.create({ boardId: a.board.id, projectId: b.project.id, title: "cross" }))).code).toBe("NOT_FOUND");
  });

  it("bad input answers BAD_REQUEST naming the field, and writes nothing", async () => {
    const prisma = api.core.deps.db.prisma;
    const before = { cards: await prisma.card.count(), runs: await prisma.run.count(), events: await prisma.runEvent.count(), ws: await prisma.workspace.count() };
    const empty = await failure(api.admin.card.create({ boardId: a.board.id, projectId: a.project.id, title: "   " }));
    expect(empty).toMatchObject({ code: "BAD_REQUEST", field: "title" });
    // @ts-expect-error: an engine that does not exist
    expect(await failure(api.admin.run.create({ cardId: a.card.id, engine: "gpt" }))).toMatchObject({ code: "BAD_REQUEST", field: "engine" });
    expect(await failure(api.admin.run.create({ cardId: "../../etc/passwd" }))).toMatchObject({ code: "BAD_REQUEST", field: "cardId" });
    expect(await failure(api.admin.workspace.create({ name: "x", slug: "Not A Slug" }))).toMatchObject({ code: "BAD_REQUEST", field: "slug" });
    expect(await failure(api.admin.project.create({ workspaceId: a.workspace.id, name: "p", repoPath: "relative/path", baseBranch: "main" }))).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    expect(await failure(api.admin.project.create({ workspaceId: a.workspace.id, name: "p", repoPath: "/ok", baseBranch: "--upload-pack=evil" }))).toMatchObject({ code: "BAD_REQUEST", field: "baseBranch" });
    expect(await failure(api.admin.run.create({ cardId: "missingcard" }))).toMatchObject({ code: "NOT_FOUND", reason: "NOT_FOUND" });
    expect(await failure(api.admin.workspace.create({ name: "dup", slug: "alpha" }))).toMatchObject({ code: "CONFLICT", reason: "ALREADY_EXISTS", field: "slug" });
    const runner = await api.as("runner", a.workspace.id);
    expect(await failure(runner.run.appendEvents({ runId: "x", leaseToken: "y", events: [] }))).toMatchObject({ code: "BAD_REQUEST", field: "events" });
    expect(await failure(runner.run.claim({ workspaceId: a.workspace.id, waitMs: 60_000 }))).toMatchObject({ code: "BAD_REQUEST", field: "waitMs" });
    const after = { cards: await prisma.card.count(), runs: await prisma.run.count(), events: await prisma.runEvent.count(), ws: await prisma.workspace.count() };
    expect(after).toEqual(before);
  });
});
