import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
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
    expect(await failure(runnerA.run.completeVerification({ ...report, runId: runA.id, baseCommit: "main" }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "baseCommit",
    });
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
    ])
      expect((await failure(call())).code).toBe("FORBIDDEN");
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
    ])
      expect((await failure(call())).code).toBe("NOT_FOUND");
    // A comment must point at a line of the diff; paths are relative and stay inside.
    expect(await failure(api.admin.review.comment({ runId: run.id, path: "x.ts", line: 9, side: "new", body: "x" }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "line",
    });
    expect(await failure(api.admin.review.comment({ runId: run.id, path: "../etc/passwd", line: 1, side: "new", body: "x" }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "path",
    });
  });

  it("a member of workspace A cannot see workspace B", async () => {
    const memberA = await api.as("member", a.workspace.id);
    expect((await memberA.workspace.list()).map((w) => w.id)).toEqual([a.workspace.id]);
    expect((await failure(memberA.card.byId({ cardId: b.card.id }))).code).toBe("NOT_FOUND");
    expect((await failure(memberA.card.create({ boardId: a.board.id, projectId: b.project.id, title: "cross" }))).code).toBe("NOT_FOUND");
  });

  it("bad input answers BAD_REQUEST naming the field, and writes nothing", async () => {
    const prisma = api.core.deps.db.prisma;
    const before = {
      cards: await prisma.card.count(),
      runs: await prisma.run.count(),
      events: await prisma.runEvent.count(),
      ws: await prisma.workspace.count(),
    };
    const empty = await failure(api.admin.card.create({ boardId: a.board.id, projectId: a.project.id, title: "   " }));
    expect(empty).toMatchObject({ code: "BAD_REQUEST", field: "title" });
    // @ts-expect-error: an engine that does not exist
    expect(await failure(api.admin.run.create({ cardId: a.card.id, engine: "gpt" }))).toMatchObject({ code: "BAD_REQUEST", field: "engine" });
    expect(await failure(api.admin.run.create({ cardId: "../../etc/passwd" }))).toMatchObject({ code: "BAD_REQUEST", field: "cardId" });
    expect(await failure(api.admin.workspace.create({ name: "x", slug: "Not A Slug" }))).toMatchObject({ code: "BAD_REQUEST", field: "slug" });
    expect(await failure(api.admin.project.create({ workspaceId: a.workspace.id, name: "p", repoPath: "relative/path", baseBranch: "main" }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "repoPath",
    });
    expect(
      await failure(api.admin.project.create({ workspaceId: a.workspace.id, name: "p", repoPath: "/ok", baseBranch: "--upload-pack=evil" })),
    ).toMatchObject({ code: "BAD_REQUEST", field: "baseBranch" });
    expect(await failure(api.admin.run.create({ cardId: "missingcard" }))).toMatchObject({ code: "NOT_FOUND", reason: "NOT_FOUND" });
    expect(await failure(api.admin.workspace.create({ name: "dup", slug: "alpha" }))).toMatchObject({
      code: "CONFLICT",
      reason: "ALREADY_EXISTS",
      field: "slug",
    });
    const runner = await api.as("runner", a.workspace.id);
    expect(await failure(runner.run.appendEvents({ runId: "x", leaseToken: "y", events: [] }))).toMatchObject({ code: "BAD_REQUEST", field: "events" });
    expect(await failure(runner.run.claim({ workspaceId: a.workspace.id, waitMs: 60_000 }))).toMatchObject({ code: "BAD_REQUEST", field: "waitMs" });
    const after = {
      cards: await prisma.card.count(),
      runs: await prisma.run.count(),
      events: await prisma.runEvent.count(),
      ws: await prisma.workspace.count(),
    };
    expect(after).toEqual(before);
  });
});

type Who = "admin" | "member" | "viewer" | "outsider" | "pat-viewer";

/**
 * People: the same procedures through a person's session (admin, member, viewer of A; a
 * person in B only) and a personal token capped at viewer (of an admin of A). Every row
 * says who may; everyone else must be refused (FORBIDDEN, or NOT_FOUND outside the workspace).
 */
describe.each(testProviders)("authorization of people on %s", (provider) => {
  let api: TestApi;
  let a: Awaited<ReturnType<typeof seedBoard>>;
  let b: Awaited<ReturnType<typeof seedBoard>>;
  const callers = {} as Record<Who, Awaited<ReturnType<TestApi["person"]>>["caller"]>;
  let memberId = "";

  beforeAll(async () => {
    api = await startTestApi(provider);
    a = await seedBoard(api, "alpha");
    b = await seedBoard(api, "beta");
    const admin = await api.person("admin@a.test", { [a.workspace.id]: "admin" });
    callers.admin = admin.caller;
    const member = await api.person("member@a.test", { [a.workspace.id]: "member" });
    memberId = member.userId;
    callers.member = member.caller;
    callers.viewer = (await api.person("viewer@a.test", { [a.workspace.id]: "viewer" })).caller;
    callers.outsider = (await api.person("out@b.test", { [b.workspace.id]: "admin" })).caller;
    const { token } = await admin.caller.token.createPersonal({ name: "read-only", role: "viewer" });
    callers["pat-viewer"] = api.core.callerFor((await api.core.createContext({ authorization: `Bearer ${token}` })).principal);
  });
  afterAll(() => api.close());

  const everyone: Who[] = ["admin", "member", "viewer", "outsider", "pat-viewer"];
  type Row = { name: string; allowed: Who[]; global?: boolean; call: (c: (typeof callers)[Who]) => Promise<unknown> };
  const rows: Row[] = [
    { name: "workspace.byId", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.workspace.byId({ workspaceId: a.workspace.id }) },
    { name: "workspace.update", allowed: ["admin"], call: (c) => c.workspace.update({ workspaceId: a.workspace.id, name: "alpha" }) },
    {
      name: "workspace.create",
      allowed: [],
      global: true,
      call: (c) => c.workspace.create({ name: "new", slug: `new-${Math.random().toString(36).slice(2, 8)}` }),
    },
    { name: "board.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.board.list({ workspaceId: a.workspace.id }) },
    { name: "board.create", allowed: ["admin", "member"], call: (c) => c.board.create({ workspaceId: a.workspace.id, name: "x" }) },
    { name: "card.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.card.list({ boardId: a.board.id }) },
    { name: "card.create", allowed: ["admin", "member"], call: (c) => c.card.create({ boardId: a.board.id, projectId: a.project.id, title: "t" }) },
    { name: "card.update", allowed: ["admin", "member"], call: (c) => c.card.update({ cardId: a.card.id, description: "d" }) },
    { name: "project.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.project.list({ workspaceId: a.workspace.id }) },
    { name: "project.update", allowed: ["admin"], call: (c) => c.project.update({ projectId: a.project.id, testCommand: "true" }) },
    { name: "workflow.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.workflow.list({ workspaceId: a.workspace.id }) },
    {
      name: "workflow.list archived",
      allowed: ["admin", "member", "viewer", "pat-viewer"],
      call: (c) => c.workflow.list({ workspaceId: a.workspace.id, archived: true }),
    },
    {
      name: "workflow.previewTemplate",
      allowed: ["admin"],
      call: (c) => c.workflow.previewTemplate({ workspaceId: a.workspace.id, cardId: a.card.id, promptTemplate: "{{card.title}}" }),
    },
    {
      name: "workflow.restore",
      allowed: ["admin"],
      call: (c) => api.admin.workflow.list({ workspaceId: a.workspace.id }).then(([w]) => c.workflow.restore({ workflowId: w!.id })),
    },
    { name: "board.rename", allowed: ["admin"], call: (c) => c.board.rename({ boardId: a.board.id, name: "Main" }) },
    {
      name: "card.search archived",
      allowed: ["admin", "member", "viewer", "pat-viewer"],
      call: (c) => c.card.search({ boardId: a.board.id, query: "fix", archived: "include" }),
    },
    { name: "run.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.run.list({ workspaceId: a.workspace.id }) },
    { name: "run.create", allowed: ["admin", "member"], call: (c) => c.run.create({ cardId: a.card.id, engine: "command", command: "true" }) },
    { name: "token.list", allowed: ["admin"], call: (c) => c.token.list({ workspaceId: a.workspace.id }) },
    { name: "token.create", allowed: ["admin"], call: (c) => c.token.create({ workspaceId: a.workspace.id, role: "runner", name: "r" }) },
    { name: "member.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.member.list({ workspaceId: a.workspace.id }) },
    { name: "member.changeRole", allowed: ["admin"], call: (c) => c.member.changeRole({ workspaceId: a.workspace.id, userId: memberId, role: "member" }) },
    { name: "invitation.create", allowed: ["admin"], call: (c) => c.invitation.create({ workspaceId: a.workspace.id, role: "viewer" }) },
    { name: "invitation.list", allowed: ["admin"], call: (c) => c.invitation.list({ workspaceId: a.workspace.id }) },
    { name: "runner.list", allowed: ["admin", "member", "viewer", "pat-viewer"], call: (c) => c.runner.list({ workspaceId: a.workspace.id }) },
    { name: "run.claim", allowed: [], call: (c) => c.run.claim({ workspaceId: a.workspace.id }) },
  ];

  it.each(rows)("$name", async (row) => {
    const unexpected: string[] = [];
    for (const who of everyone) {
      let outcome: string;
      try {
        await row.call(callers[who]);
        outcome = "allowed";
      } catch (err) {
        if (!(err instanceof TRPCError)) throw err;
        outcome = err.code;
      }
      const expected = row.allowed.includes(who) ? "allowed" : who === "outsider" && !row.global ? "NOT_FOUND" : "FORBIDDEN";
      if (outcome !== expected) unexpected.push(`${who}: ${outcome}, expected ${expected}`);
    }
    expect(unexpected).toEqual([]);
  });

  it("a person in workspace B sees only B", async () => {
    expect((await callers.outsider.workspace.list()).map((w) => w.id)).toEqual([b.workspace.id]);
    expect((await callers.member.workspace.list()).map((w) => w.id)).toEqual([a.workspace.id]);
  });

  it("a removed member loses access at once; the last admin stays", async () => {
    const { cookie, userId } = await api.person("leaving@a.test", { [a.workspace.id]: "member" });
    // Each request resolves the session again, as over HTTP.
    const request = async () => api.core.callerFor((await api.core.createContext({ cookie })).principal);
    expect(await (await request()).board.list({ workspaceId: a.workspace.id })).toBeDefined();
    await callers.admin.member.remove({ workspaceId: a.workspace.id, userId });
    expect((await failure((await request()).board.list({ workspaceId: a.workspace.id }))).code).toBe("NOT_FOUND");
    const admins = (await callers.admin.member.list({ workspaceId: a.workspace.id })).filter((m) => m.role === "admin");
    expect(admins).toHaveLength(1);
    expect(await failure(callers.admin.member.changeRole({ workspaceId: a.workspace.id, userId: admins[0]!.userId, role: "member" }))).toMatchObject({
      code: "CONFLICT",
      reason: "LAST_ADMIN",
    });
  });

  it("an invitation link is used once, by the invited email only, and a revoked one not at all", async () => {
    const inv = await callers.admin.invitation.create({ workspaceId: a.workspace.id, role: "member", email: "new@a.test" });
    expect(await api.anonymous.invitation.preview({ code: inv.code })).toMatchObject({ workspaceName: "alpha", role: "member" });
    const wrong = await api.person("wrong@a.test", {});
    expect((await failure(wrong.caller.invitation.accept({ code: inv.code }))).code).toBe("FORBIDDEN");
    const invited = await api.person("new@a.test", {});
    expect(await invited.caller.invitation.accept({ code: inv.code })).toMatchObject({ workspaceId: a.workspace.id, role: "member" });
    expect(await failure(invited.caller.invitation.accept({ code: inv.code }))).toMatchObject({ code: "NOT_FOUND", reason: "INVITATION_INVALID" });
    const again = api.core.callerFor((await api.core.createContext({ cookie: invited.cookie })).principal);
    expect(await again.board.list({ workspaceId: a.workspace.id })).toBeDefined();
    const revoked = await callers.admin.invitation.create({ workspaceId: a.workspace.id, role: "admin" });
    await callers.admin.invitation.revoke({ invitationId: revoked.id });
    expect((await failure(wrong.caller.invitation.accept({ code: revoked.code }))).reason).toBe("INVITATION_INVALID");
  });

  it("a revoked personal token stops at once, and a token never outranks its person", async () => {
    const { token, id } = await callers.member.token.createPersonal({ name: "too much", role: "admin" });
    const asToken = async () => api.core.callerFor((await api.core.createContext({ authorization: `Bearer ${token}` })).principal);
    // Capped by the person's role: a member's admin token is a member.
    expect((await failure((await asToken()).token.list({ workspaceId: a.workspace.id }))).code).toBe("FORBIDDEN");
    expect(await (await asToken()).card.create({ boardId: a.board.id, projectId: a.project.id, title: "via token" })).toMatchObject({ title: "via token" });
    expect((await callers.member.token.listPersonal()).map((t) => t.id)).toContain(id);
    // Nobody else can revoke or see it.
    expect((await failure(callers.admin.token.revoke({ tokenId: id }))).code).toBe("NOT_FOUND");
    await callers.member.token.revoke({ tokenId: id });
    expect((await failure((await asToken()).board.list({ workspaceId: a.workspace.id }))).code).toBe("UNAUTHORIZED");
  });
});
